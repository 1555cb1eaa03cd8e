"""Unbound extensions of the hub app, bound in :func:`sync.hub.create_app`.

The database is a :class:`peewee.DatabaseProxy` so models can be declared at import time and
pointed at SQLite (demo) or PostgreSQL (a real county) by configuration.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from peewee import DatabaseProxy

db = DatabaseProxy()
login_manager = LoginManager()
csrf = CSRFProtect()
