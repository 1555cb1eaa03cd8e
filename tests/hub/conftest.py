"""Hub fixtures: a hub app per test (temp SQLite, or a throwaway PostgreSQL schema), signed
station clients, a logged-in clerk, and an event factory.

Fixture names: ``hub_app``, ``hub_client``, ``station_a``/``station_b`` (:class:`SignedStation`),
``clerk`` (logged-in test client with ``csrf_post``), ``make_event``, ``pg_hub_app`` (PostgreSQL),
``any_hub_app`` (parametrised over both backends).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from demo.loopback import local_postgres_dsn, throwaway_schema
from rules import events
from sync import protocol
from sync.hub import create_app
from sync.hub.extensions import db
from tests.fixtures.config import hub_test_config
from tests.fixtures.hub import (
    ClerkClient,
    SignedStation,
    _make_station,
    case_snapshot,
    logged_in,
)


@pytest.fixture
def hub_app(tmp_path) -> Iterator[Flask]:
    """A hub on a fresh SQLite file in a temp instance folder."""
    app = create_app(hub_test_config(), tmp_path / "hub-instance")
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def pg_hub_app(tmp_path) -> Iterator[Flask]:
    """A hub on PostgreSQL 127.0.0.1:5432/test in a schema of its own, dropped afterwards."""
    dsn = local_postgres_dsn()
    if dsn is None:
        pytest.skip("!!! POSTGRESQL NOT REACHABLE at 127.0.0.1:5432 (db 'test', user postgres/root) — "
                    "the PostgreSQL hub tests did NOT run !!!")
    with throwaway_schema(dsn, "hub_test") as url:
        app = create_app(hub_test_config(DATABASE_URL=url), tmp_path / "hub-instance")
        try:
            yield app
        finally:
            database = app.extensions["hub_db"]
            if hasattr(database, "close_all"):
                database.close_all()  # pooled connections would hold the schema open
            if not db.is_closed():
                db.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_hub_app(request) -> Flask:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue("hub_app" if request.param == "sqlite" else "pg_hub_app")


@pytest.fixture
def hub_client(hub_app: Flask) -> FlaskClient:
    """A plain test client for the hub."""
    return hub_app.test_client()


@pytest.fixture
def station_a(hub_app: Flask) -> SignedStation:
    """Station ST-A, registered on the hub."""
    return _make_station(hub_app, "ST-A", "甲村便民服务站")


@pytest.fixture
def station_b(hub_app: Flask) -> SignedStation:
    """Station ST-B, registered on the hub."""
    return _make_station(hub_app, "ST-B", "乙村便民服务站")


@pytest.fixture
def make_station() -> Callable[[Flask, str, str], SignedStation]:
    """Register a station on any app (for the PostgreSQL variants)."""
    return _make_station


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """Build an event envelope; ``case_id``/``seq``/``kind``/``payload`` overridable."""

    def build(case_id: str | None = None, seq: int = 1, kind: str = events.SUBMITTED,
              payload: dict[str, Any] | None = None, catalog_version: str = "2026.11-demo",
              occurred_at: str | None = None, **over: Any) -> dict[str, Any]:
        event = {
            "event_id": protocol.new_id(), "case_id": case_id or protocol.new_id(), "seq": seq, "kind": kind,
            "occurred_at": occurred_at or dt.datetime.now(dt.UTC).astimezone(
                dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds"),
            "catalog_version": catalog_version, "deadline": "2026-11-27",
            "payload": payload if payload is not None else (
                case_snapshot() if kind == events.SUBMITTED else {"text": "备注"}),
        }
        event.update(over)
        return event

    return build


@pytest.fixture
def approver(hub_app: Flask) -> ClerkClient:
    """A county approver logged in to the hub UI: decides cases, cannot publish or set stations."""
    return logged_in(hub_app, "clerk", "approver", "县级窗口")


@pytest.fixture
def county_admin(hub_app: Flask) -> ClerkClient:
    """A county admin logged in to the hub UI: publishes catalogs and sets station settings."""
    return logged_in(hub_app, "countyadmin", "admin", "县级管理员")


