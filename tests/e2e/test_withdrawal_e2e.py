"""撤回申请 through a real hub on loopback: the withdrawal recorded at the station reaches the county once,
the county's case reads 已撤回, is never overdue, cannot be decided, and the resident's page says so.
A withdrawal that arrives after the county already finished the case does not undo it: the clerk sees it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.extensions import db
from station.models import Case, User
from station.services import cases, intake, withdrawal
from tests.fixtures.e2e import assert_exactly_once, sync
from tests.fixtures.hub import logged_in
from tests.fixtures.intake import form_for, item_named

pytestmark = pytest.mark.slow

REASON = "儿子已在市里办好了，电话13912345678"
LATE = dt.date.today() + dt.timedelta(days=400)  # long past every due date of a case taken today


def _take(app) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id


def _withdraw(app, case_id: str) -> None:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        withdrawal.withdraw(cases.get_case(case_id), User.get(User.username == "agent"), REASON, "applicant")


def _at_hub(hub, fn):  # noqa: ANN001, ANN202
    from sync.hub.extensions import db as hub_db

    with hub.app.app_context(), hub_db.connection_context():
        return fn()


def _decide(hub, case_id: str, **kwargs) -> None:  # noqa: ANN001, ANN003
    from sync.hub.services import decisions

    _at_hub(hub, lambda: decisions.decide(case_id, decisions.DecisionInput(**kwargs), clerk="县级张"))


def _hub_case(hub, case_id: str):  # noqa: ANN001, ANN202
    from sync.hub.models import Event, HubCase

    def read():  # noqa: ANN202
        case = HubCase.get(HubCase.case_id == case_id)
        kinds = [e.kind for e in Event.select().where(Event.case_id == case_id).order_by(Event.seq)]
        return case, kinds

    return _at_hub(hub, read)


def _overdue_at_county(hub, case_id: str) -> dict[str, object]:  # noqa: ANN001
    """Where the county would count this case overdue LATE: 预警, the overdue filter, the dashboard, its page's lines."""
    from sync.hub.models import HubCase
    from sync.hub.services import case_search, dashboard, tally, warnings

    def read() -> dict[str, object]:
        tally.fold()
        case = HubCase.get(HubCase.case_id == case_id)
        return {
            "warned": case_id in {w.case.case_id for w in warnings.find(LATE, 3)},
            "listed_overdue": case_id in {c.case_id for c in case_search.search(
                case_search.CaseSearch(line="committed"), LATE)},
            "dashboard": sum(dashboard.overdue_by_station(LATE, []).get(case.station_id, {}).values()),
            "lines": warnings.lines_of(case, LATE) is not None,
        }

    return _at_hub(hub, read)


NOT_OVERDUE = {"warned": False, "listed_overdue": False, "dashboard": 0, "lines": False}


def test_a_withdrawal_reaches_the_county_once_and_the_case_is_withdrawn_never_overdue_and_not_decidable(
        linked, hub, faults):
    case_id = _take(linked)
    assert not sync(linked).error
    _decide(hub, case_id, kind="accepted")
    assert sync(linked).pulled == 1
    assert _overdue_at_county(hub, case_id)["warned"]  # accepted and long past its dates: on the county's 预警
    faults.down = True
    _withdraw(linked, case_id)
    assert sync(linked).error  # the link is down: the withdrawal waits in the outbox
    faults.down = False
    assert not sync(linked).error
    assert not sync(linked).error  # a second round sends nothing again
    hub_case, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED, events.WITHDRAWN]
    assert hub_case.status == "withdrawn" and hub_case.closed_at is not None
    assert_exactly_once(linked, hub)
    assert _overdue_at_county(hub, case_id) == NOT_OVERDUE

    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已撤回" in page and 'id="withdrawal"' in page and "申请人本人" in page
    assert "儿子已在市里办好了" in page and "13912345678" not in page  # her words, the number masked
    assert 'id="withdrawal-late"' not in page
    refused = clerk.csrf_post(f"/cases/{case_id}/decide", {"kind": "completed", "result": "approved"},
                              token_page=f"/cases/{case_id}", follow_redirects=True).get_data(as_text=True)
    assert "申请人已撤回申请" in refused and "不能办结" in refused
    assert _hub_case(hub, case_id)[0].status == "withdrawn"

    query_code = _hub_case(hub, case_id)[0].query_code
    public = hub.app.test_client().get(f"/q/{query_code}").get_data(as_text=True)
    assert "已撤回" in public and "您已撤回申请" in public and "本次办理结束" in public


def test_a_withdrawal_arriving_after_the_county_completed_the_case_does_not_undo_it_and_the_clerk_sees_it(
        linked, hub):
    case_id = _take(linked)
    assert not sync(linked).error
    _decide(hub, case_id, kind="accepted")
    _decide(hub, case_id, kind="completed", result="approved")
    _withdraw(linked, case_id)  # recorded at the station before it pulled the county's decisions
    summary = sync(linked)
    assert not summary.error
    hub_case, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED, events.WITHDRAWN]  # accepted, not set aside: the station's later events flow
    assert hub_case.status == "completed"  # the county decided first: no going backwards
    assert_exactly_once(linked, hub)
    with linked.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "completed"  # the station follows the county's final decision
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="withdrawal-late"' in page and "撤回未生效" in page and "已办结" in page
    query_code = hub_case.query_code
    public = hub.app.test_client().get(f"/q/{query_code}").get_data(as_text=True)
    assert "已撤回" not in public and "已办结" in public
