"""再次受理 for a case the county refused (issue 19 item 4, second half).

The resident whose application the county refused (不予受理) applies again at the station: the
form opens filled from the first visit and both cases name each other on their timelines — the
same path as a 不予收件 case, which tests/station/test_follow_up.py walks.
"""

from __future__ import annotations

import datetime as dt

from station.extensions import db
from station.models import Case, TimelineEntry, User
from station.services import cases, intake
from tests.fixtures.intake import GOOD_ID, form_for, item_named

ITEM = "高龄津贴申领"


def _refused_case(app) -> tuple[str, int]:
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"))
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "rejected", "reason": "申请人未满80周岁"})
        return case.id, item.id


def _case_id(response) -> str:
    return response.headers["Location"].split("/cases/")[1].split("?")[0]


def test_a_case_the_county_refused_is_taken_up_again_and_both_visits_are_linked(app, agent):
    first_id, item_id = _refused_case(app)
    page = agent.get(f"/cases/{first_id}").get_data(as_text=True)
    assert 'id="resume-case"' in page and "申请人再次申请时" in page

    form = agent.get(f"/intake/item/{item_id}?resume={first_id}").get_data(as_text=True)
    assert 'value="赵秀英"' in form and f'value="{GOOD_ID}"' in form and "县级不予受理" in form

    with app.app_context(), db.connection_context():
        data = form_for([item_named(ITEM)])
    second_id = _case_id(agent.post(f"/intake/item/{item_id}", dict(data, resume=first_id)))
    with app.app_context(), db.connection_context():
        first, second = Case.get_by_id(first_id), Case.get_by_id(second_id)
        assert (first.status, second.status) == ("rejected", "collected")
        assert any(f"首次来访为办件 {first.case_no}（不予受理）" in e.message
                   for e in TimelineEntry.select().where(TimelineEntry.case == second))
        assert any(second.case_no in e.message for e in TimelineEntry.select().where(TimelineEntry.case == first))
    assert 'id="resume-case"' not in agent.get(f"/cases/{first_id}").get_data(as_text=True)


def test_a_case_still_under_way_cannot_be_taken_up_again_and_nothing_changes(app, agent):
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"))
        data, item_id, case_id = form_for([item]), item.id, case.id
        before = Case.select().count()
    assert 'id="resume-case"' not in agent.get(f"/cases/{case_id}").get_data(as_text=True)
    refused = agent.get(f"/intake/item/{item_id}?resume={case_id}", follow_redirects=True).get_data(as_text=True)
    assert "不能再次受理" in refused
    posted = agent.post(f"/intake/item/{item_id}", dict(data, resume=case_id, confirm_duplicate="1"),
                        follow_redirects=True).get_data(as_text=True)
    assert "不能再次受理" in posted
    with app.app_context(), db.connection_context():
        assert Case.select().count() == before
