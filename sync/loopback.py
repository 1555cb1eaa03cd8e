"""Serve a reference hub on loopback in a background thread: for the demo, e2e tests and bench.

A real HTTP server (werkzeug's threaded server), not a test client, so every byte crosses a
socket exactly as it would between a village PC and the county.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class ServedHub:
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, threading.Thread, str]:
    """Serve any WSGI app on loopback; port 0 picks a free one."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.port}", daemon=True)
    thread.start()
    return server, thread, f"http://{host}:{server.port}"


def start_hub(instance: Path, host: str = "127.0.0.1", port: int = 0, config: dict[str, Any] | None = None,
              wrap: Any = None) -> ServedHub:
    """Create a hub app on `instance` (SQLite unless `config` names DATABASE_URL) and serve it."""
    from sync.hub import create_app

    settings = {"INSTANCE_PATH": str(instance)}
    settings.update(config or {})
    app = create_app(settings)
    server, thread, url = serve_app(wrap(app) if wrap else app, host, port)
    return ServedHub(app, server, thread, url)


def register_station(app: Flask, code: str, name: str) -> str:
    """Register a station on the hub (or rotate its secret if known); return the secret."""
    from sync.hub.extensions import db
    from sync.hub.models import Station
    from sync.hub.services import stations

    with app.app_context(), db.connection_context():
        if Station.get_or_none(Station.code == code) is not None:
            return stations.rotate_secret(code)
        _station, secret = stations.create_station(code, name)
        return secret
