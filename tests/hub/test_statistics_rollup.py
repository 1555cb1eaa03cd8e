"""The statistics roll-up on SQLite and PostgreSQL: after events (in a batch and one by one), replays,
county decisions and a later materials list, every figure of the county page and of one station's
equals a count made here over the case rows, and the roll-up equals migration 0017's backfill."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import threading
import time
from collections import Counter

import pytest

from rules import events
from rules.periods import Period
from sync.hub.china_time import china_today
from sync.hub.extensions import db
from sync.hub.models import CaseTally, CaseTallyDelta, HubCase, Station
from sync.hub.services import county_settings, decisions, ingest, statistics, tally
from tests.fixtures.hub import case_snapshot

TODAY = china_today()
PERIOD = Period("range", TODAY - dt.timedelta(days=20), TODAY)
OPEN = {"submitted", "accepted", "supplement"}
CLOSED = {"completed", "rejected", "delivered"}
DATES = {"statutory_due", "committed_due", "assessed_due", "received_time", "closed_at"}  # compared as days
backfill = importlib.import_module("sync.hub.migrations.0017_case_tally").backfill


def running(r: dict) -> bool:
    """Open with its clocks running: a case waiting for its 补正 materials is paused, counted overdue nowhere."""
    return r["status"] in OPEN and not (r["status"] == "supplement" and not r["supplied_at"])


def _day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def _case(make_event, n: int) -> dict:
    """Case n: received n days ago (two of them before the period), items, modes, decisions and dues varied."""
    deferred = n % 4 == 1
    materials = [{"key": "id_card", "name": "居民身份证", "status": "deferred" if deferred else "provided",
                  "due_date": _day(n - 3) if deferred else None, "e_license_no": None},
                 {"key": "pledge", "name": "承诺书", "status": "commitment" if n % 5 == 2 else "provided",
                  "due_date": None, "e_license_no": None}]
    payload = case_snapshot(
        case_no=f"C{n:04d}", item_name=("养老保险参保登记", "低保申请", "残疾人证")[n % 3],
        mode=("proxy", "assisted")[n % 2], decision=("collected", "deferred", "not_collected", "accepted")[n % 4],
        applicant={"name": f"居民{n}", "cert_type": "111", "id_number": "110105194912310021",
                   "phone": "13800001234", "address": "示范村", "area_code": ("141081102201", "141081102202")[n % 2]},
        agent={"username": f"a{n % 3}", "name": f"代办员{n % 3}"}, materials=materials,
        statutory_due=_day(n - 10), committed_due=_day(n - 4 + n % 3),
        received_at=f"{_day(n)}T{9 + n % 8:02d}:15:00+08:00")
    return make_event(kind=events.SUBMITTED, payload=payload)


def _rows() -> list[dict]:
    cursor = db.execute_sql("SELECT station_id, item_name, area_code, agent_name, status, mode, station_decision, "
                            "commitment, statutory_due, committed_due, assessed_due, received_time, closed_at, "
                            "deferred_total, deferred_on_time, deferred_late, supplied_at FROM hub_case")
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, (str(v)[:10] if k in DATES and v else v
                             for k, v in zip(names, row, strict=True)), strict=True)) for row in cursor.fetchall()]


def _expected(rows: list[dict], today: dt.date, station_id: int | None) -> dict:
    """Every figure, counted here in plain Python over the case rows."""
    scope = [r for r in rows if station_id is None or r["station_id"] == station_id]
    cases = [r for r in scope if r["received_time"] and PERIOD.start.isoformat() <= r["received_time"]
             <= PERIOD.end.isoformat()]
    lines = {}
    for line in ("statutory", "committed", "assessed"):
        t = Counter()
        for r in cases:
            due = r[f"{line}_due"]
            if not due:
                continue
            if r["status"] in CLOSED and r["closed_at"]:
                t["on_time" if r["closed_at"] <= due else "late"] += 1
            elif running(r) and due < today.isoformat():
                t["overdue"] += 1
        lines[line] = (t["on_time"], t["late"], t["overdue"])
    trend_days = {(TODAY - dt.timedelta(days=k)).isoformat() for k in range(30)}
    return {
        "total": len(cases),
        "item": Counter(r["item_name"] for r in cases),
        "mode": Counter({"proxy": "代办", "assisted": "帮办"}[r["mode"]] for r in cases),
        "agent": Counter((r["agent_name"], r["station_id"]) for r in cases),
        "station": Counter(r["station_id"] for r in cases),
        "status": Counter(r["status"] for r in cases),
        "lines": lines,
        "deferred": tuple(sum(r[k] for r in cases) for k in ("deferred_total", "deferred_on_time", "deferred_late")),
        "received": Counter(r["received_time"] for r in scope if r["received_time"] in trend_days),
        "closed": Counter(r["closed_at"] for r in scope if r["closed_at"] and r["status"] in CLOSED),
    }


def _assert_figures(stats: statistics.Statistics, want: dict, station_names: dict[int, str]) -> None:
    from rules.labels import HUB_CASE_STATUSES

    assert stats.total == want["total"]
    assert dict(stats.table("item").rows) == dict(want["item"])
    assert dict(stats.table("mode").rows) == dict(want["mode"])
    assert dict(stats.table("status").rows) == {HUB_CASE_STATUSES[s]: n for s, n in want["status"].items()}
    assert dict(stats.table("agent").rows) == {f"{a}（{station_names[s]}）" if station_names else a: n
                                               for (a, s), n in want["agent"].items()}
    assert {f.line: (f.on_time, f.late, f.open_overdue) for f in stats.on_time} == want["lines"]
    assert (stats.deferred.total, stats.deferred.on_time, stats.deferred.late) == want["deferred"]
    assert [(d, a, b) for d, a, b in stats.trend] == [
        (d, want["received"][d.isoformat()], want["closed"][d.isoformat()]) for d, _a, _b in stats.trend]
    if want["station"] and len(station_names) > 1:
        assert dict(stats.table("station").rows) == {station_names[s]: n for s, n in want["station"].items()}


def _tally() -> dict:
    tally.fold()
    return {(r.station_id, str(r.day)[:10], r.figure, r.label): r.n for r in CaseTally.select() if r.n}


@pytest.fixture
def played(any_hub_app, make_station, make_event):
    """Two stations' cases through the real services: a batch, one-by-one events, replays, decisions."""
    app = any_hub_app
    a = make_station(app, "ST-A", "甲村便民服务站")
    make_station(app, "ST-B", "乙村便民服务站")
    with app.app_context(), db.connection_context():
        county_settings.set_assessed_days({"000111001000": 3}, clerk="admin")  # the 考核 line for every case
    a_cases = [_case(make_event, n) for n in range(0, 24)]
    assert {r["status"] for r in a.results(a_cases)} == {"accepted"}  # the batch path
    assert {r["status"] for r in a.results(a_cases)} == {"duplicate"}  # the same batch again
    b_cases = [_case(make_event, n) for n in (1, 2, 5, 6, 9)]
    with app.app_context(), db.connection_context():
        station_b = Station.get(Station.code == "ST-B")
        b_later = [make_event(case_id=event["case_id"], seq=2, kind=events.MATERIALS_UPDATED,
                              payload={"materials": event["payload"]["materials"]}) for event in b_cases[:3]]
        for event in b_cases + b_cases[:2] + b_later + b_later[:1]:  # one by one, some twice
            ingest.receive_event(station_b, event)
        for n, event in enumerate(a_cases):
            kind = ("accepted", "supplement", "rejected", "completed", None)[n % 5]
            status = HubCase.get(HubCase.case_id == event["case_id"]).status
            if kind is None or status not in decisions.ALLOWED_FROM[kind] | {"submitted"}:
                continue
            if kind == "completed" and status == "submitted":
                decisions.decide(event["case_id"], decisions.DecisionInput(kind="accepted"), clerk="c")
            decided_at = dt.datetime.combine(TODAY - dt.timedelta(days=max(0, n - 8)), dt.time(3))
            data = decisions.DecisionInput(kind=kind, reason="材料不全" if kind != "completed" else None,
                                           supplement_keys=("id_card",) if kind == "supplement" else (),
                                           result="approved" if kind == "completed" else None)
            decisions.decide(event["case_id"], data, clerk="c", at=decided_at)
    # later events: the deferred material brought (a materials list), a result handed over; and replays
    later = []
    for n, event in enumerate(a_cases):
        if n % 4 == 1:
            materials = [dict(m, status="provided", received_at=_day(n - 1 - (n % 8 == 5) * 4)) if m["due_date"] else m
                         for m in event["payload"]["materials"]]
            later.append(make_event(case_id=event["case_id"], seq=2, kind=events.MATERIALS_UPDATED,
                                    payload={"materials": materials}))
        elif n % 5 == 3:
            later.append(make_event(case_id=event["case_id"], seq=2, kind=events.DELIVERED,
                                    payload={"method": "pickup", "delivered_on": _day(0)}))
    answers = a.results(later)
    assert {r["status"] for r in answers} == {"accepted"}, [r for r in answers if r["status"] != "accepted"]
    assert {r["status"] for r in a.results(later + a_cases[:3])} == {"duplicate"}
    return app


