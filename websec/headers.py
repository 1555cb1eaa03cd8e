"""Response headers every page of both apps carries: no sniffing, no framing, a strict CSP, no caching.

The templates load only their own static files (no inline script, style or handler), so the
policy can forbid everything else outright instead of weakening itself with ``'unsafe-inline'``.
"""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from websec.environment import yes_or_no

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


def _forced_secure(app: Flask) -> bool:
    """``SESSION_COOKIE_SECURE`` read as the settings are (websec.environment.yes_or_no): "否" is no.

    Both apps refuse a value that is neither at start (check_booleans); one given to an app that
    reads no settings (``with_overrides``) and still neither does not force ``Secure``, which on a
    plain http:// address would keep every login cookie out of the browser.
    """
    return yes_or_no(app.config.get("SESSION_COOKIE_SECURE")) is True


class AutoSecureSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie ``Secure`` whenever the request came over HTTPS (or the setting says so).

    Paths under ``stateless_prefixes`` (the hub's signed API) get a null session: no cookie is
    read, no user is loaded from it, nothing is signed and nothing is set. Opening and saving the
    cookie session was a good part of what every API request cost before any of our work.
    """

    def __init__(self, stateless_prefixes: tuple[str, ...] = ()) -> None:
        self.stateless_prefixes = stateless_prefixes

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if self.stateless_prefixes and request.path.startswith(self.stateless_prefixes):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        if _forced_secure(app):
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


def _fixed(html: bool) -> tuple[tuple[str, str], ...]:
    return (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY if html else NON_HTML_POLICY))


# (name, lower-case name, value): added unless the response set its own
_HTML_DEFAULTS = tuple((name, name.lower(), value) for name, value in _fixed(True))
_OTHER_DEFAULTS = tuple((name, name.lower(), value) for name, value in _fixed(False))


def safety_headers(mimetype: str) -> list[tuple[str, str]]:
    """Every safety header a non-static response of ``mimetype`` carries when it set none of its own.

    For answers written outside Flask (the hub's admission gate answers 503 before a request is
    built) so that they carry exactly what :func:`install_headers` adds to every other answer.
    """
    return [*_fixed(mimetype == "text/html"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def install_headers(app: Flask, *, static_endpoints: tuple[str, ...] = ("static",),
                    stateless_prefixes: tuple[str, ...] = ()) -> None:
    """Add the safety headers to every response of ``app``.

    Every page but the static files is ``no-store``: case pages, lists, scans and printouts hold
    residents' data, and a shared village PC must not keep them in its browser cache. Paths under
    ``stateless_prefixes`` have no cookie session (see :class:`AutoSecureSessionInterface`).
    """
    app.session_interface = AutoSecureSessionInterface(stateless_prefixes)

    def _safety_headers(response: Response) -> Response:
        headers = response.headers
        # the names present, read once: werkzeug's setdefault walks the whole list for each header
        present = {name.lower() for name in headers.keys()}
        for name, lower, value in _HTML_DEFAULTS if response.mimetype == "text/html" else _OTHER_DEFAULTS:
            if lower not in present:
                headers.add(name, value)
        if request.endpoint not in static_endpoints:
            if "cache-control" in present:
                headers["Cache-Control"] = "no-store"
            else:
                headers.add("Cache-Control", "no-store")
            if "pragma" not in present:
                headers.add("Pragma", "no-cache")
        if request.is_secure or _forced_secure(app):
            _secure_cookies(response)
        return response

    # after_request functions run last-registered first: put this one first so it runs after
    # every other (Flask-Login's remember-cookie hook included) and sees every cookie they set
    app.after_request_funcs.setdefault(None, []).insert(0, _safety_headers)
