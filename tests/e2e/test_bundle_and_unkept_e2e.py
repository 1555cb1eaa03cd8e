"""Issue 19's later event shapes through a real hub on loopback, on SQLite and PostgreSQL.

A 一件事 bundle arrives as its items, each once, and the county and the resident see it as one;
an unkept 容缺 promise (``case.commitment_unkept``) arrives once and shows on the county's case.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.extensions import db
from station.models import CaseMaterial, User
from station.services import cases, commitments, intake
from station.services.catalog import get_bundle
from tests.fixtures.e2e import assert_exactly_once, sync
from tests.fixtures.hub import logged_in
from tests.fixtures.intake import form_for, item_named

pytestmark = pytest.mark.slow


def _hub_events(hub, case_id: str) -> list[str]:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Event

    with hub.app.app_context(), hub_db.connection_context():
        return [e.kind for e in Event.select().where(Event.case_id == case_id).order_by(Event.seq)]


def test_a_bundle_arrives_as_its_items_once_and_its_one_code_shows_them_all(linked, hub):
    with linked.app_context(), db.connection_context():
        bundle, items = get_bundle("B001")
        draft = intake.check_input(items, form_for(items), dt.date.today())
        taken = intake.create_cases(items, draft, User.get(User.username == "agent"), bundle_code=bundle.code)
        ids, code = [c.id for c in taken], taken[0].query_code
        names = [c.item.name for c in taken]
    assert not sync(linked).error
    assert all(_hub_events(hub, case_id) == [events.SUBMITTED] for case_id in ids)
    assert_exactly_once(linked, hub)
    public = hub.app.test_client().get(f"/q/{code}").get_data(as_text=True)
    positions = [public.index(name) for name in names]
    assert positions == sorted(positions)  # every item, in the receipt's order
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.client.get(f"/cases/{ids[2]}").get_data(as_text=True)
    assert "一件事：新生儿出生一件事（本件为第 3 / 5 项）" in page and all(name in page for name in names)


def test_an_unkept_promise_reaches_the_county_once_and_shows_on_its_case(linked, hub):
    today = dt.date.today()
    with linked.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item], **{"mat__photo_1inch__status": "deferred",
                                                               "mat__photo_1inch__due": today.isoformat()}), today)
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
    assert not sync(linked).error
    with linked.app_context(), db.connection_context():
        photo = CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "photo_1inch")
        commitments.record_unkept(cases.get_case(case.id), User.get(User.username == "agent"), photo.id,
                                  "电话联系两次，申请人表示不再补交", today=today + dt.timedelta(days=1))
    assert not sync(linked).error
    assert not sync(linked).error  # a second round sends nothing again
    assert _hub_events(hub, case.id) == [events.SUBMITTED, events.COMMITMENT_UNKEPT]
    assert_exactly_once(linked, hub)
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="unkept"' in page and "电话联系两次，申请人表示不再补交" in page
    assert "逾期未补（承诺未履行）" in page  # the materials table shows the current state
