"""好差评 between a real station and a real hub on loopback (SQLite and PostgreSQL): a kiosk rating
reaches the county exactly once and opens a 整改 there; the 整改's steps and a rating given on the
county's public page come back down to the station."""

from __future__ import annotations

import pytest

from station.extensions import db
from station.models import Case, Evaluation, Remedy, User
from station.services import evaluations
from tests.fixtures.e2e import assert_exactly_once, queue_cases, sync

pytestmark = pytest.mark.slow


def _hub(hub, fn):  # noqa: ANN001, ANN202
    from sync.hub.extensions import db as hub_db

    with hub.app.app_context(), hub_db.connection_context():
        return fn()


def _station(app, fn):  # noqa: ANN001, ANN202
    with app.app_context(), db.connection_context():
        return fn()


def test_a_kiosk_rating_reaches_the_county_once_and_its_remedy_comes_back(linked, hub, agent):
    from sync.hub.models import HubEvaluation
    from sync.hub.models import Remedy as HubRemedy
    from sync.hub.services import remedies, users

    [case_id] = queue_cases(linked, 1)

    def rate():
        case = Case.get_by_id(case_id)
        token = evaluations.open_kiosk(case, User.get(User.username == "agent"), "k")
        kiosk = evaluations.read_kiosk(token, "k", 60)
        evaluations.rate_at_kiosk(kiosk, "dissatisfied", "unclear", "材料没一次说清楚")
    _station(linked, rate)
    assert not sync(linked).error
    assert not sync(linked).error  # a second round sends nothing again
    assert_exactly_once(linked, hub)
    rows = _hub(hub, lambda: [(e.case_id, e.visit, e.level, e.channel, e.source) for e in HubEvaluation.select()])
    assert rows == [(case_id, "intake", "dissatisfied", "hall_tablet", "station")]
    rid = _hub(hub, lambda: HubRemedy.get().id)

    def work():
        users.create_user("county1", "county1-pass-1a", name="县级审批员", role="approver")  # the 整改 owner
        remedies.assign(rid, "county1", by="county1")
        remedies.add_contact(rid, "phone", "已回访，说明材料清单", by="county1")
        remedies.record_fix(rid, "一次性告知单按事项打印", by="county1")
        remedies.record_answer(rid, "群众满意", by="county1")
        remedies.close(rid, "已整改", by="county1")
    _hub(hub, work)
    assert not sync(linked).error
    remedy = _station(linked, lambda: Remedy.get())
    assert remedy.status == "closed" and remedy.data["closing_note"] == "已整改" and remedy.case_id == case_id
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)  # the agent reads who answers for it
    assert "责任人：县级审批员" in page and "county1" not in page


def test_a_rating_on_the_public_page_shows_at_the_station(linked, hub):
    from sync.hub.services import evaluations as hub_evaluations

    [case_id] = queue_cases(linked, 1)
    assert not sync(linked).error
    code = _station(linked, lambda: Case.get_by_id(case_id).query_code)
    _hub(hub, lambda: hub_evaluations.rate_by_code(code, case_id, hub_evaluations.Rating(
        visit="intake", level="very_satisfied", reason_tag="kind")))
    assert not sync(linked).error
    assert not sync(linked).error
    rows = _station(linked, lambda: [(e.visit, e.level, e.source) for e in Evaluation.select()])
    assert rows == [("intake", "very_satisfied", "hub")]
