"""A 容缺 date on a rest day: taken, but the agent is told at once; late only after the next working day (民法典 §203)."""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest

from station.extensions import db
from station.models import CaseMaterial, User
from station.services import commitments, follow_up, intake
from station.services.calendar import load_calendar
from station.services.errors import DomainError
from tests.fixtures.intake import form_for, item_named

ITEM = "高龄津贴申领"  # photo_1inch may be deferred; 10 working days committed


def _first_rest_day_after(day: dt.date) -> dt.date:
    calendar = load_calendar()
    day += dt.timedelta(days=1)
    while calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def test_the_form_says_a_picked_rest_day_is_one_and_the_case_is_still_taken(app, agent):
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        rest = _first_rest_day_after(dt.date.today())
        data = form_for([item], **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": rest.isoformat()})
    page = agent.get(f"/intake/item/{item.id}").get_data(as_text=True)
    offered = json.loads(html.unescape(page.split('name="mat__photo_1inch__due"')[1].split('data-rest-days="')[1]
                                       .split('"')[0]))
    assert "站点不办公" in offered[rest.isoformat()]  # what the form shows the moment she picks it

    taken = agent.post(f"/intake/item/{item.id}", data, follow_redirects=True).get_data(as_text=True)
    assert f"的补交日期 {rest.isoformat()} 是" in taken and "站点不办公" in taken and "顺延至" in taken
    with app.app_context(), db.connection_context():
        [material] = CaseMaterial.select().where((CaseMaterial.key == "photo_1inch")
                                                 & (CaseMaterial.status == "deferred"))
        assert material.due_date == rest  # not refused, not changed behind her back


def test_a_working_day_picked_draws_no_rest_day_words(app, agent):
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        calendar = load_calendar()
        workday = calendar.add_working_days(dt.date.today(), 1).due
        data = form_for([item], **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": workday.isoformat()})
    taken = agent.post(f"/intake/item/{item.id}", data, follow_redirects=True).get_data(as_text=True)
    assert "站点不办公" not in taken


@pytest.fixture
def due_on_a_saturday(database) -> CaseMaterial:
    """A photo promised for Saturday 28 November 2026, taken on Wednesday the 25th."""
    item = item_named(ITEM)
    draft = intake.check_input([item], form_for([item], **{"mat__photo_1inch__status": "deferred",
                                                           "mat__photo_1inch__due": "2026-11-28"}),
                               dt.date(2026, 11, 25))
    intake.create_cases([item], draft, User.get(User.username == "agent"),
                        received_at=dt.datetime(2026, 11, 25, 10, 0))
    return CaseMaterial.get((CaseMaterial.key == "photo_1inch") & (CaseMaterial.status == "deferred"))


def test_a_date_that_fell_on_a_saturday_is_not_late_on_the_monday(due_on_a_saturday):
    calendar = load_calendar()
    [monday] = follow_up.deferred_due(dt.date(2026, 11, 30), calendar)
    assert not monday.overdue
    [tuesday] = follow_up.deferred_due(dt.date(2026, 12, 1), calendar)
    assert tuesday.overdue


def test_a_commitment_is_not_recorded_unkept_on_the_monday_after_a_saturday_date(due_on_a_saturday):
    case = due_on_a_saturday.case
    agent = User.get(User.username == "agent")
    with pytest.raises(DomainError, match="尚未过去"):
        commitments.record_unkept(case, agent, due_on_a_saturday.id, "未来", today=dt.date(2026, 11, 30))
    commitments.record_unkept(case, agent, due_on_a_saturday.id, "未来", today=dt.date(2026, 12, 1))
    assert CaseMaterial.get_by_id(due_on_a_saturday.id).status == "unkept"


def test_the_printed_deferral_notice_says_the_rest_day_and_the_day_it_moves_to(app, agent):
    from tests.fixtures.pdf import flat, pdftotext

    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        calendar = load_calendar()
        rest = _first_rest_day_after(dt.date.today())
        moved = calendar.period_end(rest)
        said = calendar.rest_day_name(rest)
        data = form_for([item], **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": rest.isoformat()})
    taken = agent.post(f"/intake/item/{item.id}", data)
    case_id = taken.headers["Location"].split("/cases/")[1].split("?")[0]
    text = flat(pdftotext(agent.get(f"/cases/{case_id}/print/deferral").data))
    expected = f"{rest.year}年{rest.month}月{rest.day}日（{said}，顺延至{moved.year}年{moved.month}月{moved.day}日）"
    assert flat(expected) in text
