"""A case followed to its end through a real hub on loopback (issue 19).

Each new kind of event — the 补正 answer, a 容缺 arrival, the handover — reaches the county
exactly once and shows on the county's case page; an answer given while the link is down
arrives once it is back.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.extensions import db
from station.models import Case, CaseMaterial, User
from station.services import cases, follow_up, intake
from tests.fixtures.e2e import assert_exactly_once, sync
from tests.fixtures.hub import logged_in
from tests.fixtures.intake import GOOD_ID, form_for, item_named

pytestmark = pytest.mark.slow


def _take(app, **overrides: str) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item], **overrides), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id


def _decide(hub, case_id: str, **kwargs) -> None:  # noqa: ANN001, ANN003
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(**kwargs), clerk="县级张")


def _hub_case(hub, case_id: str):  # noqa: ANN001, ANN202
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Event, HubCase

    with hub.app.app_context(), hub_db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        kinds = [e.kind for e in Event.select().where(Event.case_id == case_id).order_by(Event.seq)]
        return case, kinds


def _as_agent(app, fn):  # noqa: ANN001, ANN202
    with app.app_context(), db.connection_context():
        return fn(User.get(User.username == "agent"))


def test_a_supplement_answered_while_the_link_is_down_arrives_once_and_shows_at_the_county(linked, hub, faults):
    case_id = _take(linked)
    assert not sync(linked).error
    _decide(hub, case_id, kind="supplement", supplement_keys=("hukou_book",), reason="户口簿复印件不清晰")
    assert sync(linked).pulled == 1
    faults.down = True
    _as_agent(linked, lambda agent: follow_up.submit_supplement(
        cases.get_case(case_id), agent, [follow_up.SuppliedMaterial("hukou_book", "copy")], "重新复印清晰件"))
    assert sync(linked).error  # the link is down: the answer waits in the outbox
    _hub_case_row, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED]
    faults.down = False
    assert not sync(linked).error
    assert not sync(linked).error  # a second round sends nothing again
    hub_case, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED, events.SUPPLEMENTED]
    assert hub_case.status == "supplement" and hub_case.supplied_at is not None
    assert_exactly_once(linked, hub)
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已补正待审" in page and 'id="supplement-answer"' in page
    assert "居民户口簿" in page and "复印件" in page and "重新复印清晰件" in page


def test_a_deferred_arrival_reaches_the_county_once(linked, hub):
    case_id = _take(linked, **{"mat__photo_1inch__status": "deferred",
                               "mat__photo_1inch__due": dt.date.today().isoformat()})
    assert not sync(linked).error

    def arrive(agent: User) -> None:
        photo = CaseMaterial.get(CaseMaterial.case == case_id, CaseMaterial.key == "photo_1inch")
        follow_up.record_arrival(cases.get_case(case_id), agent, photo.id, "original_seen")

    _as_agent(linked, arrive)
    assert not sync(linked).error
    hub_case, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED, events.MATERIALS_UPDATED]
    photo = next(m for m in hub_case.snapshot["materials"] if m["key"] == "photo_1inch")
    assert photo["status"] == "provided" and photo["supplied_as"] == "original_seen"
    assert_exactly_once(linked, hub)
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "补交：原件已核验" in page


def test_a_pickup_reaches_the_county_once_and_the_case_shows_delivered(linked, hub):
    case_id = _take(linked)
    assert not sync(linked).error
    _decide(hub, case_id, kind="accepted")
    _decide(hub, case_id, kind="completed", result="approved", result_text="自2026年12月起发放",
            certificate_no="GLJT-2026-0042")
    assert sync(linked).pulled == 2
    with linked.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).result_certificate_no == "GLJT-2026-0042"  # the county's 证书编号
    _as_agent(linked, lambda agent: follow_up.record_handover(cases.get_case(case_id), agent, follow_up.HandoverInput(
        method="window", collector_kind="applicant", collector_id_number=GOOD_ID)))
    with linked.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "delivered"
    assert not sync(linked).error
    hub_case, kinds = _hub_case(hub, case_id)
    assert kinds == [events.SUBMITTED, events.DELIVERED]
    assert hub_case.status == "delivered"
    from sync.hub.services.personal import open_snapshot

    with hub.app.app_context():
        delivery = open_snapshot(hub_case.snapshot)["delivery"]  # sealed at rest (hub 0032): opened to read it
    assert GOOD_ID not in str(hub_case.snapshot)
    assert delivery["method"] == "window" and GOOD_ID not in str(delivery)  # the county gets the number masked
    assert_exactly_once(linked, hub)
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已送达" in page and 'id="delivery"' in page and "申请人本人 赵秀英" in page
