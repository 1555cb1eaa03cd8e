"""Shared fixtures: a station app on a temporary SQLite file, users of every role, a logged-in client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from station import create_app
from station.extensions import db
from tests.fixtures.clock import clock_off_china  # noqa: F401 - fixture
from tests.fixtures.config import station_test_config
from tests.fixtures.month import month, month_template  # noqa: F401 - fixtures
from tests.fixtures.station import StationClient, make_station_app


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
