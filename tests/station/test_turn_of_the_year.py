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
