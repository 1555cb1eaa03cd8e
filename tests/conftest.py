"""Shared fixtures: a station app on a temporary SQLite file, users of every role, a logged-in client."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from station import create_app
from station.extensions import db
from station.services.users import create_user
from station.setup import initialise
from tests.fixtures.config import station_test_config

PASSWORDS = {"agent": "agent-pass-1", "clerk": "clerk-pass-1", "admin": "admin-pass-1"}
STATION_AREA = "141081102201"


def make_station_app(tmp: Path, **overrides: object) -> Flask:
    """A station app with its own database, demo catalog, holiday table and one user per role."""
    app = create_app(station_test_config(tmp, **overrides), instance_path=str(tmp / "instance"))
    initialise(
        app,
        {"code": "ST141081102201", "name": "示范县东关镇东关村便民服务站", "area_code": STATION_AREA,
         "level": "village", "query_url_base": "http://station.local/q"},
        demo_catalog=True,
    )
    with db.connection_context():
        for role, password in PASSWORDS.items():
            create_user(role, {"agent": "王代办", "clerk": "李窗口", "admin": "张站长"}[role], role, password,
                        "13800000000")
    return app


@pytest.fixture(scope="session")
def station_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fully initialised station database per test run; each test gets its own copy."""
    base = tmp_path_factory.mktemp("station-template")
    make_station_app(base)
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close() if not db.is_closed() else None
    return base / "station.sqlite3"


@pytest.fixture
def app(tmp_path: Path, station_template: Path) -> Iterator[Flask]:
    shutil.copyfile(station_template, tmp_path / "station.sqlite3")
    application = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    yield application
    if not db.is_closed():
        db.close()


@pytest.fixture
def database(app: Flask) -> Iterator[None]:
    """An open connection for service-level tests (views open their own per request)."""
    with app.app_context(), db.connection_context():
        yield


class StationClient:
    """A browser-like client: logs in through the form and sends the CSRF token like a page would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def fetch_token(self, url: str = "/login") -> str:
        page = self.client.get(url).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {url}"
        self.token = match.group(1)
        return self.token

    def login(self, role: str) -> StationClient:
        self.fetch_token("/login")
        response = self.client.post(
            "/login", data={"username": role, "password": PASSWORDS[role], "csrf_token": self.token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        self.fetch_token("/")
        return self

    def get(self, url: str, **kwargs):  # noqa: ANN003, ANN201
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):  # noqa: ANN003, ANN201
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.token)
        return self.client.post(url, data=payload, **kwargs)


@pytest.fixture
def client(app: Flask) -> StationClient:
    return StationClient(app.test_client())


@pytest.fixture
def agent(app: Flask) -> StationClient:
    return StationClient(app.test_client()).login("agent")


@pytest.fixture
def clerk(app: Flask) -> StationClient:
    return StationClient(app.test_client()).login("clerk")


@pytest.fixture
def admin(app: Flask) -> StationClient:
    return StationClient(app.test_client()).login("admin")
