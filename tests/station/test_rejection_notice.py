"""不予受理: the county refused to accept her application, and the station must tell her so, in writing.

行政许可法 §32 wants the refusal in writing with its reasons and her remedies; until now a refused case
left the agent's to-do at once, and nobody was prompted to call her or hand her the 告知书.
"""

from __future__ import annotations

import datetime as dt

from station.extensions import db
from station.models import Case, User
from station.services import cases, intake, notify
from tests.fixtures.intake import form_for, item_named

ITEM = "高龄津贴申领"
PHONE = "13912345678"
REASON = "申请人年龄未满80周岁"


def _rejected(app, days_ago: int = 0) -> Case:
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        decided = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).isoformat()
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "rejected", "reason": REASON, "decided_at": decided})
        return cases.get_case(case.id)


def _tell(agent) -> str:
    """The to-do's 需通知群众 table ("" when nobody needs telling)."""
    home = agent.get("/").get_data(as_text=True)
    return home.split('id="todo-tell"', 1)[1].split("</table>", 1)[0] if 'id="todo-tell"' in home else ""


def test_a_refused_case_is_on_the_to_do_until_she_is_told_with_the_reason_and_the_notice(app, agent) -> None:
    case = _rejected(app)
    tell = _tell(agent)
    assert case.case_no in tell and "告知不予受理（领取告知书）" in tell and "<strong>未通知</strong>" in tell
    assert PHONE not in tell and "139****5678" in tell
    page = agent.get(f"/cases/{case.id}/notify").get_data(as_text=True)
    needs = page.split('id="needs"', 1)[1].split("<form", 1)[0]
    assert f"决定不予受理，理由：{REASON}" in needs and "行政复议" in needs
    assert f"经{case.item.department}审查决定不予受理" in needs and case.item.department  # whom a review is against
    assert f"/cases/{case.id}/print/rejection" in needs  # the 不予受理告知书 to hand her
    answer = agent.post(f"/cases/{case.id}/notify", {"reason": "rejected", "method": "phone", "outcome": "no_answer",
                                                      "note": ""}, follow_redirects=True)
    assert "已记录：电话通知，未接通" in answer.get_data(as_text=True)
    assert case.case_no in _tell(agent)  # not reached yet
    agent.post(f"/cases/{case.id}/notify", {"reason": "rejected", "method": "in_person", "outcome": "told",
                                            "note": "已当面交付告知书"})
    assert case.case_no not in _tell(agent)


def test_a_refusal_past_the_time_for_review_is_no_longer_asked_for(app, agent) -> None:
    old = _rejected(app, days_ago=notify.REJECTION_TELL_DAYS + 2)
    fresh = _rejected(app, days_ago=3)
    with app.app_context(), db.connection_context():
        listed = [c.id for c in notify.rejections_to_tell(dt.date.today())]
    assert listed == [fresh.id]
    tell = _tell(agent)
    assert fresh.case_no in tell and old.case_no not in tell
