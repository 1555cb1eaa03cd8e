"""In a real browser: a relative's number on the case page is masked, opened under its 显示 control with a
reason, shown in full once, and masked again on the next view."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import User
from station.services import intake
from tests.fixtures.intake import form_for, item_named

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SON_PHONE, DAUGHTER_ID = "13911113333", "110105199001010033"


def _case(stack) -> str:  # noqa: ANN001
    with stack.app.app_context(), db.connection_context():
        item = item_named("最低生活保障申请")
        data = form_for([item], field__apply_reason=f"儿子电话{SON_PHONE}，女儿身份证{DAUGHTER_ID}")
        draft = intake.check_input([item], data, dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"))
        return case.id


def test_an_agent_opens_one_masked_number_of_the_form_with_a_reason(person, stack, shots):
    case_id = _case(stack)
    page = person("agent")
    page.goto(f"{stack.url}/cases/{case_id}")
    facts = page.locator("section.card", has_text="基本信息")
    assert "儿子电话139****3333" in facts.inner_text() and DAUGHTER_ID not in page.content()

    second = facts.locator("details.reveal-number").nth(1)
    second.locator("summary").click()
    second.locator("select[name=reason]").select_option("contact_resident")
    shots.take(page, "reveal-form-number")
    with page.expect_navigation():
        second.locator("button[type=submit]").click()
    assert DAUGHTER_ID in page.locator(".revealed-number").inner_text()
    assert "已记入访问日志" in page.locator("#revealed-number-note").inner_text()
    assert SON_PHONE not in page.content()
    shots.take(page, "revealed-form-number")

    page.goto(f"{stack.url}/cases/{case_id}")
    assert DAUGHTER_ID not in page.content()
