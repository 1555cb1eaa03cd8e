"""The station's web safety: headers on every response, login throttling, idle sessions.

`configure_security(app)` is called from `create_app`; the rules themselves live in `websec`,
shared with the county hub.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

from station.models import LoginThrottle
from station.services import access_log
from websec.headers import install_headers
from websec.logins import LoginGuard, install_idle_timeout
from websec.proxy import trust_proxies


def login_guard() -> LoginGuard:
    """The failed-login counters of this station (kept in its database, so a restart forgets nothing)."""
    return LoginGuard(LoginThrottle)


def configure_security(app: Flask) -> None:
    """Safety headers on every response; a session idle for `IDLE_TIMEOUT_MINUTES` logs out."""
    install_headers(app)
    # the idle cookie itself is refused from then on (its last-seen time is signed into it)
    install_idle_timeout(app, login_endpoint="auth.login", before_logout=_log_idle_logout)
    trust_proxies(app)


def _log_idle_logout() -> None:
    access_log.record("logout", user=current_user._get_current_object(), address=request.remote_addr,
                      obj=current_user.username, detail="长时间未操作，自动退出")
