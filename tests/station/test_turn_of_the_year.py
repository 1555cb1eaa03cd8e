"""Crossing into a year without holiday data: 暂定 deadlines, and what happens when that year's table arrives."""

from __future__ import annotations

import datetime as dt

from station.extensions import db
from station.models import Case, TimelineEntry, User
from station.services import intake
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

ELDERLY = "高龄津贴申领"  # 10 working days committed, 20 statutory


def _taken_on_20_december(app) -> Case:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        item = item_named(ELDERLY)
        draft = intake.check_input([item], form_for([item]), dt.date(2026, 12, 20))
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"),
                                     received_at=dt.datetime(2026, 12, 20, 9, 30))
    return case


def _committed_shown(agent, case_id: str) -> str:  # noqa: ANN001
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    return page.split("<dt>承诺期限</dt>")[1].split("</dd>")[0]


def test_a_provisional_deadline_is_counted_again_when_the_admin_enters_the_new_years_holidays(app, admin, agent):
    case = _taken_on_20_december(app)
    assert case.committed_due == dt.date(2027, 1, 1) and case.committed_provisional  # 元旦 counted as a Friday
    assert "暂定" in _committed_shown(agent, case.id)

    answer = admin.post("/admin/holidays", {"day": "2027-01-01", "is_workday": "0", "name": "元旦",
                                            "mark_year_known": "y"}, follow_redirects=True)
    assert "1个在办办件的暂定期限已按新数据重新计算" in answer.get_data(as_text=True)

    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 4)  # the Monday after 元旦
        assert not again.committed_provisional and not again.deadline_provisional
        assert again.deadline_warning == ""
        said = [e.message for e in TimelineEntry.select().where(TimelineEntry.case == case.id)]
        assert any("承诺期限由 2027-01-01 改为 2027-01-04" in m for m in said)
        [note] = OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.kind == "case.note"))
        assert "2027-01-04" in note.payload["text"]  # the county filed the old date: it is told
    shown = _committed_shown(agent, case.id)
    assert "2027-01-04" in shown and "暂定" not in shown


def test_a_holiday_entered_for_a_year_still_unknown_moves_the_date_and_keeps_it_provisional(app, admin):
    case = _taken_on_20_december(app)
    admin.post("/admin/holidays", {"day": "2027-01-01", "is_workday": "0", "name": "元旦"})
    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 4)
        assert again.committed_provisional and "2027" in again.deadline_warning  # the rest of 2027 still unknown


def _county_publishes(app, days: list[dict], year: int = 2027) -> None:  # noqa: ANN001
    from station.services import county_changes
    from sync import protocol

    with app.app_context(), db.connection_context(), db.atomic():
        county_changes.apply_change(protocol.CHANGE_HOLIDAYS, "", {"year": year, "version": f"{year}.1", "days": days})


def test_the_countys_table_makes_the_year_known_and_keeps_the_admins_local_holiday(app, admin):
    from station.models import HolidayOverride
    from station.services.calendar import load_calendar

    case = _taken_on_20_december(app)
    admin.post("/admin/holidays", {"day": "2027-02-08", "is_workday": "1", "name": "本站春节值班"})  # a local rule
    _county_publishes(app, [{"day": "2027-01-01", "is_workday": False, "name": "元旦"},
                            {"day": "2027-02-07", "is_workday": True, "name": "春节调休上班"},
                            {"day": "2027-02-08", "is_workday": False, "name": "春节"}])
    with app.app_context(), db.connection_context():
        calendar = load_calendar()
        assert calendar.year_known(2027) and calendar.is_workday(dt.date(2027, 2, 7))
        assert calendar.is_workday(dt.date(2027, 2, 8))  # the admin's own row stays over the county's
        assert HolidayOverride.get_by_id(dt.date(2027, 1, 1)).source == "hub"
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 4) and not again.deadline_provisional


def test_a_table_the_station_cannot_read_is_refused_in_chinese_and_changes_nothing(app):
    from station.services.errors import DomainError

    case = _taken_on_20_december(app)
    try:
        _county_publishes(app, [{"day": "2028-01-01", "is_workday": False, "name": "元旦"}])
    except DomainError as exc:
        assert "县级下发的节假日安排无法使用" in exc.message and "不在 2027 年" in exc.message
    else:
        raise AssertionError("a 2028 day in the 2027 table was taken")
    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 1) and again.committed_provisional


