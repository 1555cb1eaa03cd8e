"""The hub's web safety: headers on every response, login throttling, idle sessions, county roles.

The rules live in ``websec`` (shared with the station); this module binds them to the hub.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_login import current_user

from sync import protocol
from sync.hub.extensions import login_manager
from sync.hub.models import HubAccessLog, HubLoginThrottle
from sync.hub.models.users import APPROVER, COUNTY_ADMIN
from sync.hub.services import access_log
from websec.headers import install_headers
from websec.logins import LoginGuard, install_idle_timeout
from websec.proxy import trust_proxies

CASEWORK = (APPROVER, COUNTY_ADMIN)  # cases, conflicts, the station list
ADMIN = (COUNTY_ADMIN,)  # catalogs, station settings


def login_guard() -> LoginGuard:
    """Failed-login counters in the hub database, shared by every worker."""
    return LoginGuard(HubLoginThrottle)


def require_role(*roles: str) -> None:
    """For a blueprint's ``before_request``: log in first, then a 403 page for any other role."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if current_user.role not in roles:
        abort(403)


def log_access(action: str, *, case_id: str = "", obj: str = "", detail: str = "",
               actor_name: str = "") -> HubAccessLog:
    """Record what the logged-in county user (or ``actor_name``, before login) just did, from this address."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return access_log.record(user, action, address=request.remote_addr, case_id=case_id, obj=obj,
                             detail=detail, actor_name=actor_name)


def _log_idle_logout() -> None:
    log_access("logout", obj=current_user.username, detail="长时间未操作，自动退出")


def configure_security(app: Flask) -> None:
    """Safety headers on every response; idle sessions log out; ``TRUSTED_PROXIES`` hops believed.

    The signed API (``/api/``) has no cookie session and no login user: it is authenticated by
    signatures, and opening a session and loading a user cost most of a request's CPU.
    """
    install_headers(app, stateless_prefixes=(protocol.API_PREFIX,))
    install_idle_timeout(app, login_endpoint="auth.login", before_logout=_log_idle_logout,
                         stateless_prefixes=(protocol.API_PREFIX,))
    trust_proxies(app)
