"""A form field required only for some answer of another (条件必填, ``required_when`` in the catalog).

The defect: 社会保障卡申领 with 领卡方式 = 免费邮寄 and no 邮寄地址 was collected, and the card
would be posted to no address. Single items, bundles (一件事) and a second visit (再次受理) all
go through one check, and a station whose catalog lacks the key behaves as before.
"""

from __future__ import annotations

import copy
import datetime as dt
import html as html_lib
import json
import re

from station.catalog_data import load_demo_catalog
from station.extensions import db
from station.models import Case, User
from station.services import catalog, intake
from tests.fixtures.intake import form_for, item_named

CARD = "社会保障卡申领"
REFUSAL = "“领卡方式”选择“免费邮寄”时须填写“邮寄地址”。"
MARK = "（领卡方式选“免费邮寄”时必填）"
ADDRESS = "示范县东关镇东关村三组12号"


def _card_form(app, **overrides: str) -> tuple[int, dict[str, str]]:
    with app.app_context(), db.connection_context():
        item = item_named(CARD)
        return item.id, form_for([item], **overrides)


def _cases(app) -> int:
    with app.app_context(), db.connection_context():
        return Case.select().count()


def _case_id(response) -> str:
    return response.headers["Location"].split("/cases/")[1].split("?")[0]


def test_free_post_with_no_address_is_refused_naming_both_fields_and_nothing_is_saved(app, agent):
    item_id, data = _card_form(app, field__delivery_method="免费邮寄", field__mailing_address="  ",
                               applicant_name="李桂兰")
    before = _cases(app)
    response = agent.post(f"/intake/item/{item_id}", data)
    page = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and REFUSAL in page
    assert _cases(app) == before
    # what the agent typed is on the re-shown form, the chosen way of delivery included
    assert 'value="李桂兰"' in page
    assert re.search(r'<option value="免费邮寄"\s+selected', page)


def test_free_post_with_an_address_is_collected_and_the_address_kept(app, agent):
    item_id, data = _card_form(app, field__delivery_method="免费邮寄", field__mailing_address=ADDRESS)
    response = agent.post(f"/intake/item/{item_id}", data)
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        case = Case.get_by_id(_case_id(response))
        assert (case.status, case.form_values["mailing_address"]) == ("collected", ADDRESS)


def test_pickup_at_the_station_needs_no_address(app, agent):
    item_id, data = _card_form(app, field__delivery_method="服务站领取", field__mailing_address="")
    response = agent.post(f"/intake/item/{item_id}", data)
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert "mailing_address" not in Case.get_by_id(_case_id(response)).form_values


def test_the_intake_page_says_when_the_field_is_required(app, agent):
    item_id, _data = _card_form(app)
    raw = agent.get(f"/intake/item/{item_id}").get_data(as_text=True)
    # the values app.js watches are one well-formed attribute (JSON inside, its quotes escaped)
    watched = re.search(r'name="field__mailing_address"[^>]*data-required-in="([^"]*)"', raw)
    assert watched and json.loads(html_lib.unescape(watched.group(1))) == ["免费邮寄"]
    page = html_lib.unescape(raw)
    assert "邮寄地址" + MARK in page
    assert re.search(r'name="field__mailing_address"[^>]*data-required-when="field__delivery_method"', page)
    # an unconditional optional field carries no such mark
    assert "合作银行（金融账户）（" not in page


def test_a_bundle_applies_the_same_rule(app, agent):
    with app.app_context(), db.connection_context():
        _bundle, items = catalog.get_bundle("B002")  # 退休一件事 includes 社会保障卡申领
        assert CARD in [i.name for i in items]
        data = form_for(items, field__delivery_method="免费邮寄", field__mailing_address="")
    before = _cases(app)
    refused = html_lib.unescape(agent.post("/intake/bundle/B002", data).get_data(as_text=True))
    assert REFUSAL in refused and "邮寄地址" + MARK in refused
    assert _cases(app) == before
    response = agent.post("/intake/bundle/B002", dict(data, field__mailing_address=ADDRESS))
    assert response.status_code == 302 and _cases(app) == before + len(items)


def test_a_second_visit_applies_the_same_rule(app, agent):
    with app.app_context(), db.connection_context():
        item = item_named(CARD)
        first_form = form_for([item], field__delivery_method="服务站领取", field__mailing_address="",
                              mat__id_card__status="missing")
        draft = intake.check_input([item], first_form, dt.date.today())
        [first] = intake.create_cases([item], draft, User.get(User.username == "agent"))
        assert first.status == "not_collected"
        first_id, item_id = first.id, item.id
        data = form_for([item], field__delivery_method="免费邮寄", field__mailing_address="")
    before = _cases(app)
    refused = html_lib.unescape(agent.post(f"/intake/item/{item_id}", dict(data, resume=first_id))
                                .get_data(as_text=True))
    assert REFUSAL in refused and _cases(app) == before
    response = agent.post(f"/intake/item/{item_id}", dict(data, resume=first_id, field__mailing_address=ADDRESS))
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        second = Case.get_by_id(_case_id(response))
        assert second.form_values["mailing_address"] == ADDRESS
        assert not intake.can_resume(Case.get_by_id(first_id))  # the two visits are linked


def test_a_station_whose_catalog_has_no_condition_keeps_the_field_optional(app, agent):
    old = copy.deepcopy(load_demo_catalog())
    old["catalog_version"] = "2026.10-before-conditions"
    for item in old["items"]:
        for spec in item["form_fields"]:
            spec.pop("required_when", None)
    with app.app_context(), db.connection_context():
        catalog.import_catalog(old)
    item_id, data = _card_form(app, field__delivery_method="免费邮寄", field__mailing_address="")
    page = html_lib.unescape(agent.get(f"/intake/item/{item_id}").get_data(as_text=True))
    assert MARK not in page and "data-required-when" not in page
    response = agent.post(f"/intake/item/{item_id}", data)
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert Case.get_by_id(_case_id(response)).status == "collected"
