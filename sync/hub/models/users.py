"""County staff who log in to the hub's web UI: approvers and county admins."""

from __future__ import annotations

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField, IntegerField

from sync.hub.models.base import BaseModel, utcnow
from websec.logins import new_session_token

APPROVER = "approver"
COUNTY_ADMIN = "admin"
ROLES = {APPROVER: "审批员", COUNTY_ADMIN: "县级管理员"}


class HubUser(UserMixin, BaseModel):
    """A county user; passwords are stored as Werkzeug scrypt hashes only.

    An approver processes cases; a county admin also publishes catalogs and sets station settings.
    """

    username = CharField(max_length=64, unique=True)
    name = CharField(max_length=100, default="")
    password_hash = CharField(max_length=255)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    role = CharField(max_length=16, default=APPROVER)
    session_token = CharField(max_length=32, default=new_session_token)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login refuses sessions of deactivated clerks."""
        return bool(self.active)

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)

    def get_id(self) -> str:
        """Session id with the user's token: rotating the token ends every copy of the cookie."""
        return f"{self.id}.{self.session_token}"

    def end_sessions(self) -> None:
        """Rotate the session token (logout, password reset): old cookies are refused on every worker."""
        self.session_token = new_session_token()
        HubUser.update(session_token=self.session_token).where(HubUser.id == self.id).execute()


class HubLoginThrottle(BaseModel):
    """Failed logins per account name and per client address, shared by every worker (websec.logins)."""

    key = CharField(max_length=120, unique=True)
    failures = IntegerField(default=0)
    window_started_at = DateTimeField()
    locked_until = DateTimeField(null=True, index=True)
