"""County user accounts: approvers and county admins."""

from __future__ import annotations

from peewee import IntegrityError
from werkzeug.security import generate_password_hash

from sync.hub.models import HubUser, utcnow
from sync.hub.models.users import APPROVER, ROLES
from sync.hub.services.errors import ValidationError
from websec.logins import check_password, new_session_token

MIN_PASSWORD_LENGTH = 8


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError("角色只能是 " + "、".join(f"{key}（{label}）" for key, label in ROLES.items()) + "。")


def create_user(username: str, password: str, *, name: str = "", role: str = APPROVER) -> HubUser:
    """Create a county user (an approver unless told otherwise); the password is stored as a scrypt hash only."""
    username = (username or "").strip()
    if not username:
        raise ValidationError("请填写用户名。")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    _check_role(role)
    try:
        return HubUser.create(username=username, name=name or username, role=role,
                              password_hash=generate_password_hash(password))
    except IntegrityError as exc:
        raise ValidationError(f"用户名 {username} 已存在。") from exc


def set_password(username: str, password: str) -> None:
    """Replace a user's password and end every session they have open (on every worker)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    HubUser.update(password_hash=generate_password_hash(password), session_token=new_session_token()).where(
        HubUser.username == username).execute()


def set_role(username: str, role: str) -> None:
    """Make a user an approver or a county admin; their open sessions end so the change takes hold at once."""
    _check_role(role)
    HubUser.update(role=role, session_token=new_session_token()).where(HubUser.username == username).execute()


def authenticate(username: str, password: str) -> HubUser | None:
    """Return the active user with these credentials, else None (same answer and same work for every failure).

    An unknown name is checked against a dummy hash, so timing does not tell which names exist.
    """
    user = HubUser.get_or_none(HubUser.username == (username or "").strip())
    if not check_password(user.password_hash if user else None, password) or not user.active:
        return None
    HubUser.update(last_login_at=utcnow()).where(HubUser.id == user.id).execute()
    return user
