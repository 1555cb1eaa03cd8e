"""Hub fixtures: a hub app per test (temp SQLite, or a throwaway PostgreSQL schema), signed
station clients, a logged-in clerk, and an event factory.

Fixture names: ``hub_app``, ``hub_client``, ``station_a``/``station_b`` (:class:`StationClient`),
``clerk`` (logged-in test client with ``csrf_post``), ``make_event``, ``pg_hub_app`` (PostgreSQL),
``any_hub_app`` (parametrised over both backends).
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
from sync.hub.services import stations, users
from tests.fixtures.config import hub_test_config

CLERK_PASSWORD = "correct-horse-battery"




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


class StationClient:
    """A station speaking the protocol to the hub through Flask's test client.

    Every call signs the request as a station would and checks the hub's answer signature;
    ``last_verified`` says whether the last answer was a verified one.
    """

    def __init__(self, app: Flask, code: str, secret: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.code = code
        self.secret = secret
        self.clock_offset_s = 0.0
        self.version = protocol.PROTOCOL_VERSION
        self.last_verified = False
        self.last_nonce = ""

    def request(self, method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None,
                version: int | None = None, timestamp: int | None = None, nonce: str | None = None,
                gzip_body: bool = False):
        """Send one signed request; return the Flask response (``.json`` parsed)."""
        signed = protocol.sign_request(self.secret, method, path, body, station=self.code,
                                       version=self.version if version is None else version,
                                       clock_offset_s=self.clock_offset_s, timestamp=timestamp, nonce=nonce)
        all_headers = {**signed, **(headers or {})}
        if gzip_body:
            all_headers["Content-Encoding"] = "gzip"
        self.last_nonce = signed[protocol.H_NONCE]
        response = self.client.open(path, method=method, data=body, headers=all_headers)
        self.last_verified = protocol.verify_response(self.secret, self.last_nonce, response.status_code,
                                                      response.headers, response.get_data())
        return response

    def batch(self, events: list[dict[str, Any]], *, heartbeat: dict[str, Any] | None = None,
              version: int | None = None, batch: dict[str, Any] | None = None):
        """POST a gzip batch of events."""
        body = batch if batch is not None else {
            "protocol": protocol.PROTOCOL_VERSION if version is None else version, "station": self.code,
            "batch_id": protocol.new_id(), "heartbeat": heartbeat or {}, "events": events}
        return self.request("POST", "/api/v1/events", protocol.encode_body(body), version=version,
                            gzip_body=True)

    def results(self, events: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
        """POST a batch and return its per-event results (asserting a verified 200)."""
        response = self.batch(events, **kw)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert self.last_verified
        return response.json["results"]

    def changes(self, cursor: int = 0, limit: int = 100):
        """GET a page of the changes feed."""
        return self.request("GET", f"/api/v1/changes?cursor={cursor}&limit={limit}")

    def post_json(self, path: str, obj: Any):
        """POST an uncompressed JSON body."""
        return self.request("POST", path, protocol.encode_body(obj, compress=False),
                            headers={"Content-Type": "application/json"})


def _make_station(app: Flask, code: str, name: str) -> StationClient:
    with app.app_context():
        _, secret = stations.create_station(code, name)
    return StationClient(app, code, secret)


@pytest.fixture
def station_a(hub_app: Flask) -> StationClient:
    """Station ST-A, registered on the hub."""
    return _make_station(hub_app, "ST-A", "甲村便民服务站")


@pytest.fixture
def station_b(hub_app: Flask) -> StationClient:
    """Station ST-B, registered on the hub."""
    return _make_station(hub_app, "ST-B", "乙村便民服务站")


@pytest.fixture
def make_station() -> Callable[[Flask, str, str], StationClient]:
    """Register a station on any app (for the PostgreSQL variants)."""
    return _make_station


def case_snapshot(**over: Any) -> dict[str, Any]:
    """A full ``case.submitted`` payload as the station sends it."""
    snapshot = {
        "case_no": "140000001001202611200001", "query_code": "K7P2QX", "item_code": "000111001000",
        "impl_code": "11141081MB0194271R4000111001000", "item_name": "城乡居民基本养老保险参保登记",
        "mode": "proxy", "decision": "collected",
        "applicant": {"name": "张三", "cert_type": "111", "id_number": "110105194912310021",
                      "phone": "13800001234", "address": "示范县示范村1号", "area_code": "140000001001"},
        "proxy": {"name": "李代办", "id_number": "110105198001010017", "phone": "13900001111"},
        "materials": [{"key": "id_card", "name": "居民身份证", "status": "provided", "due_date": None,
                       "e_license_no": None},
                      {"key": "hukou_book", "name": "居民户口簿", "status": "provided", "due_date": None,
                       "e_license_no": None}],
        "form_values": {"insured_grade": "200元"},
        "statutory_due": "2026-12-18", "committed_due": "2026-11-27", "received_at": "2026-11-20T09:30:00+08:00",
        "agent": {"username": "agent1", "name": "王代办员"}, "attachments": [],
    }
    snapshot.update(over)
    return snapshot


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


_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class ClerkClient:
    """A logged-in clerk; ``csrf_post`` fetches a page's token and posts a form with it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, page: str) -> str:
        """The CSRF token embedded in ``page``."""
        html = self.client.get(page).get_data(as_text=True)
        match = _CSRF.search(html)
        assert match, f"no csrf token on {page}"
        return match.group(1)

    def csrf_post(self, path: str, data: dict[str, Any], *, token_page: str | None = None, **kw: Any):
        """POST ``data`` plus a valid CSRF token."""
        return self.client.post(path, data={**data, "csrf_token": self.token(token_page or path)}, **kw)

    def get(self, *args: Any, **kw: Any):
        """GET as the clerk."""
        return self.client.get(*args, **kw)


