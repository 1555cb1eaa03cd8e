"""Role checks: every route names the roles that may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, request, url_for
from flask_login import current_user, login_required

from station.models import AccessLog
from station.services import access_log

F = TypeVar("F", bound=Callable[..., Any])

FRONT_OFFICE = ("agent", "clerk", "admin")
TOWNSHIP = ("clerk", "admin")
ADMIN = ("admin",)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Require a logged-in, active user whose role is one of `roles` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


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
