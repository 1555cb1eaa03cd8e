"""Staff accounts: creation, disabling, password rules."""

from __future__ import annotations

import re

from peewee import IntegrityError

from station.extensions import db
from station.models import User
from station.models.users import ROLES
from station.services import identity, personal
from station.services.errors import DomainError, ValidationFailed

USERNAME = re.compile(r"^[a-zA-Z0-9_.-]{3,40}$")
MIN_PASSWORD = 8


def check_password_strength(password: str) -> str | None:
    """Return a Chinese message when a password is too weak for a PC other people share."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少{MIN_PASSWORD}位。"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字。"
    return None


def create_user(username: str, name: str, role: str, password: str, phone: str = "") -> User:
    """Create a staff account; refuses duplicates, unknown roles, weak passwords and a phone no one can dial."""
    errors: dict[str, str] = {}
    username = (username or "").strip()
    name = (name or "").strip()
    if not USERNAME.match(username):
        errors["username"] = "用户名为3–40位字母、数字或 _ . -。"
    if not name:
        errors["name"] = "请填写姓名。"
    if role not in ROLES:
        errors["role"] = "请选择角色：代办员、窗口人员或站长。"
    weak = check_password_strength(password or "")
    if weak:
        errors["password"] = weak
    checked_phone = ""
    if (phone or "").strip():  # printed on receipts for the resident to call: one she can dial, as on the profile
        try:
            checked_phone = identity.check_phone(phone)
        except identity.IdentityError as exc:
            errors["phone"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, name=name, role=role, phone=checked_phone)
    user.set_password(password)
    try:
        with db.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise ValidationFailed({"username": "该用户名已存在。"}) from None
    return user


def set_active(user_id: int, active: bool, acting_user: User) -> User:
    """Disable or enable an account; an admin cannot lock themself out."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise DomainError("没有这个用户。")
    if user.id == acting_user.id and not active:
        raise DomainError("不能停用自己的账号。")
    user.active = active
    user.save()
    return user


def reset_password(user_id: int, password: str) -> None:
    """Set a new password for a staff account (admin action)."""
    weak = check_password_strength(password or "")
    if weak:
        raise ValidationFailed({"password": weak})
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise DomainError("没有这个用户。")
    user.set_password(password)
    user.save()


def own_id_number(user: User) -> str:
    """A staff member's own ID number from her profile ("" when not set): fills the 代办人 fields."""
    return personal.unseal(user.id_number_stored) if user.id_number_stored else ""


def set_own_profile(user: User, id_number: str, phone: str) -> User:
    """Set her own ID number and work phone, so intake as 代办人 needs no typing (issue 19 item 8).

    Both are checked like an applicant's; the number is stored sealed. Nothing changes on a fault.
    """
    errors: dict[str, str] = {}
    number = ""
    if id_number.strip():
        try:
            number = identity.check_resident_id(id_number).value
        except identity.IdentityError as exc:
            errors["id_number"] = str(exc)
    checked_phone = ""
    if phone.strip():
        try:
            checked_phone = identity.check_phone(phone)
        except identity.IdentityError as exc:
            errors["phone"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    user.id_number_stored = personal.seal(number) if number else ""
    user.phone = checked_phone
    user.save()
    return user
