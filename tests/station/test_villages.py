"""The station's list of villages (issue 19 item 8): set by the admin, picked at intake."""

from __future__ import annotations

import pytest

from station.models import Case, Setting
from tests.fixtures.intake import form_for, item_named

ITEM = "高龄津贴申领"
LIST = "141081102201 东关村\n141081102202 西关村"


def test_the_admin_sets_the_list_and_the_intake_form_offers_it_instead_of_a_typed_code(app, admin, agent):
    page = admin.post("/admin/villages", {"villages": LIST}, follow_redirects=True).get_data(as_text=True)
    assert "共2个" in page
    with app.app_context():
        item_id = item_named(ITEM).id
    form = agent.get(f"/intake/item/{item_id}").get_data(as_text=True)
    assert '<select id="applicant_area_code" name="applicant_area_code">' in form
    assert '<option value="141081102202" >西关村（141081102202）</option>' in form
    assert "区划代码（12位）" not in form


def test_a_village_not_on_the_list_is_refused_and_nothing_is_saved(app, admin, agent):
    admin.post("/admin/villages", {"villages": LIST})
    with app.app_context():
        item = item_named(ITEM)
        data = form_for([item], applicant_area_code="141081102299")
    page = agent.post(f"/intake/item/{item.id}", data).get_data(as_text=True)
    assert "请从本站村（社区）列表中选择" in page
    with app.app_context():
        assert Case.select().count() == 0
    ok = agent.post(f"/intake/item/{item.id}", dict(data, applicant_area_code="141081102202"))
    assert ok.status_code == 302


@pytest.mark.parametrize(
    ("text", "message"),
    [("14108110220 东关村", "区划代码应为12位数字"), ("141081102201", "请在区划代码后写村（社区）名称"),
     ("141081102201 东关村\n141081102201 又一个", "重复"), ("141081102201 " + "长" * 31, "最多30个字")],
)
def test_a_bad_list_gets_a_chinese_message_and_changes_nothing(app, admin, text, message):
    admin.post("/admin/villages", {"villages": LIST})
    response = admin.post("/admin/villages", {"villages": text})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert "西关村" in Setting.get_value("villages")


def test_only_the_admin_sets_the_list(agent, clerk):
    for client in (agent, clerk):
        assert client.post("/admin/villages", {"villages": LIST}).status_code in (302, 403)
