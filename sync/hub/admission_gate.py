"""The admission gate as WSGI middleware: a request turned away is answered before Flask sees it.

Inside Flask a 503 cost as much CPU as any other request (~400 µs: request context, URL
adapter, session, hooks, response object) for nothing accepted, and a burst brings hundreds of
them. Here it is a URL match (for the gated routes' paths only) and a few bytes of JSON.
The 503 keeps the shape Flask gave it: the same JSON (``error``, ``message``, ``server_time``,
``retry_after_s``), ``Retry-After``, ``no-store`` and the safety headers every answer carries.

An admitted request holds its slot until Flask's ``wsgi_app`` returns. By then Flask has run
the view, the after-request hooks and the teardown (the database connection is back in the
pool); what is left is handing bytes already in memory to the server. A guarded view must
therefore not stream its answer (all of them answer with ``reply``). Waiting for the server to
``close()`` the body instead would tie the slot to the client: a server or test client that
never closes would leak slots until the gate refused everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from sync import protocol
from sync.hub.admission import GATED, Admission, HubBusy
from websec.headers import safety_headers

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: What every 503 carries besides its length and Retry-After (same as ``reply`` + ``install_headers``).
_REFUSAL_HEADERS = (("Content-Type", "application/json"), ("Vary", "Accept-Encoding"),
                    *safety_headers("application/json"))


class AdmissionGate:
    """Run the requests of gated views only with a slot of ``gate``; answer the others 503 at once."""

    def __init__(self, app: Flask, inner: WSGIApp, gate: Admission) -> None:
        self.app = app
        self.inner = inner
        self.gate = gate
        self._adapter: MapAdapter | None = None
        self._gated: frozenset[str] = frozenset()
        self._prefixes: tuple[str, ...] = ()

    def _bind(self) -> MapAdapter:
        # on the first request, when every blueprint is registered; the adapter only reads the map
        self._gated = frozenset(name for name, view in self.app.view_functions.items()
                                if getattr(view, GATED, False))
        # the gated rules' fixed beginnings: any other path (a page, /api/v1/time) is not matched twice
        self._prefixes = tuple(rule.rule.split("<", 1)[0] for rule in self.app.url_map.iter_rules()
                               if rule.endpoint in self._gated)
        self._adapter = self.app.url_map.bind("hub")
        return self._adapter

    def is_gated(self, environ: Environ) -> bool:
        """Whether Flask would route this request to a gated view (the same URL map, matched once more)."""
        adapter = self._adapter or self._bind()
        path = environ.get("PATH_INFO") or "/"
        if not path.startswith(self._prefixes):
            return False
        try:
            endpoint, _args = adapter.match(path.encode("latin-1").decode("utf-8", "replace"),
                                            environ.get("REQUEST_METHOD", "GET"))
        except HTTPException:  # 404, 405, a slash redirect: Flask answers those
            return False
        return endpoint in self._gated

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.is_gated(environ):
            return self.inner(environ, start_response)
        try:
            self.gate.acquire()
        except HubBusy as busy:
            return refuse(busy.retry_after_s, start_response)
        try:
            return self.inner(environ, start_response)
        finally:
            self.gate.release()


def refuse(retry_after_s: int, start_response: StartResponse) -> list[bytes]:
    """The 503 a busy hub answers: unsigned (no station is known yet), acknowledging nothing."""
    body = protocol.json_text({"server_time": protocol.server_time(), "error": protocol.ERR_BUSY,
                               "message": protocol.ERROR_MESSAGES[protocol.ERR_BUSY],
                               "retry_after_s": retry_after_s}).encode("utf-8")
    start_response("503 SERVICE UNAVAILABLE", [*_REFUSAL_HEADERS, ("Content-Length", str(len(body))),
                                               ("Retry-After", str(retry_after_s))])
    return [body]


def install_admission_gate(app: Flask, gate: Admission) -> None:
    """Put the gate in front of ``app``'s WSGI callable (ProxyFix, installed later, goes outside it)."""
    app.wsgi_app = AdmissionGate(app, app.wsgi_app, gate)  # type: ignore[method-assign]
