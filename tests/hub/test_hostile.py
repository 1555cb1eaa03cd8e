"""One hostile set, run against a hub on SQLite and on PostgreSQL: a signed request that fails
validation is answered 4xx with a Chinese reason and a code (never a 500), a malformed event is
refused for good (never ``internal_error``/retryable, which a station would resend for ever), a
malformed heartbeat field is dropped without costing the batch — and both databases answer alike.

Each row names the request and what the station must see; ``docs/reliability.md`` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Event, Station
from tests.fixtures.hub import SignedStation, case_snapshot, logged_in

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Hostile:
    """A bad request and the answer it must get."""

    name: str
    send: Callable[[SignedStation, Callable[..., dict[str, Any]]], Any]
    status: int
    error: str | None = None  # the request-level ``error`` code, for a refused request


def _nested(depth: int) -> bytes:
    return b'{"events": ' + b"[" * depth + b"]" * depth + b"}"


REQUESTS = [
    Hostile("cursor beyond 64 bits", lambda s, e: s.changes(cursor=10**20), 400, "bad_request"),
    Hostile("negative cursor", lambda s, e: s.changes(cursor=-1), 400, "bad_request"),
    Hostile("limit beyond 64 bits", lambda s, e: s.changes(limit=10**30), 400, "bad_request"),
    Hostile("cursor not a number", lambda s, e: s.request("GET", "/api/v1/changes?cursor=abc"), 400, "bad_request"),
    Hostile("events nested 100000 deep", lambda s, e: s.request(
        "POST", "/api/v1/events", _nested(100_000), headers={"Content-Type": "application/json"}),
        400, "bad_request"),
    Hostile("heartbeat nested 20000 deep", lambda s, e: s.request(
        "POST", "/api/v1/heartbeat", _nested(20_000), headers={"Content-Type": "application/json"}),
        400, "bad_request"),
    Hostile("attachments check nested 100 deep", lambda s, e: s.request(
        "POST", "/api/v1/attachments/check", b'{"sha256": ' + b"[" * 100 + b"]" * 100 + b"}"),
        400, "bad_request"),
    Hostile("number 1e400 (infinity)", lambda s, e: s.request(
        "POST", "/api/v1/events", b'{"events": [], "x": 1e400}'), 400, "bad_request"),
    Hostile("body not UTF-8", lambda s, e: s.request("POST", "/api/v1/events", b'{"events": ["\xff"]}'),
            400, "bad_request"),
    Hostile("events not a list", lambda s, e: s.post_json("/api/v1/events", {"events": {"a": 1}}),
            400, "bad_request"),
    Hostile("timestamp beyond 64 bits", lambda s, e: s.request("GET", "/api/v1/changes", timestamp=10**30),
            401, "bad_signature"),
    Hostile("station code with NUL", lambda s, e: s.request(
        "GET", "/api/v1/changes", headers={protocol.H_STATION: "ST-A\x00"}), 401, "unknown_station"),
    Hostile("station code 500 long", lambda s, e: s.request(
        "GET", "/api/v1/changes", headers={protocol.H_STATION: "S" * 500}), 401, "unknown_station"),
    Hostile("licence lookup without an ID number", lambda s, e: s.post_json(
        "/api/v1/licences/lookup", {"kind": "残疾人证", "asked_by": "王代办", "reason": "收件"}), 400, "bad_request"),
    Hostile("licence lookup nested 100 deep", lambda s, e: s.request(
        "POST", "/api/v1/licences/lookup", b'{"kind": ' + b"[" * 100 + b"]" * 100 + b"}"), 400, "bad_request"),
    Hostile("licence lookup not an object", lambda s, e: s.post_json("/api/v1/licences/lookup", "残疾人证"),
            400, "bad_request"),
    Hostile("content range beyond 64 bits", lambda s, e: s.request(
        "PUT", "/api/v1/attachments/" + "a" * 64, b"x",
        headers={"Content-Range": f"bytes {10**30}-{10**30}/{10**31}"}), 413, "too_large"),
]


@pytest.mark.parametrize("case", REQUESTS, ids=[c.name for c in REQUESTS])
def test_hostile_request_is_refused_with_a_reason(any_hub_app, make_station, make_event, case):
    station = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    response = case.send(station, make_event)
    assert response.status_code == case.status, response.get_data(as_text=True)
    assert response.json["error"] == case.error
    assert CHINESE.search(response.json["message"]), response.json["message"]


@dataclass(frozen=True)
class BadEvent:
    """An event the hub must refuse for good (``bad_event``, not retryable) on both databases."""

    name: str
    over: dict[str, Any]


def _visit(**over: Any) -> dict[str, Any]:
    """A ``visit.recorded`` body as the station writes it, with ``over`` changed."""
    return {"visited_on": "2026-11-20", "started_at": "09:30", "ended_at": "10:40", "staff": "王代办",
            "resident": {"name": "孙福贵", "phone": "13700002222", "address": "东关村五组3号"},
            "purpose": "代办参保登记", "outcome": "done", "village_code": "141081102201", **over}


BAD_EVENTS = [
    BadEvent("visit on 2026-13-45", {"kind": "visit.recorded", "payload": _visit(visited_on="2026-13-45")}),
    BadEvent("visit resident not an object", {"kind": "visit.recorded", "payload": _visit(resident="孙福贵")}),
    BadEvent("visit resident name a number", {"kind": "visit.recorded", "payload": _visit(resident={"name": 7})}),
    BadEvent("visit outcome unknown", {"kind": "visit.recorded", "payload": _visit(outcome="maybe")}),
    BadEvent("visit village 5 digits", {"kind": "visit.recorded", "payload": _visit(village_code="14108")}),
    BadEvent("visit started 25:00", {"kind": "visit.recorded", "payload": _visit(started_at="25:00")}),
    BadEvent("case taken with no visit", {"kind": "visit.case_taken", "payload": {"case_id": "x", "case_no": "1"}}),
    BadEvent("deadline 2026-02-30", {"deadline": "2026-02-30"}),
    BadEvent("deadline 2026-13-01", {"deadline": "2026-13-01"}),
    BadEvent("catalog version 300 characters", {"catalog_version": "v" * 300}),
    BadEvent("empty catalog version", {"catalog_version": ""}),
    BadEvent("kind 100 characters", {"kind": "k" * 100}),
    BadEvent("seq beyond 32 bits", {"seq": 2**40}),
    BadEvent("occurred_at 42 characters", {"occurred_at": "2026-11-20T09:30:00.123456+08:00:00.123456"}),
    BadEvent("NUL in a payload string", {"payload": case_snapshot(case_no="1400\x00")}),
    BadEvent("NUL in a payload key", {"payload": case_snapshot(form_values={"a\x00": "1"})}),
]


@pytest.mark.parametrize("case", BAD_EVENTS, ids=[c.name for c in BAD_EVENTS])
def test_malformed_event_is_refused_for_good_on_both_databases(any_hub_app, make_station, make_event, case):
    station = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    good = make_event()
    bad = make_event(**case.over)
    results = station.results([bad, good])
    assert results[0]["status"] == "rejected", results[0]
    assert results[0]["code"] == "bad_event" and results[0]["retryable"] is False
    assert CHINESE.search(results[0]["reason"])
    assert results[1]["status"] == "accepted"  # the rest of the batch is taken
    with any_hub_app.app_context(), db.connection_context():
        assert not Event.select().where(Event.event_id == bad["event_id"]).exists()


GOOD_BUT_ODD = [
    ("batch_id 1000 characters", {"batch_id": "b" * 1000}, {}),
    ("integer beyond 64 bits in a form value", {}, {"payload": case_snapshot(form_values={"n": 10**40})}),
]


@pytest.mark.parametrize(("name", "batch_over", "event_over"), GOOD_BUT_ODD, ids=[g[0] for g in GOOD_BUT_ODD])
def test_odd_but_harmless_values_are_stored_alike(any_hub_app, make_station, make_event, name, batch_over,
                                                  event_over):
    station = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    event = make_event(**event_over)
    body = {"protocol": protocol.PROTOCOL_VERSION, "station": station.code, "batch_id": protocol.new_id(),
            "heartbeat": {}, "events": [event], **batch_over}
    results = station.results([], batch=body)
    assert [r["status"] for r in results] == ["accepted"]


HUGE_HEARTBEATS = [
    ("queue_length 3,000,000,000", {"queue_length": 3_000_000_000}, "queue_length"),
    ("queue_length 10**30", {"queue_length": 10**30}, "queue_length"),
    ("free_disk_bytes 10**30", {"free_disk_bytes": 10**30}, "free_disk_bytes"),
    ("clock offset 1e308 * 10 as text", {"clock_offset_s": "1e309"}, "clock_offset_s"),
    ("protocol as a list", {"protocol": [1]}, "protocol"),
    ("clock offset 1e300", {"clock_offset_s": 1e300}, "clock_offset_s"),
]


@pytest.mark.parametrize(("name", "fields", "column"), HUGE_HEARTBEATS, ids=[h[0] for h in HUGE_HEARTBEATS])
@pytest.mark.parametrize("way", ["heartbeat", "batch"])
def test_malformed_heartbeat_field_is_dropped_never_fatal(any_hub_app, make_station, make_event, name, fields,
                                                          column, way):
    station = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    heartbeat = {"app_version": "2.1.0", "set_aside_count": 1, **fields}
    if way == "heartbeat":
        response = station.post_json("/api/v1/heartbeat", {"heartbeat": heartbeat})
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        event = make_event()
        assert [r["status"] for r in station.results([event], heartbeat=heartbeat)] == ["accepted"]
    with any_hub_app.app_context(), db.connection_context():
        row = Station.by_code("ST-A")
        assert getattr(row, column) is None  # the bad field is dropped…
        assert row.app_version == "2.1.0" and row.set_aside_count == 1  # …the good ones kept


def test_county_case_list_with_a_huge_page_number(any_hub_app):
    approver = logged_in(any_hub_app, "clerk", "approver", "县级窗口")
    for page in (10**30, 2**63, -5, "abc"):
        response = approver.get(f"/cases?page={page}")
        assert response.status_code == 200, (page, response.status_code)


def test_a_tiny_clock_offset_is_kept_as_milliseconds(any_hub_app, make_station):
    """Found by schemathesis on PostgreSQL: 1e-70 underflows a ``real`` column; /heartbeat answered 500."""
    station = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    response = station.post_json("/api/v1/heartbeat", {"heartbeat": {"clock_offset_s": 4.5e-70, "queue_length": 2}})
    assert response.status_code == 200, response.get_data(as_text=True)
    with any_hub_app.app_context(), db.connection_context():
        row = Station.by_code("ST-A")
        assert row.clock_offset_s == 0.0 and row.queue_length == 2