def login(client: FlaskClient, username: str = "clerk", password: str = CLERK_PASSWORD):
    """Log in through the form (with its CSRF token), as a browser would."""
    html = client.get("/login").get_data(as_text=True)
    token = _CSRF.search(html).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def logged_in(app: Flask, username: str, role: str, name: str) -> ClerkClient:
    """Create a county user with ``role`` and log them in through the form."""
    with app.app_context():
        users.create_user(username, CLERK_PASSWORD, name=name, role=role)
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return ClerkClient(client)


@pytest.fixture
def clerk(hub_app: Flask) -> ClerkClient:
    """A county approver logged in to the hub UI: decides cases, cannot publish or set stations."""
    return logged_in(hub_app, "clerk", "approver", "县级窗口")


@pytest.fixture
def county_admin(hub_app: Flask) -> ClerkClient:
    """A county admin logged in to the hub UI: publishes catalogs and sets station settings."""
    return logged_in(hub_app, "countyadmin", "admin", "县级管理员")


def dump(obj: Any) -> str:
    """Readable JSON for assertion messages."""
    return json.dumps(obj, ensure_ascii=False, indent=1)


def valid_catalog(version: str, *, fields: list[dict] | None = None, materials: list[dict] | None = None,
                  item_code: str = "000111001000", extra: dict | None = None) -> dict:
    """A catalog every station can import: the demo item `item_code`, with fields/materials replaced.

    The hub refuses catalogs stations would refuse, so hub tests publish real-shaped ones.
    """
    import copy

    from station.catalog_data import load_demo_catalog

    demo = load_demo_catalog()
    item = copy.deepcopy(next(i for i in demo["items"] if i["item_code"] == item_code))
    if fields is not None:
        item["form_fields"] = [{"required": False, **f} for f in fields]
    if materials is not None:
        item["materials"] = [{"form": "original", "copies": 1, "essential": True, "deferrable": False,
                              "commitment": False, "e_license": None, "description": "", "source": "", **m}
                             for m in materials]
    item.update(extra or {})
    return {"catalog_version": version, "published_at": "2026-11-01", "region": "示范县", "items": [item],
            "bundles": []}
