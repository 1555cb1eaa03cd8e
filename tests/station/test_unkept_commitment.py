"""An unkept 容缺 promise (issue 19 item 2): recorded by the agent with a note, queued once."""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.models import Case, CaseMaterial, TimelineEntry, User
from station.services import cases, commitments, follow_up, intake
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)


def _agent() -> User:
    return User.get(User.username == "agent")


def _deferred() -> tuple[Case, CaseMaterial]:
    item = item_named("高龄津贴申领")
    draft = intake.check_input([item], form_for([item], **{"mat__photo_1inch__status": "deferred",
                                                           "mat__photo_1inch__due": TODAY.isoformat()}), TODAY)
    [case] = intake.create_cases([item], draft, _agent(), allow_duplicate=True)
    return cases.get_case(case.id), CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "photo_1inch")


def _state(case: Case) -> tuple:
    return ([(m.key, m.status, m.supplied_note) for m in cases.materials(case)],
            OutboxEvent.select().where(OutboxEvent.case_id == case.id).count(),
            TimelineEntry.select().where(TimelineEntry.case == case.id).count())


def test_an_overdue_promise_is_recorded_with_its_note_and_leaves_the_due_list(database):
    case, photo = _deferred()
    assert [d.material.id for d in follow_up.deferred_due(TOMORROW, load_calendar())] == [photo.id]
    commitments.record_unkept(case, _agent(), photo.id, "申请人外出务工，表示不再补交", today=TOMORROW)
    photo = CaseMaterial.get_by_id(photo.id)
    assert (photo.status, photo.status_name, photo.supplied_note) == (
        "unkept", "逾期未补（承诺未履行）", "申请人外出务工，表示不再补交")
    [event] = OutboxEvent.select().where((OutboxEvent.case_id == case.id)
                                         & (OutboxEvent.kind == events.COMMITMENT_UNKEPT))
    assert events.body_problem(events.COMMITMENT_UNKEPT, event.payload) is None
    assert (event.payload["key"], event.payload["due_date"]) == ("photo_1inch", TODAY.isoformat())
    assert follow_up.deferred_due(TOMORROW, load_calendar()) == []
    assert TimelineEntry.select().where((TimelineEntry.case == case.id)
                                        & (TimelineEntry.action == "commitment_unkept")).exists()


@pytest.mark.parametrize(
    ("day", "note", "message"),
    [(TODAY, "不来了", "尚未过去"), (TOMORROW, "  ", "请说明"), (TOMORROW, "长" * 201, "最多200字")],
)
def test_a_promise_not_yet_due_or_without_a_note_is_refused_and_nothing_changes(database, day, note, message):
    case, photo = _deferred()
    before = _state(case)
    with pytest.raises(DomainError) as refused:
        commitments.record_unkept(case, _agent(), photo.id, note, today=day)
    text = " ".join(refused.value.errors.values()) if isinstance(refused.value, ValidationFailed) else refused.value.message
    assert message in text
    assert _state(case) == before


def test_recording_it_twice_or_for_a_provided_material_is_refused(database):
    case, photo = _deferred()
    commitments.record_unkept(case, _agent(), photo.id, "不再补交", today=TOMORROW)
    before = _state(case)
    with pytest.raises(DomainError, match="不是待补交的容缺材料"):
        commitments.record_unkept(case, _agent(), photo.id, "不再补交", today=TOMORROW)
    id_card = CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "id_card")
    with pytest.raises(DomainError, match="不是待补交的容缺材料"):
        commitments.record_unkept(case, _agent(), id_card.id, "x", today=TOMORROW)
    assert _state(case) == before


def test_the_case_page_offers_it_only_once_the_date_has_passed_and_the_form_says_why_not(agent, app):
    from station.extensions import db

    with app.app_context(), db.connection_context():
        case, photo = _deferred()
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="unkept-photo_1inch"' not in page  # due today: not yet unkept
    refused = agent.post(f"/cases/{case.id}/materials/{photo.id}/unkept", {"unkept_note": "不来了"},
                         follow_redirects=True).get_data(as_text=True)
    assert "尚未过去，还不能记为未履行承诺" in refused
    with app.app_context(), db.connection_context():
        assert CaseMaterial.get_by_id(photo.id).status == "deferred"


def test_the_statistics_count_an_unkept_promise_as_never_brought(database):
    """容缺材料补交 on the 报表 page: a material whose promise was recorded unkept was never brought — it read as
    逾期补交 (brought late), sending the station head after a material nobody handed in."""
    from rules.periods import Period
    from station.services import statistics

    made = {what: _deferred() for what in ("brought", "unkept", "waiting")}
    case, photo = made["brought"]
    follow_up.record_arrival(case, _agent(), photo.id)  # today: on its due date
    case, photo = made["unkept"]
    commitments.record_unkept(case, _agent(), photo.id, "申请人表示不再补交", today=TOMORROW)

    deferred = statistics.compute(Period("day", TODAY, TODAY), TOMORROW).deferred
    never_brought = [w for w in made if w != "brought"]  # each due today, so past due tomorrow
    assert (deferred.total, deferred.on_time, deferred.late) == (len(made), 1, 0)
    assert (deferred.outstanding, deferred.outstanding_overdue) == (len(never_brought), len(never_brought))
    assert deferred.rate == 1.0
