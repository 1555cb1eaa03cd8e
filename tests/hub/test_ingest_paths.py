"""Both ways the hub takes a batch — whole, or one event per transaction — answer every event alike.

The batch path reads up front and writes at the end; the one-by-one path (taken after a race or
a crash) reads and writes per event. Both call the one classification, so each kind of fault
gets the same status, code and Chinese reason on either path, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from rules import events
from sync import protocol
from sync.hub.models import Conflict, Event, HubCase, Station
from sync.hub.services import ingest, personal
from tests.fixtures.hub import case_snapshot

EXPECTED = [
    ("duplicate", None),  # the same event again
    ("conflict", "content_mismatch"),  # its id with other content
    ("conflict", "seq_taken"),  # another event in its place
    ("rejected", "unknown_kind"),
    ("rejected", "bad_event"),  # a note without text
    ("rejected", "conflict_pending"),  # a good next event, but its case has an open conflict: it waits
    ("rejected", "out_of_order"),  # a gap before it (another case)
    ("rejected", "not_your_case"),  # another station's case
    ("rejected", "bad_event"),  # not an event at all
    ("rejected", "not_your_case"),  # another station's event, sent by this one
    ("duplicate", None),  # the same event again, its envelope now failing a check outside its content
]


def _faults(make_event, submitted: dict[str, Any], theirs: dict[str, Any]) -> list[Any]:
    mine = submitted["case_id"]
    return [
        submitted,
        {**submitted, "payload": case_snapshot(case_no="OTHER")},
        make_event(case_id=mine, seq=1, kind=events.NOTE, payload={"text": "抢位"}),
        make_event(case_id=mine, seq=2, kind="case.teleported"),
        make_event(case_id=mine, seq=2, kind=events.NOTE, payload={"by": "agent1"}),
        make_event(case_id=mine, seq=2, kind=events.NOTE, payload={"text": "补充说明"}),
        make_event(seq=2, kind=events.NOTE),
        make_event(case_id=theirs["case_id"], seq=2, kind=events.NOTE),
        {"event_id": "not-an-id"},
        theirs,
        {**submitted, "deadline": "2026-02-30"},  # the content the hub holds (checked when taken) answers first
    ]


def _take(app, make_event, *, whole: bool, monkeypatch) -> list[tuple[Any, ...]]:
    with app.app_context():
        mine, other = Station.get(Station.code == "ST-A"), Station.get(Station.code == "ST-B")
        submitted, theirs = make_event(), make_event()
        assert ingest.receive_event(mine, submitted).status == "accepted"
        assert ingest.receive_event(other, theirs).status == "accepted"
        conflicts_before = Conflict.select().count()
        one_by_one: list[str] = []
        original = ingest.receive_event

        def spy(station, event, **kw):
            one_by_one.append(str(event.get("event_id")))
            return original(station, event, **kw)

        def lost_race(*args, **kw):
            raise ingest._LostRace()

        with monkeypatch.context() as patch:
            patch.setattr(ingest, "receive_event", spy)
            if not whole:
                patch.setattr(ingest, "_receive_at_once", lost_race)
            results, _ = ingest.receive_batch(mine, {"events": _faults(make_event, submitted, theirs)}, grace_days=30)
        assert bool(one_by_one) is not whole  # the path under test really was taken
        assert Conflict.select().count() - conflicts_before == 2  # each clash kept for a person
    return [(r.status, r.code, r.reason, r.retryable) for r in results]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_batch_and_the_one_by_one_path_classify_alike(request, database, make_station, make_event,
                                                          monkeypatch):
    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    make_station(app, "ST-B", "乙村便民服务站")
    whole = _take(app, make_event, whole=True, monkeypatch=monkeypatch)
    one_by_one = _take(app, make_event, whole=False, monkeypatch=monkeypatch)
    assert [(status, code) for status, code, _reason, _retry in whole] == EXPECTED
    assert whole == one_by_one
    assert all(reason for status, _code, reason, _retry in whole if status in ("rejected", "conflict"))


ESCAPED = "第一行\n第二行\t制表\\反斜杠\r回车 \\N \\\\N"  # what COPY's text format must escape, and its NULL marker


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_batch_path_stores_every_column_as_the_one_by_one_path_does(request, database, make_station,
                                                                         make_event, monkeypatch):
    """PostgreSQL takes a batch's rows by COPY, not by peewee: text with tabs, newlines, backslashes and
    ``\\N`` (COPY's NULL) comes back from either path exactly as sent, and every column alike."""
    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    snapshot = case_snapshot(item_name="养老\\N保险", form_values={"insured_grade": ESCAPED},
                             agent={"username": "agent1", "name": "王\\代办"})
    with app.app_context():
        station = Station.get(Station.code == "ST-A")
        stored = {}
        for path in ("batch", "one_by_one"):
            case_id = protocol.new_id()
            batch = [make_event(case_id=case_id, payload=snapshot),
                     make_event(case_id=case_id, seq=2, kind=events.NOTE, payload={"text": ESCAPED})]
            if path == "batch":
                with monkeypatch.context() as patch:  # taken whole: a failed COPY would fall back unseen
                    patch.setattr(ingest, "receive_event", lambda *a, **k: pytest.fail("batch fell back to one by one"))
                    results, _ = ingest.receive_batch(station, {"events": batch}, grace_days=30)
            else:
                results = [ingest.receive_event(station, event) for event in batch]
            assert [r.status for r in results] == ["accepted", "accepted"]
            # a later batch moves the case already held: an UPDATE, not an insert
            deferred = [dict(m, status="deferred", due_date="2026-12-20", name=ESCAPED) for m in snapshot["materials"]]
            later = make_event(case_id=case_id, seq=3, kind=events.MATERIALS_UPDATED, payload={"materials": deferred})
            if path == "batch":
                with monkeypatch.context() as patch:
                    patch.setattr(ingest, "receive_event", lambda *a, **k: pytest.fail("batch fell back to one by one"))
                    assert ingest.receive_batch(station, {"events": [later]}, grace_days=30)[0][0].status == "accepted"
            else:
                assert ingest.receive_event(station, later).status == "accepted"
            case = HubCase.get(HubCase.case_id == case_id)
            assert case.last_seq == 3 and case.deferred_total == 2
            notes = [personal.open_body(e.body) for e in Event.select().where(Event.case_id == case_id)
                     .order_by(Event.seq)]
            row = {k: v for k, v in case.__data__.items()
                   if k not in ("id", "case_id", "created_at", "updated_at", "snapshot", "hub_case_no")}
            stored[path] = (row, personal.open_snapshot(case.snapshot), [n["payload"] for n in notes])
        assert stored["batch"][2][1]["text"] == ESCAPED
        assert personal.open_snapshot(stored["batch"][1])["form_values"]["insured_grade"] == ESCAPED
        assert {m["name"] for m in personal.open_snapshot(stored["batch"][1])["materials"]} == {ESCAPED}
        assert stored["batch"][0]["item_name"] == "养老\\N保险" and stored["batch"][0]["agent_name"] == "王\\代办"
        assert stored["batch"] == stored["one_by_one"]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_batch_sent_again_is_answered_from_the_stored_events_alone(request, database, make_station, make_event,
                                                                    monkeypatch):
    """After a lost answer a station sends the whole batch again: the hub answers it from one read."""
    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    with app.app_context():
        station = Station.get(Station.code == "ST-A")
        first = [make_event() for _ in range(3)]
        first.append(make_event(case_id=first[0]["case_id"], seq=2, kind=events.NOTE))
        assert {r.status for r in ingest.receive_batch(station, {"events": first}, grace_days=30)[0]} == {"accepted"}
        cases_read: list[int] = []
        begun: list[bool] = []
        real_read, real_begin = HubCase.from_sql, ingest.db.obj.begin
        monkeypatch.setattr(HubCase, "from_sql", lambda *a, **kw: cases_read.append(1) or real_read(*a, **kw))
        monkeypatch.setattr(ingest.db.obj, "begin", lambda *a, **kw: begun.append(True) or real_begin(*a, **kw))
        # one batch in FOLD_EVERY, at random, folds the roll-up in its own transaction afterwards: not the resend's
        monkeypatch.setattr(ingest.tally, "fold_sometimes", lambda: None)
        again, _ = ingest.receive_batch(station, {"events": first}, grace_days=30)
        assert [r.status for r in again] == ["duplicate"] * 4
        assert cases_read == [] and begun == []  # no case read, no transaction opened
        later = make_event(case_id=first[1]["case_id"], seq=2, kind=events.NOTE)
        mixed, _ = ingest.receive_batch(station, {"events": [*first, later]}, grace_days=30)
        assert [r.status for r in mixed] == ["duplicate"] * 4 + ["accepted"]
        assert cases_read and begun  # the new event's case was read and its event stored
        assert Event.select().where(Event.event_id == later["event_id"]).exists()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_each_case_of_a_batch_keeps_its_own_time_received(request, database, make_station, make_event):
    """The batch's rows share one "now", written once; each case's own time received stays its own."""
    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    times = ["2026-11-20T09:30:00+08:00", "2026-11-21T15:05:07+08:00", "2026-11-23T08:00:59+08:00"]
    batch = [make_event(payload=case_snapshot(received_at=at)) for at in times]
    with app.app_context():
        station = Station.get(Station.code == "ST-A")
        results, _ = ingest.receive_batch(station, {"events": batch}, grace_days=30)
        assert [r.status for r in results] == ["accepted"] * 3
        cases = {c.case_id: c for c in HubCase.select()}
        got = [cases[event["case_id"]].received_time.isoformat(" ") for event in batch]
        assert got == ["2026-11-20 09:30:00", "2026-11-21 15:05:07", "2026-11-23 08:00:59"]
        assert len({(c.created_at, c.updated_at) for c in cases.values()}) == 1  # the batch's one "now"


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_new_batch_reads_its_events_and_their_cases_conflicts_in_one_statement(request, database, make_station,
                                                                                 make_event, monkeypatch):
    """Each statement costs the database more in place than its own work: the conflicts that hold a
    case's later events ride with the events' read, and still hold them."""
    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    with app.app_context():
        station = Station.get(Station.code == "ST-A")
        submitted = make_event()
        assert ingest.receive_batch(station, {"events": [submitted]}, grace_days=30)[0][0].status == "accepted"
        clash = make_event(case_id=submitted["case_id"], seq=2, kind=events.NOTE, payload={"text": "甲"})
        other = make_event(case_id=submitted["case_id"], seq=2, kind=events.NOTE, payload={"text": "乙"})
        assert ingest.receive_batch(station, {"events": [clash]}, grace_days=30)[0][0].status == "accepted"
        assert ingest.receive_batch(station, {"events": [other]}, grace_days=30)[0][0].status == "conflict"
        monkeypatch.setattr(ingest.tally, "fold_sometimes", lambda: None)
        statements: list[str] = []
        real = ingest.db.obj.execute_sql
        monkeypatch.setattr(ingest.db.obj, "execute_sql",
                            lambda sql, *a, **kw: statements.append(sql) or real(sql, *a, **kw))
        waiting = make_event(case_id=submitted["case_id"], seq=3, kind=events.NOTE, payload={"text": "丙"})
        fresh = make_event()
        results, _ = ingest.receive_batch(station, {"events": [waiting, fresh]}, grace_days=30)
        assert [(r.status, r.code) for r in results] == [("rejected", "conflict_pending"), ("accepted", None)]
        reads = [sql for sql in statements if "hub_conflict" in sql or '"hub_event" WHERE' in sql]
        assert len(reads) == 1 and "hub_conflict" in reads[0] and "hub_event" in reads[0]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_county_decision_landing_between_the_read_and_the_write_of_a_withdrawal_is_not_undone(
        request, database, make_station, make_event, monkeypatch):
    """The clerk completes the case while the hub applies the resident's withdrawal read a moment before:
    the withdrawal's write is conditional on the status it was applied against, so it is classified again
    (one by one) and kept as a late withdrawal (撤回未生效) on the completed case, never 已撤回 over 办结.

    The batch path reads its cases before its transaction: the window is real there, and the decision
    here commits in it as another worker's would. (The one-by-one path reads inside its transaction and
    writes under the same condition; a decision made inside that transaction would roll back with it,
    so it cannot be raced this way in one process.)"""
    from sync.hub.services import case_view, decisions

    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    make_station(app, "ST-A", "甲村便民服务站")
    with app.app_context():
        station = Station.get(Station.code == "ST-A")
        submitted = make_event()
        assert ingest.receive_event(station, submitted).status == "accepted"
        case_id = submitted["case_id"]
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
        original = case_view.APPLY[events.WITHDRAWN]
        raced: list[str] = []

        def apply_while_the_clerk_decides(case, event, now, writes=None):  # noqa: ANN001, ANN202
            updates = original(case, event, now, writes)
            if not raced:  # the clerk's 办结 commits after the case was read, before it is written
                raced.append("decided")
                decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved"), clerk="clerk")
            return updates

        withdrawal = make_event(case_id=case_id, seq=2, kind=events.WITHDRAWN,
                                payload={"reason": "不再需要", "requested_by": "applicant"})
        with monkeypatch.context() as patch:
            patch.setitem(case_view.APPLY, events.WITHDRAWN, apply_while_the_clerk_decides)
            results, _ = ingest.receive_batch(station, {"events": [withdrawal]}, grace_days=30)
            [result] = results
        assert raced == ["decided"] and result.status == "accepted"
        case = HubCase.get(HubCase.case_id == case_id)
        assert case.status == "completed"
        assert personal.open_snapshot(case.snapshot)["withdrawal"]["late"] == "completed"
