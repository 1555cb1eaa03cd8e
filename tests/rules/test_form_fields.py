"""Which form answers a submission needs: always-required, conditional (条件必填), and across a bundle."""

from __future__ import annotations

import datetime as dt

import pytest

from rules.form_fields import check_answers, required_marks

DELIVERY = {"name": "delivery_method", "label": "领卡方式", "type": "select", "required": True,
            "options": ["服务站领取", "乡镇便民服务中心领取", "免费邮寄"]}
MAILING = {"name": "mailing_address", "label": "邮寄地址", "type": "text", "required": False,
           "required_when": {"field": "delivery_method", "in": ["免费邮寄"]}}
CARD = [DELIVERY, MAILING]
TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(("answers", "errors"), [
    ({"delivery_method": "免费邮寄"}, {"mailing_address": "“领卡方式”选择“免费邮寄”时须填写“邮寄地址”。"}),
    ({"delivery_method": "免费邮寄", "mailing_address": "东关村三组12号"}, {}),
    ({"delivery_method": "服务站领取"}, {}),
    ({}, {"delivery_method": "请填写“领卡方式”。"}),
])
def test_a_conditional_field_is_required_exactly_when_its_answer_is_chosen(answers, errors):
    kept, found = check_answers([CARD], answers, TODAY)
    assert found == errors
    if not errors:
        assert kept == answers


def test_a_condition_with_several_values_holds_for_each_and_is_marked_with_all():
    mailing = dict(MAILING, required_when={"field": "delivery_method", "in": ["免费邮寄", "乡镇便民服务中心领取"]})
    _kept, errors = check_answers([[DELIVERY, mailing]], {"delivery_method": "乡镇便民服务中心领取"}, TODAY)
    assert errors == {"mailing_address": "“领卡方式”选择“乡镇便民服务中心领取”时须填写“邮寄地址”。"}
    [mark] = required_marks([[DELIVERY, mailing]]).values()
    assert mark.text == "（领卡方式选“免费邮寄”或“乡镇便民服务中心领取”时必填）"


def test_in_a_bundle_a_shared_field_is_required_when_any_item_requires_it():
    """The first item shows 邮寄地址 as optional; the second needs it when posting: posting without it is refused."""
    plain = dict(MAILING)
    del plain["required_when"]
    first, second = [DELIVERY, plain], CARD
    _kept, errors = check_answers([first, second], {"delivery_method": "免费邮寄"}, TODAY)
    assert "mailing_address" in errors
    assert required_marks([first, second])["mailing_address"].other == "delivery_method"
