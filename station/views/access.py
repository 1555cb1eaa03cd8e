"""Role checks: every route names the roles that may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user, login_required

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
