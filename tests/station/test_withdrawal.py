"""撤回申请: the applicant withdraws an open case at the station, with her reason; it leaves every open list.

Services first, then the same action through HTTP as the agent clicks it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.extensions import db
from station.models import Case, TimelineEntry, User
from station.services import cases, follow_up, free_text, intake, time_lines, withdrawal
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

ITEM = "高龄津贴申领"
REASON = "儿子已在市里办好，不再需要，联系电话13912345678"


def _agent() -> User:
    return User.get(User.username == "agent")


def _take(**overrides: str) -> Case:
    item = item_named(ITEM)
    draft = intake.check_input([item], form_for([item], **overrides), dt.date.today())
    [case] = intake.create_cases([item], draft, _agent(), allow_duplicate=True)
    return cases.get_case(case.id)


def _county(case: Case, status: str, **payload: object) -> Case:
    with db.atomic():
        cases.apply_county_status(case.id, {"status": status, **payload})
    return cases.get_case(case.id)


def _state(case: Case) -> tuple:
    """Everything a refused withdrawal must leave as it was."""
    fresh = Case.get_by_id(case.id)
    return (fresh.status, fresh.status_reason, fresh.closed_at,
            OutboxEvent.select().where(OutboxEvent.case_id == case.id).count(),
            TimelineEntry.select().where(TimelineEntry.case == case.id).count())


def _withdrawn_events(case: Case) -> list[OutboxEvent]:
    return list(OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.kind == events.WITHDRAWN)))


def test_an_open_case_is_withdrawn_with_its_reason_and_goes_out_as_one_event(database):
    case = _county(_take(), "accepted")
    withdrawal.withdraw(case, _agent(), f"  {REASON} ", "proxy")
    case = cases.get_case(case.id)
    assert (case.status, case.status_name, case.status_reason) == ("withdrawn", "已撤回", REASON)
    assert case.closed_at is not None
    [event] = _withdrawn_events(case)
    assert events.body_problem(events.WITHDRAWN, event.payload) is None
    assert (event.payload["reason"], event.payload["requested_by"], event.payload["by"]) == (REASON, "proxy", "agent")
    [entry] = TimelineEntry.select().where((TimelineEntry.case == case.id) & (TimelineEntry.action == "withdrawn"))
    assert entry.message == f"撤回申请（代办人提出）：{REASON}"


@pytest.mark.parametrize(("reason", "requested_by", "field", "words"), [
    ("   ", "applicant", "withdraw_reason", "请填写撤回原因"),
    ("长" * 201, "applicant", "withdraw_reason", "最多200字"),
    (REASON, "", "withdraw_requested_by", "请选择由谁提出撤回"),
    (REASON, "neighbour", "withdraw_requested_by", "请选择由谁提出撤回"),
])
def test_a_withdrawal_without_a_reason_or_a_requester_is_refused_and_nothing_changes(
        database, reason, requested_by, field, words):
    case = _take()
    before = _state(case)
    with pytest.raises(ValidationFailed) as refused:
        withdrawal.withdraw(case, _agent(), reason, requested_by)
    assert words in refused.value.errors[field]
    assert _state(case) == before


@pytest.mark.parametrize(("setup", "words"), [
    (lambda c: _county(c, "completed", result="approved"), "县级已作出决定"),
    (lambda c: _county(c, "rejected", reason="不符合条件"), "县级已作出决定"),
    (lambda c: withdrawal.withdraw(c, _agent(), "不需要了", "applicant"), "不能重复撤回"),
])
def test_a_decided_or_already_withdrawn_case_cannot_be_withdrawn(database, setup, words):
    case = cases.get_case(setup(_take()).id)
    before = _state(case)
    with pytest.raises(DomainError, match=words):
        withdrawal.withdraw(case, _agent(), REASON, "applicant")
    assert _state(case) == before


def test_a_case_turned_away_has_nothing_to_withdraw(database):
    case = _take(**{"mat__id_card__status": "missing"})
    assert case.status == "not_collected"
    with pytest.raises(DomainError, match="没有在办的申请"):
        withdrawal.withdraw(case, _agent(), REASON, "applicant")


def test_a_withdrawn_case_leaves_the_to_do_lists_and_is_never_overdue(database):
    today = dt.date.today()
    late = today + dt.timedelta(days=400)  # long past every due date
    supplement = _county(_take(), "supplement", reason="复印件不清晰",
                         supplement_items=[{"key": "hukou_book", "name": "居民户口簿"}])
    deferred = _take(**{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": today.isoformat()})
    todo = follow_up.todo(late, load_calendar(), None, [])
    assert [c.id for c in todo.supplements] == [supplement.id]
    assert [d.case.id for d in todo.deferred] == [deferred.id]
    assert {w.case.id for w in time_lines.warnings(late)} >= {deferred.id}
    assert {c.id for c in cases.filtered(cases.CaseFilter(overdue=True), late)} >= {deferred.id}
    for case in (supplement, deferred):
        withdrawal.withdraw(case, _agent(), REASON, "applicant")
    todo = follow_up.todo(late, load_calendar(), None, [])
    assert (todo.supplements, todo.deferred) == ([], [])
    assert not {w.case.id for w in time_lines.warnings(late)} & {supplement.id, deferred.id}
    assert not {c.id for c in cases.filtered(cases.CaseFilter(overdue=True), late)} & {supplement.id, deferred.id}
    assert time_lines.lines_of(cases.get_case(deferred.id), late) is None  # no clock runs on a withdrawn case
    assert [c.id for c in cases.filtered(cases.CaseFilter(status="withdrawn"), late)] == [deferred.id, supplement.id]


def test_a_county_acceptance_taken_before_the_withdrawal_arrived_does_not_undo_it(database):
    case = _take()
    withdrawal.withdraw(case, _agent(), REASON, "applicant")
    case = _county(case, "accepted", hub_case_no="XJ1")
    assert (case.status, case.status_reason) == ("withdrawn", REASON)
    last = TimelineEntry.select().where(TimelineEntry.case == case.id).order_by(TimelineEntry.id.desc()).first()
    assert "办件仍为已撤回" in last.message


def test_a_county_completion_taken_before_the_withdrawal_arrived_stands_and_says_so(database):
    case = _county(_take(), "accepted")
    withdrawal.withdraw(case, _agent(), REASON, "applicant")
    case = _county(case, "completed", result="approved")
    assert case.status == "completed"  # the result exists: it goes on the handover list
    last = TimelineEntry.select().where(TimelineEntry.case == case.id).order_by(TimelineEntry.id.desc()).first()
    assert "撤回申请未生效" in last.message


# --- through the case page ------------------------------------------------------------------------

def _in_app(app, fn):  # noqa: ANN001, ANN202
    with app.app_context(), db.connection_context():
        return fn()


def test_the_agent_withdraws_a_case_on_its_page_and_the_reason_shows_masked(app, agent):
    case = _in_app(app, _take)
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="withdraw-form"' in page
    response = agent.post(f"/cases/{case.id}/withdraw",
                          {"withdraw_reason": REASON, "withdraw_requested_by": "applicant"})
    assert response.status_code == 302
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "已登记撤回申请" in page and 'id="withdraw-form"' not in page
    assert '<strong id="case-status">已撤回</strong>' in page and "本站：申请人已撤回申请" in page
    status_line = page[page.index('id="case-status"'):page.index("查询码")]
    assert "儿子已在市里办好" in status_line and "139****5678" in status_line  # her words beside the status…
    assert "13912345678" not in page  # …and on the timeline, the number masked everywhere
    assert "撤回申请（申请人本人提出）" in page  # the timeline
    assert _in_app(app, lambda: len(_withdrawn_events(case))) == 1
    listed = agent.get("/cases/?status=withdrawn").get_data(as_text=True)
    assert case.case_no in listed


def test_an_empty_reason_on_the_page_is_refused_in_chinese_and_changes_nothing(app, agent):
    case = _in_app(app, _take)
    before = _in_app(app, lambda: _state(case))
    response = agent.post(f"/cases/{case.id}/withdraw", {"withdraw_reason": "  ", "withdraw_requested_by": "proxy"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请填写撤回原因" in page and 'id="withdraw-form"' in page
    assert 'value="proxy" id="withdraw-by-proxy" checked' in page  # what was chosen is kept
    assert _in_app(app, lambda: _state(case)) == before


def test_a_withdrawal_without_the_csrf_token_changes_nothing(app, agent):
    case = _in_app(app, _take)
    before = _in_app(app, lambda: _state(case))
    response = agent.client.post(f"/cases/{case.id}/withdraw",
                                 data={"withdraw_reason": REASON, "withdraw_requested_by": "applicant"})
    assert response.status_code == 400
    assert _in_app(app, lambda: _state(case)) == before


def test_every_front_office_role_may_withdraw_and_an_anonymous_visitor_may_not(app, client, clerk, admin):
    first, second = _in_app(app, _take), _in_app(app, _take)
    client.fetch_token("/login")
    response = client.post(f"/cases/{first.id}/withdraw", {"withdraw_reason": REASON,
                                                            "withdraw_requested_by": "applicant"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _in_app(app, lambda: Case.get_by_id(first.id).status) == "collected"
    for user, case in ((clerk, first), (admin, second)):
        assert user.post(f"/cases/{case.id}/withdraw", {"withdraw_reason": REASON,
                                                        "withdraw_requested_by": "applicant"}).status_code == 302
        assert _in_app(app, lambda c=case: Case.get_by_id(c.id).status) == "withdrawn"


def test_retention_takes_her_reason_out_of_the_timeline_and_keeps_who_asked(database):
    case = _take()
    withdrawal.withdraw(case, _agent(), REASON, "proxy")
    entry = TimelineEntry.get((TimelineEntry.case == case.id) & (TimelineEntry.action == "withdrawn"))
    assert free_text.timeline_line_without_text(entry) == "撤回申请（代办人提出）" + free_text.CLEARED


def test_the_resident_gets_a_paper_confirmation_naming_who_asked_and_her_reason_masked(database):
    from station.services import paper
    from tests.fixtures.pdf import flat, pdftotext

    case = _take()
    assert "withdrawal" not in [d.key for d in paper.applicable_documents(case)]
    withdrawal.withdraw(case, _agent(), REASON, "proxy")
    case = cases.get_case(case.id)
    assert "withdrawal" in [d.key for d in paper.applicable_documents(case)]
    pdf, title = paper.render(case, "withdrawal", _agent())
    text = flat(pdftotext(pdf))
    assert title == "撤回申请确认单" and flat("经代办人提出") in text
    assert flat("儿子已在市里办好，不再需要，联系电话139****5678") in text and "13912345678" not in text
