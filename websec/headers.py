"""Response headers every page of both apps carries: no sniffing, no framing, a strict CSP, no caching.

The templates load only their own static files (no inline script, style or handler), so the
policy can forbid everything else outright instead of weakening itself with ``'unsafe-inline'``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Documents other than HTML (PDF printouts, scans, JSON) need no policy of their own but must
# still never be framed by another site.
NON_HTML_POLICY = "frame-ancestors 'none'"


def _flag(value: object) -> bool:
    """A setting that may come from the environment as text ("0", "false")."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


class AutoSecureSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie ``Secure`` whenever the request came over HTTPS (or the setting says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if _flag(app.config.get("SESSION_COOKIE_SECURE")):
            return True
        try:
            return request.is_secure
        except RuntimeError:  # outside a request
            return False


def _secure_cookies(response: Response) -> None:
    """Add ``Secure`` to every cookie set over HTTPS (large-font switch, CSRF, anything added later)."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if "; secure" not in cookie.lower():
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)


def install_headers(app: Flask, *, static_endpoints: tuple[str, ...] = ("static",)) -> None:
    """Add the safety headers to every response of ``app``.

    Every page but the static files is ``no-store``: case pages, lists, scans and printouts hold
    residents' data, and a shared village PC must not keep them in its browser cache.
    """
    app.session_interface = AutoSecureSessionInterface()

    def _safety_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        is_html = (response.mimetype or "") == "text/html"
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY if is_html else NON_HTML_POLICY)
        if request.endpoint not in static_endpoints:
            headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")
        if request.is_secure or _flag(app.config.get("SESSION_COOKIE_SECURE")):
            _secure_cookies(response)
        return response

    # after_request functions run last-registered first: put this one first so it runs after
    # every other (Flask-Login's remember-cookie hook included) and sees every cookie they set
    app.after_request_funcs.setdefault(None, []).insert(0, _safety_headers)
