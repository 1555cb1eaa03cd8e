"""A station counts a case's 暂定 dates again when the year's holidays arrive and sends the new ones with its
note (rules/events.py ``recount``): the county's lists, 预警 and roll-up move with them — but a date the
county moved itself stays the county's, and a hub one version behind still files the note."""

from __future__ import annotations

import datetime as dt

from rules import events
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Event, HubCase
from sync.hub.services import case_view, dashboard, decisions, holidays, warnings
from tests.fixtures.hub import case_snapshot, hukou_supplied, logged_in

CSV_2027 = "day,kind,name\n2027-01-01,放假,元旦\n"
RECEIVED = "2026-12-01T09:30:00+08:00"
FIRST_WORKDAY = dt.date(2027, 1, 4)  # the Monday after 元旦: the old 承诺 date (1 January) is past by then


def _recount(**dates: str | None) -> dict:
    return {"text": "节假日数据已更新，期限重新计算：承诺期限由 2027-01-01 改为 2027-01-04", "by": "系统",
            "recount": {"reason": "county", "calendar_version": "2027.1", "provisional": False, **dates}}


def _taken_then_published(hub_app, station_a, make_event, **dues: str) -> str:  # noqa: ANN001
    event = make_event(payload=case_snapshot(case_no="JR-1", received_at=RECEIVED, **dues))
    assert station_a.results([event])[0]["status"] == "accepted"
    with hub_app.app_context():
        year, rows = holidays.parse_csv(CSV_2027)
        holidays.publish(year, rows, "县级管理员")
    return event["case_id"]


def _dues_told(station, case_id: str) -> list[dict]:  # noqa: ANN001
    """The ``case.dues`` changes the station's feed serves for the case (payload as served)."""
    served = station.changes(0).get_json()["changes"]
    return [c["payload"] for c in served if c["kind"] == protocol.CHANGE_CASE_DUES and c["case_id"] == case_id]


def _dates_shown(approver, case_id: str) -> str:  # noqa: ANN001
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    return page.split("<dt>法定 / 承诺期限</dt>")[1].split("</dd>")[0]


def test_the_stations_recounted_dates_move_the_countys_lists_warnings_and_roll_up(any_hub_app, make_station,
                                                                                 make_event) -> None:
    """On SQLite and PostgreSQL (the column comes with migration 0035)."""
    hub_app = any_hub_app
    station_a = make_station(hub_app, "ST-A", "甲村便民服务站")
    approver = logged_in(hub_app, "clerk", "approver", "县级窗口")
    case_id = _taken_then_published(hub_app, station_a, make_event,
                                    committed_due="2027-01-01", statutory_due="2027-01-15")
    with hub_app.app_context(), db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert dashboard.overdue_by_station(FIRST_WORKDAY, [])[case.station_id]["committed"] == 1  # the old date
    assert "（暂定）" in _dates_shown(approver, case_id)  # counted before the county published 2027

    note = make_event(case_id=case_id, seq=2, kind=events.NOTE, payload=_recount(
        committed_due="2027-01-04", previous_committed_due="2027-01-01",
        statutory_due="2027-01-18", previous_statutory_due="2027-01-15"))
    assert station_a.results([note])[0]["status"] == "accepted"

    with hub_app.app_context(), db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert (case.committed_due, case.statutory_due) == (dt.date(2027, 1, 4), dt.date(2027, 1, 18))
        assert warnings.lines_of(case, FIRST_WORKDAY).state["committed"] == "soon"  # due that day, not overdue
        assert dashboard.overdue_by_station(FIRST_WORKDAY, []).get(case.station_id, {}).get("committed", 0) == 0
        assert dashboard.overdue_by_station(dt.date(2027, 1, 5), [])[case.station_id]["committed"] == 1
        assert Event.get(Event.event_id == note["event_id"]).kind == events.NOTE  # the note stays for the timeline
    shown = _dates_shown(approver, case_id)
    assert "2027-01-18" in shown and "2027-01-04" in shown and "暂定" not in shown  # counted after 2027 arrived
    assert "补正暂停" not in shown  # moved by the station's new holiday table, not by a 补正 pause
    assert "recount-not-taken" not in approver.get(f"/cases/{case_id}").get_data(as_text=True)  # taken: nothing to flag
    assert _dues_told(station_a, case_id) == []  # the county holds the station's dates: nothing to tell it