def test_the_four_lines_mark_a_line_counted_into_an_unknown_year_as_the_deadlines_above_them(app, agent):
    with app.app_context(), db.connection_context():
        item = item_named(ELDERLY)
        draft = intake.check_input([item], form_for([item]), dt.date(2026, 12, 10))
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"),
                                     received_at=dt.datetime(2026, 12, 10, 9, 30))
    lines = agent.get(f"/cases/{case.id}").get_data(as_text=True).split('id="four-lines">')[1].split("</dd>")[0]
    statutory = lines.split("法定时限")[1].split("</span>；")[0]
    committed = lines.split("承诺时限")[1].split("</span>；")[0]
    assert case.statutory_due.year == 2027 and "（暂定）" in statutory and "2027年节假日数据尚未更新" in statutory
    assert case.committed_due.year == 2026 and "暂定" not in committed


def test_the_admin_sees_which_version_the_county_sent(app, admin):
    assert "县级平台发布该年安排后，下次同步时自动更新" in admin.get("/admin/holidays?year=2027").get_data(as_text=True)
    _county_publishes(app, [{"day": "2027-01-01", "is_workday": False, "name": "元旦"}])
    page = admin.get("/admin/holidays?year=2027").get_data(as_text=True)
    assert "2027年节假日安排由县级平台下发（版本 2027.1" in page and "县级下发" in page


NEW_YEAR = [{"day": "2027-01-01", "is_workday": False, "name": "元旦"}]


def _recount_note(case_id: str) -> dict:
    [note] = OutboxEvent.select().where((OutboxEvent.case_id == case_id) & (OutboxEvent.kind == "case.note"))
    return note.payload


def test_the_county_is_sent_the_recounted_dates_and_the_ones_they_replace(app):
    """The county filed 2027-01-01 with the case: the note carries the new dates themselves, not only
    words, so the county's lists and 预警 can move with the station's (and the resident's receipt)."""
    from rules import events

    case = _taken_on_20_december(app)
    _county_publishes(app, NEW_YEAR)
    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        payload = _recount_note(case.id)
    assert events.body_problem(events.NOTE, payload) is None
    assert "承诺期限由 2027-01-01 改为 2027-01-04" in payload["text"]
    assert payload["recount"] == {
        "reason": "county", "calendar_version": "2027.1", "provisional": False,
        "committed_due": "2027-01-04", "previous_committed_due": "2027-01-01",
        "statutory_due": again.statutory_due.isoformat(), "previous_statutory_due": case.statutory_due.isoformat()}
    assert again.statutory_due > case.statutory_due  # 元旦 now skipped on the 法定 line too


def test_a_recount_keeps_the_days_the_case_waited_for_its_supplement(app):
    """补正 time is not counted (DOMAIN.md A.7): the dates were moved on by the days she took to bring the
    materials; counting again from the day of receipt alone would take those days back from the department."""
    from station.services import time_lines

    case = _taken_on_20_december(app)
    asked, answered = dt.datetime(2026, 12, 22, 10, 0), dt.datetime(2026, 12, 29, 15, 0)  # 5 working days
    with app.app_context(), db.connection_context():
        case = Case.get_by_id(case.id)
        # (no decided_at in the payload: the station caps it at now, and these days are still to come)
        TimelineEntry.create(case=case, actor="县级平台", action="county_supplement", message="补正", at=asked)
        TimelineEntry.create(case=case, actor="agent", action="supplemented", message="已补正", at=answered)
        from station.services.calendar import load_calendar
        assert time_lines.resume(case, asked, answered, load_calendar()) == 5
        case.save()
        assert case.committed_due == dt.date(2027, 1, 8)  # 2027-01-01 + 5, 元旦 still counted as a Friday
    _county_publishes(app, NEW_YEAR)
    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 11)  # 2027-01-04 + 5 working days
        assert _recount_note(case.id)["recount"]["committed_due"] == "2027-01-11"


def _county_dues(app, change_id: int, case_id: str, payload: dict) -> None:  # noqa: ANN001
    """The county's ``case.dues`` change as sync's pull applies it (its own savepoint, the cursor moved on)."""
    from station.sync_hooks import station_hooks
    from sync import protocol
    from sync.pull import apply_page
    from sync.summary import SyncSummary

    with app.app_context(), db.connection_context():
        apply_page(station_hooks(app), [{"change_id": change_id, "kind": protocol.CHANGE_CASE_DUES,
                                         "case_id": case_id, "payload": payload}], change_id, SyncSummary())


