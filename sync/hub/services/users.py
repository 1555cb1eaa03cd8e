"""County clerk accounts."""

from __future__ import annotations

from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from sync.hub.models import HubUser, utcnow
from sync.hub.services.errors import ValidationError

MIN_PASSWORD_LENGTH = 8


def create_user(username: str, password: str, *, name: str = "") -> HubUser:
    """Create a clerk; the password is stored as a scrypt hash only."""
    username = (username or "").strip()
    if not username:
        raise ValidationError("请填写用户名。")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    try:
        return HubUser.create(username=username, name=name or username,
                              password_hash=generate_password_hash(password))
    except IntegrityError as exc:
        raise ValidationError(f"用户名 {username} 已存在。") from exc


def set_password(username: str, password: str) -> None:
    """Replace a clerk's password (CLI ``create-user`` on an existing name)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    HubUser.update(password_hash=generate_password_hash(password)).where(HubUser.username == username).execute()


def authenticate(username: str, password: str) -> HubUser | None:
    """Return the active clerk with these credentials, else None (same answer for both failures)."""
    user = HubUser.get_or_none(HubUser.username == (username or "").strip())
    if user is None or not user.active or not check_password_hash(user.password_hash, password or ""):
        return None
    HubUser.update(last_login_at=utcnow()).where(HubUser.id == user.id).execute()
    return user