def test_county_figures_equal_a_count_over_the_rows(played) -> None:
    with played.app_context(), db.connection_context():
        rows = _rows()
        names = {s.id: s.name for s in Station.select()}
        stats = statistics._compute(PERIOD, TODAY, None)
        want = _expected(rows, TODAY, None)
        assert want["total"] > 20 and all(sum(v) for v in want["lines"].values())
        assert want["deferred"][1] and want["deferred"][2] and {"delivered", "rejected"} <= set(want["status"])
        _assert_figures(stats, want, names)
        for station_id in names:
            _assert_figures(statistics._compute(PERIOD, TODAY, Station.get_by_id(station_id)),
                            _expected(rows, TODAY, station_id), {})


def test_overdue_is_decided_on_the_day_the_page_is_read(played) -> None:
    later = TODAY + dt.timedelta(days=9)
    with played.app_context(), db.connection_context():
        rows = _rows()
        now, then = statistics._compute(PERIOD, TODAY, None), statistics._compute(PERIOD, later, None)
        assert [f.open_overdue for f in then.on_time] == [
            v[2] for v in _expected(rows, later, None)["lines"].values()]
        assert sum(f.open_overdue for f in then.on_time) > sum(f.open_overdue for f in now.on_time)
        ranking = {name: overdue for name, _n, overdue, _rate in then.ranking}
        assert sum(ranking.values()) == _expected(rows, later, None)["lines"]["committed"][2]