def test_a_date_the_county_moved_itself_is_not_overridden_by_the_stations_recount(hub_app, approver, station_a,
                                                                                  make_event) -> None:
    """The hub moved the dates on by the days the case waited for its 补正 (its own calendar): they are no
    longer the ones the station counted from, so the station's recount is kept on the case, not taken."""
    case_id = _taken_then_published(hub_app, station_a, make_event,
                                    committed_due="2027-01-01", statutory_due="2027-01-15")
    with hub_app.app_context(), db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="supplement", reason="补户口簿"), clerk="clerk",
                         at=dt.datetime(2026, 12, 1, 2, 0))
    answer = make_event(case_id=case_id, seq=2, kind=events.SUPPLEMENTED, payload=hukou_supplied("2026-12-03T10:00:00+08:00"))
    assert station_a.results([answer])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        moved = HubCase.get(HubCase.case_id == case_id)
        county = (moved.committed_due, moved.statutory_due)
        assert county[0] > dt.date(2027, 1, 1)  # the county's own shift
    # the station moved its own with its calendar; the county's are told all the same (the same dates change nothing)
    [told] = _dues_told(station_a, case_id)
    assert (told["committed_due"], told["statutory_due"], told["reason"]) == (str(county[0]), str(county[1]),
                                                                              "supplement_pause")

    note = make_event(case_id=case_id, seq=3, kind=events.NOTE, payload=_recount(
        committed_due="2027-01-04", previous_committed_due="2027-01-01",
        statutory_due="2027-01-18", previous_statutory_due="2027-01-15"))
    assert station_a.results([note])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert (case.committed_due, case.statutory_due) == county
        assert case.dues_counted_on is None
        [kept] = case.snapshot["recounts"]
        assert kept["committed_due"] == "2027-01-04" and kept["taken"] is False
    # the station holds its recount now: it is told the county's dates stand (counted before 2027 was published)
    _after_pause, told = _dues_told(station_a, case_id)
    assert told == {"committed_due": str(county[0]), "statutory_due": str(county[1]), "committed_provisional": True,
                    "statutory_provisional": True, "reason": "recount_not_taken"}
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert str(county[0]) in _dates_shown(approver, case_id)
    said = page.split('class="recount-not-taken">')[1].split("</dd>")[0]
    assert "承诺 2027-01-04" in said and "未采用" in said  # the clerk sees what the station counted, and why not
    assert "已通知站点" in said  # and that the station was told the county's (case.dues): the resident hears one date


def test_a_hub_one_version_behind_files_the_note_and_keeps_its_dates(hub_app, station_a, make_event,
                                                                     monkeypatch) -> None:
    """Before this change the hub knew the note as text and by: the new key must not get it refused (a
    refused event is set aside at the station and holds up the case's later events)."""
    monkeypatch.setitem(events.BODIES, events.NOTE, events.BodyShape(required={"text": str}, optional={"by": str}))
    monkeypatch.setitem(case_view.APPLY, events.NOTE, case_view.apply_nothing)
    case_id = _taken_then_published(hub_app, station_a, make_event,
                                    committed_due="2027-01-01", statutory_due="2027-01-15")
    note = make_event(case_id=case_id, seq=2, kind=events.NOTE, payload=_recount(
        committed_due="2027-01-04", previous_committed_due="2027-01-01"))
    assert station_a.results([note])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        assert HubCase.get(HubCase.case_id == case_id).committed_due == dt.date(2027, 1, 1)


def test_the_station_told_the_countys_dates_recounts_from_them_and_a_late_pull_gets_the_dates_in_force(
        hub_app, station_a, make_event) -> None:
    """Once the station holds the county's dates its next recount starts from them, so the county takes it and
    tells nothing more (no loop); a ``case.dues`` change pulled only after that serves the dates then in force,
    never the older ones it was written for."""
    case_id = _taken_then_published(hub_app, station_a, make_event,
                                    committed_due="2027-01-01", statutory_due="2027-01-15")
    with hub_app.app_context(), db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="supplement", reason="补户口簿"), clerk="clerk",
                         at=dt.datetime(2026, 12, 1, 2, 0))
    answer = make_event(case_id=case_id, seq=2, kind=events.SUPPLEMENTED, payload={
        "supplied": [], "materials": [], "note": "补户口簿", "by": "agent",
        "supplied_at": "2026-12-03T10:00:00+08:00"})
    assert station_a.results([answer])[0]["status"] == "accepted"
    [told] = _dues_told(station_a, case_id)
    note = make_event(case_id=case_id, seq=3, kind=events.NOTE, payload=_recount(
        committed_due="2027-01-08", previous_committed_due=told["committed_due"],
        statutory_due="2027-01-22", previous_statutory_due=told["statutory_due"]))
    assert station_a.results([note])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert (case.committed_due, case.statutory_due) == (dt.date(2027, 1, 8), dt.date(2027, 1, 22))
    [late] = _dues_told(station_a, case_id)  # taken: nothing more told
    assert (late["committed_due"], late["statutory_due"]) == ("2027-01-08", "2027-01-22")
    assert not late["committed_provisional"]  # counted after 2027 was published


