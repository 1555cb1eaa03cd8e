"""Extensions created unbound; `create_app` binds them with `init_app`."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from peewee import DatabaseProxy

db = DatabaseProxy()
login_manager = LoginManager()
csrf = CSRFProtect()
