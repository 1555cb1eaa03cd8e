"""The county publishes 2027's holidays (chinese_calendar 1.11.0 stops at 2026) and a real station, on its
next sync, counts its 暂定 deadlines again (SQLite and PostgreSQL hubs)."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case, TimelineEntry, User
from station.services import follow_up, intake
from station.services.calendar import load_calendar, set_override
from tests.fixtures.e2e import sync
from tests.fixtures.intake import form_for, item_named

pytestmark = pytest.mark.slow

CSV_2027 = "day,kind,name\n2027-01-01,放假,元旦\n2027-02-06,放假,春节\n2027-02-07,上班,春节调休上班\n"


def test_the_countys_2027_table_reaches_the_station_and_its_provisional_deadlines_become_firm(linked, hub, agent):
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import holidays

    with linked.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")  # 10 working days committed
        draft = intake.check_input([item], form_for([item]), dt.date(2026, 12, 20))
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"),
                                     received_at=dt.datetime(2026, 12, 20, 9, 30))
    assert case.committed_due == dt.date(2027, 1, 1) and case.committed_provisional
    assert not sync(linked).error
    with linked.app_context(), db.connection_context():
        assert Case.get_by_id(case.id).committed_provisional  # nothing published yet: still 暂定

    with hub.app.app_context(), hub_db.connection_context():
        year, rows = holidays.parse_csv(CSV_2027)
        holidays.publish(year, rows, "县级管理员")
    assert not sync(linked).error

    with linked.app_context(), db.connection_context():
        again = Case.get_by_id(case.id)
        assert again.committed_due == dt.date(2027, 1, 4) and not again.deadline_provisional
        calendar = load_calendar()
        assert calendar.year_known(2027) and calendar.is_workday(dt.date(2027, 2, 7))  # a Sunday worked
    shown = agent.get(f"/cases/{case.id}").get_data(as_text=True).split("<dt>承诺期限</dt>")[1].split("</dd>")[0]
    assert "2027-01-04" in shown and "暂定" not in shown

    # the county moves with it: the station's note carries the new dates, the hub takes them (its lists,
    # 预警 and roll-up), as both sides now count with the same 2027 table
    assert not sync(linked).error
    from sync.hub.models import HubCase

    with hub.app.app_context(), hub_db.connection_context():
        held = HubCase.get(HubCase.case_id == case.id)
        assert (held.committed_due, held.statutory_due) == (again.committed_due, again.statutory_due)


def test_the_countys_dates_after_a_supplement_pause_reach_the_station_where_its_own_shift_differs(linked, hub):
    """The station's admin has a local rest day inside the 补正 pause (the county has none): each side moves the
    dates on by the pause with its own calendar, so they part by a day. The county's stand — the next sync brings
    them (``case.dues``) to the case page, once, and the station sends no recount of them."""
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubCase
    from sync.hub.services import decisions
    from sync.hub.services import workdays as hub_workdays
    from sync.outbox import OutboxEvent

    today = dt.date.today()
    received, asked = dt.datetime.combine(today - dt.timedelta(days=10), dt.time(9, 30)), today - dt.timedelta(days=7)
    with linked.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item]), received.date())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), received_at=received)
    assert not sync(linked).error
    with hub.app.app_context(), hub_db.connection_context():
        county = hub_workdays.calendar()
        local = next(asked + dt.timedelta(days=n) for n in range(1, 8) if county.is_workday(asked + dt.timedelta(days=n)))
        decisions.decide(case.id, decisions.DecisionInput(kind="supplement", supplement_keys=("hukou_book",),
                                                          reason="户口簿复印件不清晰"),
                         clerk="县级张", at=dt.datetime.combine(asked, dt.time(2, 0)))  # UTC: 10:00 in China
    assert not sync(linked).error
    with linked.app_context(), db.connection_context():
        set_override(local, False, "本地停电停办")  # the station's own: the county never hears of it
        follow_up.submit_supplement(Case.get_by_id(case.id), User.get(User.username == "agent"),
                                    [follow_up.SuppliedMaterial("hukou_book", "copy")], "重新复印")
        own = Case.get_by_id(case.id)
    assert not sync(linked).error  # the answer goes up, the county's dates come down (case.dues)
    with hub.app.app_context(), hub_db.connection_context():
        held = HubCase.get(HubCase.case_id == case.id)
    assert held.committed_due != own.committed_due  # the two shifts part by the station's rest day
    assert not sync(linked).error  # a second round changes nothing
    with linked.app_context(), db.connection_context():
        now_held = Case.get_by_id(case.id)
        assert (now_held.committed_due, now_held.statutory_due) == (held.committed_due, held.statutory_due)
        lines = [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == case.id) & (TimelineEntry.action == "county_dues"))]
        assert lines == [f"以县级平台的期限为准：承诺期限由 {own.committed_due} 改为 {held.committed_due}；"
                         f"法定期限由 {own.statutory_due} 改为 {held.statutory_due}"]
        assert not OutboxEvent.select().where((OutboxEvent.case_id == case.id)
                                              & (OutboxEvent.kind == "case.note")).exists()
