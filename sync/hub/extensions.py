"""Unbound extensions of the hub app, bound in :func:`sync.hub.create_app`.

The database is a :class:`peewee.DatabaseProxy` so models can be declared at import time and
pointed at SQLite (demo) or PostgreSQL (a real county) by configuration. The key ring that
seals personal data is a :class:`peewee.Proxy` for the same reason: services seal and open
through it, and ``create_app`` points it at the ring in this instance's key file.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from peewee import DatabaseProxy, Proxy

db = DatabaseProxy()
key_ring = Proxy()  # a websec.sealing.KeyRing once create_app has run
login_manager = LoginManager()
csrf = CSRFProtect()
