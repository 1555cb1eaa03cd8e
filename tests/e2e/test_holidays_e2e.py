"""The county publishes 2027's holidays (chinese_calendar 1.11.0 stops at 2026) and a real station, on its
next sync, counts its 暂定 deadlines again (SQLite and PostgreSQL hubs)."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case, User
from station.services import intake
from station.services.calendar import load_calendar
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
