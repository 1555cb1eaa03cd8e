"""A case followed to its end in a real browser (issue 19): the agent answers a 补正, records a
容缺 arrival and a pickup, and starts her day from her to-do; the county sees each on its case."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_journeys import case_numbers, sync_now
from tests.fixtures.browser import print_document, squeeze
from tests.fixtures.e2e import queue_cases
from tests.fixtures.intake import GOOD_ID, form_for, item_named

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ELDERLY = "高龄津贴申领"


def _decide(stack, case_id: str, **kwargs) -> None:  # noqa: ANN001, ANN003
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    with stack.hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(**kwargs), clerk="county")


def _take_deferred(stack) -> str:  # noqa: ANN001
    return _take(stack, **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": dt.date.today().isoformat()})


def _take(stack, **overrides: str) -> str:  # noqa: ANN001
    """A case for the sample resident (GOOD_ID), taken by the agent."""
    from station.extensions import db
    from station.models import User
    from station.services import intake

    with stack.app.app_context(), db.connection_context():
        item = item_named(ELDERLY)
        data = form_for([item], applicant_id_number=GOOD_ID, **overrides)
        draft = intake.check_input([item], data, dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id


@pytest.mark.screens("supplement-answered")
def test_the_agent_answers_a_supplement_and_the_county_sees_it(person, stack, shots, tmp_path):
    [case_id] = queue_cases(stack.app, 1, ELDERLY)
    [case_no] = case_numbers(stack, [case_id])
    clerk = person("clerk")
    sync_now(clerk, stack)
    _decide(stack, case_id, kind="supplement", supplement_keys=("hukou_book",), reason="户口簿复印件不清晰")
    sync_now(clerk, stack)

    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{case_id}")
    form = agent.locator("#supplement-form")
    assert "居民户口簿" in form.inner_text() and "居民身份证" not in form.inner_text()
    agent.check("#supplied__hukou_book__copy")
    agent.fill("#supplement-note", "重新复印首页及本人页")
    shots.take(agent, "form", full_page=True)
    agent.click("#supplement-submit")
    assert "补正材料已登记" in agent.locator(".flash").first.inner_text()
    assert "补交：复印件" in agent.locator("#material-hukou_book").inner_text()
    shots.take(agent, "recorded", full_page=True)
    receipt = squeeze(print_document(agent, "补正材料收取凭证", tmp_path, "supplement-receipt"))
    assert "居民户口簿" in receipt and "复印件" in receipt

    sync_now(clerk, stack)
    county = person("county")
    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=case_no).click()
    assert county.locator("#supplied-badge").inner_text() == "已补正待审"
    assert "复印件" in county.locator("#supplement-answer").inner_text()
    shots.take(county, "county", full_page=True)


@pytest.mark.screens("deferral-arrival")
def test_the_agent_records_a_deferred_material_arriving(person, stack, shots):
    case_id = _take_deferred(stack)
    [case_no] = case_numbers(stack, [case_id])
    agent = person("agent")
    agent.goto(f"{stack.url}/deferrals")
    assert case_no in agent.locator("#deferred-list").inner_text()
    shots.take(agent, "list")
    agent.get_by_role("link", name=case_no).click()
    agent.click("#arrival-photo_1inch")
    assert "已登记补交" in agent.locator(".flash").first.inner_text()
    assert "补交：原件已核验" in agent.locator("#material-photo_1inch").inner_text()
    shots.take(agent, "recorded", full_page=True)

    clerk = person("clerk")
    sync_now(clerk, stack)
    county = person("county")
    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=case_no).click()
    assert "补交：原件已核验" in county.locator("main").inner_text()
    shots.take(county, "county", full_page=True)


@pytest.mark.screens("handover-pickup")
def test_the_applicant_collects_the_result_at_the_window(person, stack, shots, tmp_path):
    case_id = _take(stack)
    [case_no] = case_numbers(stack, [case_id])
    clerk = person("clerk")
    sync_now(clerk, stack)
    _decide(stack, case_id, kind="accepted")
    _decide(stack, case_id, kind="completed", result="approved", result_text="准予发放高龄津贴",
            certificate_no="GLJT-2026-0042")
    sync_now(clerk, stack)

    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{case_id}")
    assert "GLJT-2026-0042" in agent.locator("#case-result").inner_text()
    agent.check("#method-window")
    agent.check("#collector-applicant")
    agent.fill("#collector_id_number", "110105194912310021")  # wrong check digit
    agent.click("#handover-submit")
    assert "领取人证件" in agent.locator(".flash").first.inner_text()
    assert agent.locator("#case-status").inner_text() == "已办结"
    shots.take(agent, "refused")
    agent.check("#method-window")
    agent.check("#collector-applicant")
    agent.fill("#collector_id_number", GOOD_ID)
    agent.click("#handover-submit")
    assert agent.locator("#case-status").inner_text() == "已送达", agent.locator(".flash").all_inner_texts()
    assert "申请人本人" in agent.locator("#handover-done").inner_text()
    shots.take(agent, "delivered", full_page=True)
    slip = squeeze(print_document(agent, "送达回证", tmp_path, "delivery-slip"))
    assert "送达回证" in slip and "GLJT-2026-0042" in slip and GOOD_ID not in slip

    sync_now(clerk, stack)
    county = person("county")
    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=case_no).click()
    assert "已送达" in county.locator("h1").inner_text()
    shots.take(county, "county", full_page=True)


@pytest.mark.screens("agent-todo")
def test_the_agents_home_is_her_to_do(person, stack, shots):
    ids = queue_cases(stack.app, 2, ELDERLY)
    deferred = _take_deferred(stack)
    numbers = case_numbers(stack, [*ids, deferred])
    clerk = person("clerk")
    sync_now(clerk, stack)
    _decide(stack, ids[0], kind="supplement", supplement_keys=("hukou_book",))
    _decide(stack, ids[1], kind="accepted")
    _decide(stack, ids[1], kind="completed", result="approved")
    sync_now(clerk, stack)

    agent = person("agent")
    agent.goto(f"{stack.url}/")
    assert numbers[0] in agent.locator("#todo-supplements + ul").inner_text()
    assert numbers[1] in agent.locator("#todo-handovers + ul").inner_text()
    assert numbers[2] in agent.locator("#todo #deferred-list").inner_text()
    shots.take(agent, "home", full_page=True)
    clerk.goto(f"{stack.url}/")
    assert "本站待办" in clerk.locator("#todo").inner_text()
    assert clerk.locator("#sync-queue").is_visible()
    shots.take(clerk, "clerk-home", full_page=True)
