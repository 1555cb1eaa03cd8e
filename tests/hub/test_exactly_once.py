"""Exactly-once under concurrency and retries, on SQLite and on PostgreSQL.

Several threads stand in for several WSGI workers: each has its own connection, and only the
database's unique indexes keep an event from being stored twice.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from sync import protocol
from sync.hub.models import Change, Conflict, Event, HubCase
from sync.hub.services import decisions, personal


@pytest.fixture
def pair(any_hub_app, make_station):
    """(app, station A, station B) on the backend under test."""
    return (any_hub_app, make_station(any_hub_app, "ST-A", "甲村"), make_station(any_hub_app, "ST-B", "乙村"))


def _parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_thousand_events_one_sync_then_resend(pair, make_event):
    app, station, _ = pair
    events = []
    for _ in range(250):
        case_id = protocol.new_id()
        events.append(make_event(case_id=case_id))
        events += [make_event(case_id=case_id, seq=n, kind="case.note") for n in (2, 3, 4)]
    for start in range(0, len(events), 500):
        assert {r["status"] for r in station.results(events[start:start + 500])} == {"accepted"}
    # Lost ack: the whole backlog comes again.
    for start in range(0, len(events), 500):
        assert {r["status"] for r in station.results(events[start:start + 500])} == {"duplicate"}
    with app.app_context():
        assert Event.select().count() == 1000
        assert HubCase.select().count() == 250
        assert HubCase.select().where(HubCase.last_seq != 4).count() == 0


def test_same_batch_from_many_workers_at_once(pair, make_event):
    app, station, _ = pair
    case_id = protocol.new_id()
    events = [make_event(case_id=case_id)] + [make_event(case_id=case_id, seq=n, kind="case.note") for n in (2, 3)]
    clients = [type(station)(app, station.code, station.secret) for _ in range(6)]
    answers = _parallel(6, lambda i: clients[i].results(events))
    per_event = [Counter(answer[k]["status"] for answer in answers) for k in range(3)]
    for counts in per_event:
        assert counts["accepted"] == 1, per_event
        assert counts["conflict"] == 0 and counts["duplicate"] + counts["accepted"] + counts["rejected"] == 6
    with app.app_context():
        assert Event.select().count() == 3 and Conflict.select().count() == 0


def test_two_events_racing_for_one_seq(pair, make_event):
    app, station, _ = pair
    case_id = protocol.new_id()
    station.results([make_event(case_id=case_id)])
    rivals = [make_event(case_id=case_id, seq=2, kind="case.note", payload={"text": f"{i}"}) for i in range(4)]
    clients = [type(station)(app, station.code, station.secret) for _ in range(4)]
    answers = _parallel(4, lambda i: clients[i].results([rivals[i]])[0]["status"])
    assert sorted(answers) == ["accepted", "conflict", "conflict", "conflict"]
    with app.app_context():
        assert Event.select().where(Event.case_id == case_id).count() == 2
        assert Conflict.select().count() == 3


def test_replayed_nonce_across_workers(pair):
    app, station, _ = pair
    headers = protocol.sign_request(station.secret, "GET", "/api/v1/changes", b"", station=station.code)
    clients = [app.test_client() for _ in range(5)]
    codes = _parallel(5, lambda i: clients[i].get("/api/v1/changes", headers=headers).status_code)
    assert sorted(codes) == [200, 401, 401, 401, 401]


def test_results_and_isolation(pair, make_event):
    app, station_a, station_b = pair
    event = make_event()
    case_id = event["case_id"]
    assert station_a.results([event])[0]["status"] == "accepted"
    gap = station_a.results([make_event(case_id=case_id, seq=5, kind="case.note")])[0]
    assert (gap["status"], gap["code"]) == ("rejected", "out_of_order")
    assert station_a.results([{**event, "payload": {"changed": True}}])[0]["status"] == "conflict"
    held = station_a.results([make_event(case_id=case_id, seq=2, kind="case.note")])[0]
    assert (held["status"], held["code"], held["retryable"]) == ("rejected", "conflict_pending", True)
    theft = station_b.results([make_event(case_id=case_id, seq=2, kind="case.note")])[0]
    assert theft["code"] == "not_your_case"
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="c")
        assert Change.select().count() == 1
    assert len(station_a.changes().json["changes"]) == 1
    assert station_b.changes().json["changes"] == []


def test_concurrent_decisions_only_one_wins(pair, make_event):
    app, station, _ = pair
    event = make_event()
    station.results([event])

    def decide(i: int) -> str:
        with app.app_context():
            try:
                decisions.decide(event["case_id"], decisions.DecisionInput(kind="accepted"), clerk=f"c{i}")
                return "ok"
            except Exception as exc:  # noqa: BLE001 — the loser's error is what we count
                return type(exc).__name__

    outcomes = _parallel(4, decide)
    assert outcomes.count("ok") == 1, outcomes
    with app.app_context():
        assert Change.select().count() == 1


def test_a_batch_is_written_in_one_driver_call_and_reads_back_as_sent(pair, make_event, monkeypatch):
    """The fast insert must store what peewee itself would store — or the batch would silently
    take the slow path (peewee renders every value; several times slower at a county hub)."""
    app, station, _ = pair
    slow_path: list[str] = []
    for model in (Event, HubCase):
        original = model.insert_many.__func__

        def spy(cls, rows, fields=None, _original=original):
            slow_path.append(cls.__name__)
            return _original(cls, rows, fields)

        monkeypatch.setattr(model, "insert_many", classmethod(spy))
    case_id = protocol.new_id()
    first = make_event(case_id=case_id, payload={"case_no": "1410811022012611230001", "applicant": {"name": "王𠀾"},
                                                 "decision": "collected", "rate": 0.5, "items": [1, None, "二"]})
    events = [first, make_event(case_id=case_id, seq=2, kind="case.note", deadline=None)]
    assert {r["status"] for r in station.results(events)} == {"accepted"}
    assert slow_path == []
    with app.app_context():
        stored = {e.event_id: e for e in Event.select()}
        case = HubCase.get(HubCase.case_id == case_id)
    assert personal.open_body(stored[first["event_id"]].body) == first
    assert stored[first["event_id"]].digest == protocol.event_digest(first)
    assert stored[events[1]["event_id"]].deadline is None
    assert personal.open_snapshot(case.snapshot) == first["payload"] and case.applicant_name == "王𠀾" and case.last_seq == 2
