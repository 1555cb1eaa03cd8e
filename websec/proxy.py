"""Behind a reverse proxy or load balancer: take the client's address and scheme from its headers.

Without this, every login would come from the proxy's address (one failing clerk would lock the
whole county out of the address counter) and HTTPS would look like plain HTTP (no Secure cookies).
Only as many hops as ``TRUSTED_PROXIES`` says are believed; the default 0 believes none.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Wrap the app in ProxyFix for ``TRUSTED_PROXIES`` hops of X-Forwarded-For/-Proto/-Host."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
