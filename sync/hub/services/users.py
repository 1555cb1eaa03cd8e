"""County user accounts: approvers and county admins."""

from __future__ import annotations

from peewee import IntegrityError
from werkzeug.security import generate_password_hash

from sync.hub.models import HubUser, utcnow
from sync.hub.models.users import APPROVER, ROLES
from sync.hub.services.errors import ValidationError
from websec.logins import check_password, new_session_token

MIN_PASSWORD_LENGTH = 8
NAME_MAX = 100  # HubUser.name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError("角色只能是 " + "、".join(f"{key}（{label}）" for key, label in ROLES.items()) + "。")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError(f"姓名最多 {NAME_MAX} 个字。")
    return name


def create_user(username: str, password: str, *, name: str = "", role: str = APPROVER) -> HubUser:
    """Create a county user (an approver unless told otherwise); the password is stored as a scrypt hash only.

    ``name`` is the person's name residents read as who decided; without one the login stands in.
    """
    username = (username or "").strip()
    if not username:
        raise ValidationError("请填写用户名。")
    name = _check_name(name)
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


def set_name(username: str, name: str) -> None:
    """Set the person's name shown as who acted (decisions, 整改, 回访) here and at the stations."""
    name = _check_name(name)
    if not name:
        raise ValidationError("请填写姓名。")
    if not HubUser.update(name=name).where(HubUser.username == username).execute():
        raise ValidationError(f"没有用户 {username}。")


def person_names() -> dict[str, str]:
    """Every county user's person name by login, for showing who acted; one without a name set
    stands as the login, so nothing is ever shown blank. The county's users are few."""
    return {u.username: (u.name or "").strip() or u.username
            for u in HubUser.select(HubUser.username, HubUser.name)}


def person_name(login: str | None) -> str:
    """One login's person name; a login with no account (a peer county's clerk, an older record)
    stands as it is, and no login is empty."""
    if not login:
        return ""
    user = HubUser.get_or_none(HubUser.username == login)
    return ((user.name or "").strip() if user else "") or login


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
