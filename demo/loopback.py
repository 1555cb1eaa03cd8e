"""Serve a reference hub on loopback in a background thread: for the demo, e2e tests and bench.

A real HTTP server (werkzeug's threaded server), not a test client, so every byte crosses a
socket exactly as it would between a village PC and the county.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sync.hub import create_app
from sync.hub.config import Config
from sync.hub.extensions import db
from sync.hub.models import Station
from sync.hub.services import stations


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


def start_hub(instance: Path, host: str = "127.0.0.1", port: int = 0, config_class: type[Config] = Config,
              wrap: Any = None) -> ServedHub:
    """Create a hub app on `instance` (SQLite unless `config_class` names DATABASE_URL) and serve it."""
    app = create_app(config_class, instance)
    server, thread, url = serve_app(wrap(app) if wrap else app, host, port)
    return ServedHub(app, server, thread, url)


def register_station(app: Flask, code: str, name: str) -> str:
    """Register a station on the hub (or rotate its secret if known); return the secret."""
    with app.app_context(), db.connection_context():
        if Station.get_or_none(Station.code == code) is not None:
            return stations.rotate_secret(code)
        _station, secret = stations.create_station(code, name)
        return secret


def free_port() -> int:
    """A loopback port free now (the demo's county B and the benches' hubs take one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None,
                  host: str = "127.0.0.1") -> None:
    """Block until something accepts connections on host:port (a server on every address: on loopback)."""
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"child exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {port} after {timeout} s")


LOCAL_POSTGRES = "postgresql://{user}@127.0.0.1:5432/test"


def local_postgres_dsn() -> str | None:
    """The DSN of the PostgreSQL on this machine (db `test`, trust auth), or None if unreachable."""
    for user in ("postgres", "root"):
        dsn = LOCAL_POSTGRES.format(user=user)
        try:
            psycopg2.connect(dsn, connect_timeout=3).close()
            return dsn
        except psycopg2.Error:
            continue
    return None


@contextmanager
def throwaway_schema(dsn: str, prefix: str) -> Iterator[str]:
    """A fresh schema for one hub; yields its DATABASE_URL and drops the schema afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{dsn}?options=-csearch_path%3D{schema}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
