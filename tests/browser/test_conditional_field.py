"""条件必填 in a real browser: the 邮寄地址 star follows 领卡方式, and the server refuses an empty one anyway."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import item_id

pytestmark = [pytest.mark.browser]

CARD = "社会保障卡申领"


def test_the_mailing_address_is_starred_only_while_free_post_is_chosen(person, stack):
    page = person("agent")
    page.goto(f"{stack.url}/intake/item/{item_id(stack, CARD)}")
    box = page.locator(".field", has=page.locator("#field__mailing_address"))
    assert "（领卡方式选“免费邮寄”时必填）" in box.locator("label").inner_text()
    assert "required-now" not in (box.get_attribute("class") or "")
    page.select_option("#field__delivery_method", "免费邮寄")
    assert "required-now" in box.get_attribute("class")
    assert page.get_attribute("#field__mailing_address", "aria-required") == "true"
    page.select_option("#field__delivery_method", "服务站领取")
    assert "required-now" not in box.get_attribute("class")
