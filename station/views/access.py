"""Role checks: every route names the roles that may use it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for
from flask_login import current_user

from station.models import AccessLog
from station.services import access_log

FRONT_OFFICE = ("agent", "clerk", "admin")
TOWNSHIP = ("clerk", "admin")
ADMIN = ("admin",)


def safe_local_path(target: str | None) -> str:
    """Only a path on this station: never an off-site redirect (after login, after a toggle)."""
    if not target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("main.index")
    return target


def log_access(action: str, *, case_id: str = "", obj: str = "", detail: str = "",
               actor_name: str = "") -> AccessLog:
    """Record what the logged-in user (or ``actor_name``, before login) just did, from this address."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return access_log.record(action, user=user, actor_name=actor_name, address=request.remote_addr,
                             case_id=case_id, obj=obj, detail=detail)
