"""Station staff: village agents, township clerks and station admins."""

from __future__ import annotations

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField, IntegerField, TextField
from werkzeug.security import generate_password_hash

from rules.labels import STATION_ROLES
from station.models.base import BaseModel, now
from websec.logins import check_password, new_session_token

ROLES = STATION_ROLES  # one table, shared with the county's view of a station's log


class User(UserMixin, BaseModel):
    username = CharField(max_length=40, unique=True)
    name = CharField(max_length=40)
    role = CharField(max_length=10)
    password_hash = CharField(max_length=256)
    phone = CharField(max_length=20, default="")
    id_number_stored = TextField(default="")  # her own ID number, sealed (services.users.own_id_number; 0014)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=now)
    session_token = CharField(max_length=32, default=new_session_token)

    @property
    def is_active(self) -> bool:  # flask-login refuses disabled users with this
        return bool(self.active)

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)

    def get_id(self) -> str:
        """Session id; its token is rotated on logout and password change, ending every copy of the cookie."""
        return f"{self.id}.{self.session_token}"

    def set_password(self, password: str) -> None:
        """Set a new password; sessions made with the old one stop working."""
        self.password_hash = generate_password_hash(password)
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password(self.password_hash, password)

    def end_sessions(self) -> None:
        """Rotate the session token: every cookie issued so far (a copied one too) is refused."""
        self.session_token = new_session_token()
        User.update(session_token=self.session_token).where(User.id == self.id).execute()


class LoginThrottle(BaseModel):
    """Failed logins counted per account name and per client address (see websec.logins)."""

    key = CharField(max_length=120, unique=True)
    failures = IntegerField(default=0)
    window_started_at = DateTimeField()
    locked_until = DateTimeField(null=True, index=True)
