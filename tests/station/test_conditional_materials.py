"""Conditional materials (issue 19 item 3): a material that applies only to some residents.

The 残疾人证 of a 城乡居民养老保险 payer is needed only when a 重度残疾 payer asks the government
to pay; an ordinary payer's agent marks it 不适用 with a reason, and no paper then demands it.
The papers are read back with pdftotext, as the resident would read them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case, CaseMaterial, User
from station.services import cases, intake, paper
from station.services.errors import ValidationFailed
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.pdf import flat, pdftotext

PENSION = "城乡居民基本养老保险参保登记"  # 残疾人证: 仅重度残疾人申请政府代缴时提供
DISABILITY_SUBSIDY = "困难残疾人生活补贴"  # 残疾人证 is the point of it: never 不适用
NOT_APPLICABLE = {"mat__disability_cert__status": "not_applicable", "mat__disability_cert__reason": "非残疾人，自行缴费"}


def _agent() -> User:
    return User.get(User.username == "agent")


def _take(name: str = PENSION, **overrides: str) -> Case:
    item = item_named(name)
    draft = intake.check_input([item], form_for([item], **overrides), dt.date.today())
    [case] = intake.create_cases([item], draft, _agent(), allow_duplicate=True)
    return cases.get_case(case.id)


def _text(case: Case, key: str) -> str:
    pdf, _title = paper.render(case, key, _agent())
    return flat(pdftotext(pdf))


def test_the_condition_is_shown_on_the_intake_form(agent):
    html = agent.get(f"/intake/item/{item_named(PENSION).id}").get_data(as_text=True)
    assert "仅重度残疾人申请政府代缴时提供" in html
    assert 'name="mat__disability_cert__status" value="not_applicable"' in html
    # an unconditional material offers no 不适用
    assert 'name="mat__id_card__status" value="not_applicable"' not in html


def test_a_not_applicable_material_is_kept_with_its_reason_and_condition(database):
    case = _take(**NOT_APPLICABLE)
    row = CaseMaterial.get((CaseMaterial.case == case.id) & (CaseMaterial.key == "disability_cert"))
    assert (row.status, row.supplied_note, row.condition) == ("not_applicable", "非残疾人，自行缴费",
                                                              "仅重度残疾人申请政府代缴时提供")
    [event] = OutboxEvent.select().where(OutboxEvent.case_id == case.id)
    sent = {m["key"]: m for m in event.payload["materials"]}["disability_cert"]
    assert (sent["status"], sent["supplied_note"], sent["condition"]) == (
        "not_applicable", "非残疾人，自行缴费", "仅重度残疾人申请政府代缴时提供")


def test_the_one_time_notice_does_not_demand_a_not_applicable_material(database):
    """The issue's case: an ordinary payer missing her 户口簿 is told to bring it, and only it."""
    case = _take(**NOT_APPLICABLE, **{"mat__hukou_book__status": "missing"})
    assert case.status == "not_collected"
    text = _text(case, "notice_missing")
    assert "居民户口簿" in text and "共1项" in text
    assert "残疾人证" not in text


def test_the_deferral_notice_and_the_receipt_do_not_list_it_as_outstanding_or_received(database):
    case = _take(**NOT_APPLICABLE, **{"mat__photo_1inch__status": "deferred",
                                      "mat__photo_1inch__due": dt.date.today().isoformat()})
    deferral = _text(case, "deferral")
    assert "近期免冠一寸白底彩色照片" in deferral and "残疾人证" not in deferral
    receipt = _text(case, "receipt")
    received = receipt.split("收取材料")[1].split("温馨提示")[0]
    assert "居民身份证" in received and "残疾人证" not in received
    assert "残疾人证（第三代）（不适用：非残疾人，自行缴费）" in receipt


def test_the_supplement_notice_lists_only_what_the_county_asked(database):
    case = _take(**NOT_APPLICABLE)
    with db.atomic():
        cases.apply_county_status(case.id, {"status": "supplement", "reason": "复印件不清晰",
                                            "supplement_items": [{"key": "hukou_book", "name": "居民户口簿"}]})
    text = _text(cases.get_case(case.id), "supplement")
    assert "居民户口簿" in text and "残疾人证" not in text


@pytest.mark.parametrize(
    ("name", "overrides", "field", "message"),
    [
        (PENSION, {"mat__disability_cert__status": "not_applicable"}, "mat__disability_cert__reason", "请填写理由"),
        (PENSION, {"mat__disability_cert__status": "not_applicable", "mat__disability_cert__reason": "长" * 201},
         "mat__disability_cert__reason", "最多200个字"),
        (PENSION, {"mat__id_card__status": "not_applicable", "mat__id_card__reason": "忘带了"},
         "mat__id_card__status", "不能选择不适用"),
        (DISABILITY_SUBSIDY, {"mat__disability_cert__status": "not_applicable",
                              "mat__disability_cert__reason": "没有"}, "mat__disability_cert__status", "不能选择不适用"),
    ],
)
def test_not_applicable_without_a_reason_or_for_an_unconditional_material_is_refused(database, name, overrides,
                                                                                     field, message):
    item = item_named(name)
    before = Case.select().count()
    with pytest.raises(ValidationFailed) as refused:
        intake.check_input([item], form_for([item], **overrides), dt.date.today())
    assert message in refused.value.errors[field]
    assert Case.select().count() == before


def test_a_refused_not_applicable_keeps_what_was_typed_on_the_form(agent):
    item = item_named(PENSION)
    form = form_for([item], **{"mat__disability_cert__status": "not_applicable"})
    html = agent.post(f"/intake/item/{item.id}", data=form).get_data(as_text=True)
    assert "选择不适用时，请填写理由" in html
    assert 'value="赵秀英"' in html
    assert Case.select().count() == 0
