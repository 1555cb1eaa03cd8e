"""A case followed to its end in a real browser (issue 19): the agent answers a 补正, records a
容缺 arrival and a pickup, and starts her day from her to-do; the county sees each on its case."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.test_journeys import case_numbers, sync_now
from tests.fixtures.browser import fill_intake, print_document, squeeze
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


@pytest.mark.screens("resume-not-collected")
def test_a_resident_turned_away_returns_and_the_form_is_already_filled(person, stack, shots):
    """Issue 19 item 4: the 不予收件 case is taken up again from its case page, both visits linked."""
    first_id = _take(stack, **{"mat__hukou_book__status": "missing"})
    [first_no] = case_numbers(stack, [first_id])
    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{first_id}")
    shots.take(agent, "first-visit", full_page=True)
    agent.click("#resume-case")
    assert agent.input_value("#applicant_name") == "赵秀英" and agent.input_value("#applicant_id_number") == GOOD_ID
    assert first_no in agent.locator("#resume-note").inner_text()
    assert not agent.is_checked("input[name=mat__hukou_book__status][value=provided]")
    agent.check("input[name=mat__hukou_book__status][value=provided]")
    shots.take(agent, "form-filled", full_page=True)
    agent.click("#save-intake")
    agent.wait_for_url(re.compile(r"\?new=1$"))
    assert "已收件" in agent.locator("#case-status").inner_text()
    assert f"首次来访为办件 {first_no}" in agent.locator("main").inner_text()
    shots.take(agent, "second-visit", full_page=True)


@pytest.mark.screens("handover-post")
def test_the_result_goes_by_free_post_and_a_mistyped_tracking_number_keeps_the_form(person, stack, shots, tmp_path):
    case_id = _take(stack)
    [case_no] = case_numbers(stack, [case_id])
    clerk = person("clerk")
    sync_now(clerk, stack)
    _decide(stack, case_id, kind="accepted")
    _decide(stack, case_id, kind="completed", result="approved", result_text="准予发放高龄津贴")
    sync_now(clerk, stack)

    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{case_id}")
    agent.check("#method-post")
    agent.fill("#ems_no", "EA12345CN")  # a digit short
    agent.fill("#address", "示范县东关镇东关村三组12号（女儿赵小明代收）")
    agent.click("#handover-submit")
    assert "EMS 邮件号应为13位" in agent.locator(".flash").first.inner_text()
    assert agent.is_checked("#method-post") and agent.input_value("#ems_no") == "EA12345CN"
    assert "赵小明代收" in agent.input_value("#address")
    shots.take(agent, "refused-kept", full_page=True)
    agent.fill("#ems_no", "EA123456789CN")
    agent.click("#handover-submit")
    assert agent.locator("#case-status").inner_text() == "已送达", agent.locator(".flash").all_inner_texts()
    assert "EA123456789CN" in agent.locator("#handover-done").inner_text()
    shots.take(agent, "posted", full_page=True)
    slip = squeeze(print_document(agent, "送达回证", tmp_path, "delivery-slip-post"))
    assert "EA123456789CN" in slip and "免费邮寄" in slip

    sync_now(clerk, stack)
    county = person("county")
    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=case_no).click()
    assert "EA123456789CN" in county.locator("#delivery").inner_text()
    shots.take(county, "county", full_page=True)


@pytest.mark.screens("bundle-one-receipt")
def test_the_newborn_bundle_is_one_application_with_one_receipt(person, stack, shots, tmp_path):
    """Issue 19 item 6: one form, one query code, one receipt; the 出生医学证明 is not asked for."""
    agent = person("agent")
    agent.goto(f"{stack.url}/intake/bundle/B001")
    assert "无需申请人提交" in agent.locator("#intake-form").inner_text()
    fill_intake(
        agent,
        applicant={"applicant_id_number": GOOD_ID, "applicant_name": "赵秀英", "applicant_phone": "13912345678",
                   "applicant_address": "示范县东关镇东关村三组12号"},
        fields={"baby_name": "王小禾", "baby_sex": "女", "baby_birth_date": dt.date.today().isoformat(),
                "father_name": "王建军", "mother_name": "赵秀英", "birth_hospital": "示范县人民医院",
                "child_order": "一孩", "follow_parent": "随父", "baby_ethnicity": "汉族",
                "card_bank": "中国农业银行", "delivery_method": "服务站领取"},
        materials={"id_card": "provided", "marriage_cert": "provided", "hukou_book": "provided",
                   "family_planning_commitment": "provided", "photo_1inch": "provided"},
    )
    shots.take(agent, "form", full_page=True)
    agent.click("#save-intake")
    agent.wait_for_url(re.compile(r"\?new=1$"))
    bundle = agent.locator("#bundle")
    assert "新生儿出生一件事" in bundle.inner_text() and bundle.locator("tbody tr").count() == 5
    code = agent.locator("#bundle-query-code").inner_text()
    shots.take(agent, "case", full_page=True)
    receipt = squeeze(print_document(agent, "一件事收件回执", tmp_path, "bundle-receipt"))
    assert "共5个事项" in receipt and code in receipt
    for number in bundle.locator("tbody td.mono").all_inner_texts():
        assert number.strip() in receipt

    sync_now(person("clerk"), stack)
    resident = person("county").context.new_page()
    resident.goto(f"{stack.hub.url}/q/{code}")
    for name in ("出生医学证明首次签发", "生育登记", "出生登记（户口登记）", "新生儿参保登记", "社会保障卡申领"):
        assert name in resident.locator("main").inner_text()
    shots.take(resident, "public", full_page=True)