def test_the_countys_dates_replace_the_stations_recount_it_did_not_take_and_no_recount_follows(app, agent, client):
    """The county moved the dates itself (its 补正 shift) and kept them over the station's recount: the agent, the
    station's pages and the resident's query here show the county's, once, and the station sends nothing back."""
    case = _taken_on_20_december(app)
    _county_publishes(app, NEW_YEAR)  # the station counts 2027-01-04 and tells the county (not taken there)
    with app.app_context(), db.connection_context():
        Case.update(query_code="K7P20X1M").where(Case.id == case.id).execute()
        statutory = Case.get_by_id(case.id).statutory_due
    county = {"committed_due": "2027-01-06", "statutory_due": "2027-01-20", "committed_provisional": False,
              "statutory_provisional": False, "reason": "recount_not_taken"}
    _county_dues(app, 7, case.id, county)
    _county_dues(app, 8, case.id, county)  # the feed read again (or the same dates told twice): nothing more

    with app.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert (again.committed_due, again.statutory_due) == (dt.date(2027, 1, 6), dt.date(2027, 1, 20))
        assert not again.deadline_provisional and again.deadline_warning == ""
        said = [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == case.id) & (TimelineEntry.action == "county_dues"))]
        assert said == [f"以县级平台的期限为准：承诺期限由 2027-01-04 改为 2027-01-06；法定期限由 {statutory} 改为 2027-01-20"]
        assert OutboxEvent.select().where((OutboxEvent.case_id == case.id)
                                          & (OutboxEvent.kind == "case.note")).count() == 1  # the recount only
    shown = _committed_shown(agent, case.id)
    assert "2027-01-06" in shown and "暂定" not in shown
    assert "2027-01-06" in client.get("/q?q=K7P20X1M").get_data(as_text=True)  # the resident's query here

    _county_publishes(app, NEW_YEAR + [{"day": "2027-02-11", "is_workday": False, "name": "春节"}])
    with app.app_context(), db.connection_context():  # a later table: the county's firm dates are not recounted
        assert Case.get_by_id(case.id).committed_due == dt.date(2027, 1, 6)
        assert OutboxEvent.select().where((OutboxEvent.case_id == case.id)
                                          & (OutboxEvent.kind == "case.note")).count() == 1


def test_a_county_date_still_provisional_is_marked_and_a_date_the_station_cannot_read_changes_nothing(app, agent):
    case = _taken_on_20_december(app)
    _county_dues(app, 3, case.id, {"committed_due": "2027-01-05", "statutory_due": "2027-01-19",
                                   "committed_provisional": True, "statutory_provisional": False})
    with app.app_context(), db.connection_context():
        held = Case.get_by_id(case.id)
        assert held.committed_provisional and held.deadline_provisional and "县级平台" in held.deadline_warning
    assert "暂定" in _committed_shown(agent, case.id)

    _county_dues(app, 4, case.id, {"committed_due": "2027-01-05", "statutory_due": None,
                                   "committed_provisional": True, "statutory_provisional": False})
    with app.app_context(), db.connection_context():  # a date the county does not hold leaves the station's
        assert Case.get_by_id(case.id).statutory_due == dt.date(2027, 1, 19)
    _county_dues(app, 5, case.id, {"committed_due": "2027-13-01", "statutory_due": "2027-01-19"})
    with app.app_context(), db.connection_context():
        assert Case.get_by_id(case.id).committed_due == dt.date(2027, 1, 5)  # unchanged
        from sync.status import pull_problems
        [problem] = pull_problems()  # kept for a person on the sync page, the cursor moved on
        assert problem["kind"] == "case.dues" and "办件期限无法识别" in problem["message"]


def test_a_station_one_release_behind_passes_over_the_countys_dates_and_its_cursor_moves_on(app):
    """An older station knows no ``case.dues``: to it the kind is one it does not know, as a kind newer than this
    release is to this one — neither fails the pull nor is kept as a problem, and the cursor moves past it."""
    from station.sync_hooks import station_hooks
    from sync import state
    from sync.pull import apply_page
    from sync.status import pull_problems
    from sync.summary import SyncSummary

    case = _taken_on_20_december(app)
    with app.app_context(), db.connection_context():
        apply_page(station_hooks(app), [{"change_id": 9, "kind": "case.dues_from_a_newer_county", "case_id": case.id,
                                         "payload": {"committed_due": "2027-01-06"}}], 9, SyncSummary())
        assert Case.get_by_id(case.id).committed_due == dt.date(2027, 1, 1) and pull_problems() == []
        assert state.get_value(state.CURSOR) == "9"
