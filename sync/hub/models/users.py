"""County clerks who log in to the hub's web UI."""

from __future__ import annotations

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField

from sync.hub.models.base import BaseModel, utcnow


class HubUser(UserMixin, BaseModel):
    """A county clerk; passwords are stored as Werkzeug scrypt hashes only."""

    username = CharField(max_length=64, unique=True)
    name = CharField(max_length=100, default="")
    password_hash = CharField(max_length=255)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login refuses sessions of deactivated clerks."""
        return bool(self.active)
