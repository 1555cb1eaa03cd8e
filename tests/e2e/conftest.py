"""A real hub on loopback (a threaded HTTP server) and a real station database linked to it."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from demo.loopback import ServedHub, local_postgres_dsn, register_station, start_hub, throwaway_schema
from station.extensions import db
from station.models import User
from station.services import intake
from station.sync_hooks import station_hooks
from sync.round import Syncer
from sync.summary import SyncSummary
from sync.transport import HubClient, HubLink
from tests.fixtures.config import hub_test_config
from tests.fixtures.intake import form_for, item_named

STATION_CODE = "ST141081102201"


class FaultSwitch:
    """WSGI middleware in front of the hub: injects the faults the exactly-once tests need."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.down = False
        self.fail_before = 0  # answer 500 without processing
        self.drop_after = 0  # process, then drop the connection before the reply
        self.portal = False  # a captive portal answering 200 with its own page
        self.uploads_before_cut: int | None = None  # let this many attachment chunks through, then 503
        self.uploads: list[tuple[str, int]] = []  # (Content-Range, body bytes) of each chunk the hub got
        self.duplicate = 0  # deliver this many pushes twice, answering with the second copy's answer

    def __call__(self, environ: dict, start_response: Any):  # noqa: ANN204
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/v1/") and path != "/api/v1/time":
            if self.down:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"down"]
            if self.portal:
                start_response("200 OK", [("Content-Type", "text/html")])
                return ["<html>请先登录 WiFi</html>".encode()]
            if environ["REQUEST_METHOD"] == "PUT" and path.startswith("/api/v1/attachments/"):
                if self.uploads_before_cut is not None and len(self.uploads) >= self.uploads_before_cut:
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                    return [b"link cut"]
                self.uploads.append((environ.get("HTTP_CONTENT_RANGE", ""), int(environ.get("CONTENT_LENGTH") or 0)))
            if self.duplicate and path == "/api/v1/events":
                self.duplicate -= 1
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                first = {**environ, "wsgi.input": io.BytesIO(body)}
                b"".join(self.app(first, lambda *a, **k: None))  # the hub processes the original
                return self.app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)  # then the copy
            if self.fail_before and path == "/api/v1/events":
                self.fail_before -= 1
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
                return [b"boom"]
            if self.drop_after and path == "/api/v1/events":
                self.drop_after -= 1
                body = b"".join(self.app(environ, lambda *a, **k: None))  # the hub commits
                del body

                def broken():  # noqa: ANN202
                    yield b'{"server_time":'  # the first bytes get out, then the link dies
                    raise ConnectionAbortedError("link dropped before the reply")

                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "5000")])
                return broken()
        return self.app(environ, start_response)


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServedHub]:
    """The county hub on loopback, once on SQLite and once on PostgreSQL (a throwaway schema)."""
    config: dict[str, Any] = {}
    with ExitStack() as stack:
        if request.param == "postgres":
            dsn = local_postgres_dsn()
            if dsn is None:
                pytest.skip("!!! POSTGRESQL NOT REACHABLE at 127.0.0.1:5432 — the PostgreSQL e2e sync tests did NOT run !!!")
            config["DATABASE_URL"] = stack.enter_context(throwaway_schema(dsn, "e2e"))
        served = start_hub(tmp_path / "hub", config_class=hub_test_config(**config), wrap=FaultSwitch)
        yield served
        served.stop()
        database = served.app.extensions["hub_db"]
        if hasattr(database, "close_all"):
            database.close_all()  # pooled connections would hold the schema open


@pytest.fixture
def faults(hub: ServedHub) -> FaultSwitch:
    return hub.server.app


def link(app: Flask, hub: ServedHub) -> Flask:
    """Register the station on the hub and store the link, as `python -m station link` would."""
    secret = register_station(hub.app, STATION_CODE, "东关村便民服务站")
    with app.app_context(), db.connection_context():
        HubLink(hub.url, STATION_CODE, secret).save()
    return app


@pytest.fixture
def linked(app: Flask, hub: ServedHub) -> Flask:
    return link(app, hub)


def queue_cases(app: Flask, count: int, item_name: str = "高龄津贴申领") -> list[str]:
    """Take `count` applications offline, as agents would; return the case ids."""
    from stdnum.cn import ric

    ids = []
    with app.app_context(), db.connection_context():
        item = item_named(item_name)
        agent = User.get(User.username == "agent")
        for n in range(count):
            body = f"14108119{40 + n % 50:02d}0101{n % 1000:03d}"
            number = body + ric.calc_check_digit(body + "0")
            data = form_for([item], applicant_id_number=number)
            draft = intake.check_input([item], data, dt.date.today())
            [case] = intake.create_cases([item], draft, agent, allow_duplicate=True)
            ids.append(case.id)
    return ids


def sync(app: Flask, **kwargs: Any) -> SyncSummary:
    with app.app_context(), db.connection_context():
        client = HubClient(HubLink.stored(), **kwargs)
        return Syncer(client, station_hooks(app)).run()


def hub_events(hub: ServedHub) -> list[tuple[str, str, int]]:
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Event

    with hub.app.app_context(), hub_db.connection_context():
        return [(e.event_id, e.case_id, e.seq) for e in Event.select().order_by(Event.id)]


def station_events(app: Flask) -> list[tuple[str, str, int, str]]:
    from sync.outbox import OutboxEvent

    with app.app_context(), db.connection_context():
        return [(e.event_id, e.case_id, e.seq, e.state) for e in OutboxEvent.select().order_by(OutboxEvent.id)]


def assert_exactly_once(app: Flask, hub: ServedHub) -> None:
    """Every event the station committed is at the hub exactly once, each case's seqs gapless."""
    at_hub = hub_events(hub)
    at_station = station_events(app)
    ids = [e[0] for e in at_hub]
    assert len(ids) == len(set(ids)), "an event is stored twice at the hub"
    assert set(ids) == {e[0] for e in at_station}, "hub and station disagree on which events exist"
    assert all(state == "acked" for *_rest, state in at_station)
    per_case: dict[str, list[int]] = {}
    for _event_id, case_id, seq in at_hub:
        per_case.setdefault(case_id, []).append(seq)
    for seqs in per_case.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