def _roll_up_is_exact() -> None:
    """The roll-up as the pages read it (folded rows plus appended changes) equals tally.figures over every case."""
    from collections import Counter

    from peewee import fn

    from sync.hub.models import TallyView
    from sync.hub.services import tally

    rows = (TallyView.select(TallyView.station_id, TallyView.day, TallyView.figure, TallyView.label, fn.SUM(TallyView.n))
            .group_by(TallyView.station_id, TallyView.day, TallyView.figure, TallyView.label).tuples())
    kept = Counter({(s, str(d)[:10], f, label): int(n) for s, d, f, label, n in rows if int(n)})
    counted: Counter = Counter()
    for case in HubCase.select():
        tally.add(case.station_id, tally.figures(case), counted)
        tally.add(tally.COUNTY, tally.figures(case), counted)
    assert kept == Counter({key: n for key, n in counted.items() if n})


def test_publishing_a_year_recounts_the_open_cases_assessed_dates_and_marks_a_closed_ones_as_provisional(
        any_hub_app, make_station, make_event) -> None:
    """The 考核时限 is the county's own count (no station recount reaches it): publishing 2027 moves it off 元旦
    for the open case — 四条线, 预警, roll-up, in the publication's transaction — and a case closed before keeps
    the date it was judged by, marked （暂定）. On SQLite and PostgreSQL (the column comes with migration 0036)."""
    from sync.hub.services import county_settings

    hub_app = any_hub_app
    station_a = make_station(hub_app, "ST-A", "甲村便民服务站")
    approver = logged_in(hub_app, "clerk", "approver", "县级窗口")
    with hub_app.app_context(), db.connection_context():
        county_settings.set_assessed_days({"000111001000": 30}, clerk="admin")
    received = "2026-11-20T09:30:00+08:00"  # a Friday: the 30th working day is 元旦 counted Monday to Friday
    open_case, closed_case = (make_event(payload=case_snapshot(case_no=no, received_at=received, decision="accepted",
                                                               committed_due="2027-01-15", statutory_due="2027-01-29"))
                              for no in ("OPEN-1", "DONE-1"))
    assert [r["status"] for r in station_a.results([open_case, closed_case])] == ["accepted", "accepted"]
    with hub_app.app_context(), db.connection_context():
        # both came in, and were counted, on 20 November (the county publishes a later day)
        HubCase.update(assessed_counted_on=dt.date(2026, 11, 20)).execute()
        decisions.decide(closed_case["case_id"], decisions.DecisionInput(
            kind="completed", result="approved", result_text="准予"), clerk="clerk", at=dt.datetime(2026, 11, 21, 2))
        assert HubCase.get(HubCase.case_id == open_case["case_id"]).assessed_due == dt.date(2027, 1, 1)
        year, rows = holidays.parse_csv(CSV_2027)
        holidays.publish(year, rows, "县级管理员")

        held = HubCase.get(HubCase.case_id == open_case["case_id"])
        assert held.assessed_due == FIRST_WORKDAY  # 元旦 skipped now
        assert warnings.lines_of(held, FIRST_WORKDAY).state["assessed"] == "soon"  # due that day, not overdue
        assert dashboard.overdue_by_station(FIRST_WORKDAY, []).get(held.station_id, {}).get("assessed", 0) == 0
        assert HubCase.get(HubCase.case_id == closed_case["case_id"]).assessed_due == dt.date(2027, 1, 1)
        _roll_up_is_exact()

    def assessed_shown(case_id: str) -> str:
        lines = approver.get(f"/cases/{case_id}").get_data(as_text=True).split('id="four-lines">')[1]
        return lines.split("考核")[1].split("</span>")[0]

    assert "2027-01-04" in assessed_shown(open_case["case_id"]) and "暂定" not in assessed_shown(open_case["case_id"])
    said = assessed_shown(closed_case["case_id"])
    assert "2027-01-01" in said and "暂定" in said  # counted before 2027 was published, and it was never recounted
    assert "未重新计算" in said and "站点" not in said  # the county's own count: no station recount will come


def test_a_conflict_the_county_settles_keeping_its_copy_tells_the_station_the_dates_of_that_copy(
        hub_app, station_a, approver, make_event) -> None:
    """The station's different copy of the case (other dates) was set aside: kept the county's, the station is
    told the dates in force, not left with its own copy's."""
    from tests.fixtures.hub import resolve_conflict

    first = make_event(payload=case_snapshot(committed_due="2026-11-27", statutory_due="2026-12-18"))
    assert station_a.results([first])[0]["status"] == "accepted"
    copy = {**first, "payload": case_snapshot(committed_due="2026-12-04", statutory_due="2026-12-25")}
    assert station_a.results([copy])[0]["status"] == "conflict"
    assert _dues_told(station_a, first["case_id"]) == []
    resolve_conflict(approver, protocol.RESOLVE_KEEP_COUNTY, "以县级受理时的材料为准")
    [told] = _dues_told(station_a, first["case_id"])
    assert (told["committed_due"], told["statutory_due"], told["reason"]) == ("2026-11-27", "2026-12-18",
                                                                              "conflict_resolved")
