"""Station staff: village agents, township clerks and station admins."""

from __future__ import annotations

import hashlib

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField
from werkzeug.security import check_password_hash, generate_password_hash

from station.models.base import BaseModel, now

ROLES = {"agent": "代办员", "clerk": "窗口人员", "admin": "站长"}


class User(UserMixin, BaseModel):
    username = CharField(max_length=40, unique=True)
    name = CharField(max_length=40)
    role = CharField(max_length=10)
    password_hash = CharField(max_length=256)
    phone = CharField(max_length=20, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=now)

    @property
    def is_active(self) -> bool:  # flask-login refuses disabled users with this
        return bool(self.active)

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)

    def get_id(self) -> str:
        """Session and remember-me id; it changes with the password, so a reset logs the account out everywhere."""
        return f"{self.id}.{self.session_token}"

    @property
    def session_token(self) -> str:
        return hashlib.sha256(self.password_hash.encode("utf-8")).hexdigest()[:16]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