def test_the_kept_roll_up_equals_the_migrations_backfill(played) -> None:
    with played.app_context(), db.connection_context():
        kept = _tally()
        backfill(db)
        assert kept == _tally() and len(kept) > 50


def test_a_station_mode_with_a_bar_in_it_is_counted_not_a_crash(hub_app, station_a, make_event) -> None:
    odd = make_event(payload=case_snapshot(mode="帮|办", received_at=f"{_day(1)}T10:00:00+08:00"))
    plain = make_event(payload=case_snapshot(received_at=f"{_day(1)}T11:00:00+08:00"))
    assert {r["status"] for r in station_a.results([odd, plain])} == {"accepted"}
    with hub_app.app_context(), db.connection_context():
        stats = statistics._compute(PERIOD, TODAY, None)
    assert dict(stats.table("mode").rows) == {"帮|办": 1, "代办": 1}
    assert dict(stats.table("decision").rows) == {"收件": 2}


def test_a_fold_changes_no_figure_and_empties_the_appended_changes(played) -> None:
    """The statistics read the roll-up plus what is not folded yet: the same before and after a fold."""
    with played.app_context(), db.connection_context():
        case = HubCase.get(HubCase.status == "submitted")
        decisions.decide(case.case_id, decisions.DecisionInput(kind="accepted"), clerk="c")  # appended, not folded
        assert CaseTallyDelta.select().count() > 0
        def figures() -> list:  # when they were counted (to the second) is not a figure
            return [dataclasses.replace(statistics._compute(PERIOD, TODAY, scope), counted_at=None)
                    for scope in (None, *Station.select())]

        before = figures()
        assert tally.fold() > 0
        assert CaseTallyDelta.select().count() == 0
        assert figures() == before
        folded = _tally()
        county = {key[1:]: n for key, n in folded.items() if key[0] == tally.COUNTY}
        summed: dict = {}
        for (station_id, *key), n in folded.items():
            if station_id != tally.COUNTY:
                summed[tuple(key)] = summed.get(tuple(key), 0) + n
        assert county == {key: n for key, n in summed.items() if n}  # the county's rows: the stations' sums


@pytest.mark.postgres
def test_changes_appended_while_folding_are_all_counted_once(pg_hub_app) -> None:
    """Folds running while batches append (PostgreSQL, several connections): every change counted once."""
    stop = threading.Event()
    appended = []

    def append() -> None:
        with pg_hub_app.app_context(), db.connection_context():
            while not stop.is_set():
                with db.atomic():
                    tally.write(Counter({(7, "2026-11-30", "cases", ""): 1, (8, "2026-11-30", "item", "甲"): 2}))
                appended.append(3)

    def fold() -> None:
        with pg_hub_app.app_context(), db.connection_context():
            while not stop.is_set():
                tally.fold(wait=False)

    threads = [threading.Thread(target=append) for _ in range(3)] + [threading.Thread(target=fold) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    with pg_hub_app.app_context(), db.connection_context():
        tally.fold()
        rows = {(r.station_id, r.figure): r.n for r in CaseTally.select()}
    runs = len(appended)
    assert runs > 20
    assert rows == {(7, "cases"): runs, (8, "item"): 2 * runs, (0, "cases"): runs, (0, "item"): 2 * runs}
