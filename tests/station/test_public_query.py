"""The station's own /q page: look-alike letters still find the case; guessing is limited per address."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case
from tests.fixtures.station import make_station_app
from tests.station.test_views import _form, _item_id


def _one_case(app, agent) -> None:
    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    with app.app_context(), db.connection_context():
        Case.update(query_code="K7P20X1M").execute()  # a code with 0 and 1 in it


def test_o_for_zero_and_i_for_one_find_the_case(app, agent, client):
    _one_case(app, agent)
    page = client.get("/q?q=k7p2-oxim").get_data(as_text=True)
    assert "高龄津贴申领" in page
    assert "高龄津贴申领" in client.get("/q?q=K7P2OXLM").get_data(as_text=True)


def test_guessing_codes_is_refused_after_the_limit(tmp_path):
    app = make_station_app(tmp_path, PUBLIC_LOOKUP_LIMIT=5)
    client = app.test_client()
    for i in range(5):
        assert client.get(f"/q?q=GVESS{i:03d}").status_code == 200
    refused = client.get("/q?q=GVESS999")
    assert refused.status_code == 429
    assert "查询过于频繁" in refused.get_data(as_text=True)
    assert client.get("/q?q=GVESS000", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert client.get("/q").status_code == 200  # the empty form is not a lookup


def test_a_public_url_from_the_county_must_be_a_web_address(app):
    from station.services.errors import ValidationFailed
    from station.services.station_info import apply_hub_settings, hub_public_url

    with app.app_context(), db.connection_context():
        with pytest.raises(ValidationFailed, match="公众查询网址"):
            apply_hub_settings({"public_url": "javascript:alert(1)"})
        assert hub_public_url() == ""
        apply_hub_settings({"public_url": " https://zwfw.example.gov.cn "})
        assert hub_public_url() == "https://zwfw.example.gov.cn"


@pytest.mark.parametrize("status", ["collected", "deferred", "accepted", "supplement", "rejected", "completed",
                                    "delivered", "not_collected"])
def test_the_station_page_shows_nothing_personal_in_any_state(app, agent, client, status):
    import re

    from tests.fixtures.intake import AGENT_ID, GOOD_ID, proxy_fields

    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领", **proxy_fields()))
    with app.app_context(), db.connection_context():
        Case.update(query_code="K7P20X1M", status=status, result="approved", result_text="准予发放",
                    status_reason="请补充材料", supplement_items=["居民户口簿"]).execute()
    response = client.get("/q?q=K7P20X1M")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "高龄津贴申领" in html
    for secret in (GOOD_ID, AGENT_ID, "13800000001", "13912345678", "东关村三组12号", "赵秀英"):
        assert secret not in html
    assert not re.search(r"(?<![\d-])\d{17}[\dX](?![\d-])", html)
    assert not re.search(r"(?<![\d-])1[3-9]\d{9}(?![\d-])", html)


def test_a_resident_who_brought_her_supplement_is_not_asked_for_it_again(app, agent, client):
    """After the station recorded the 补正 the resident's own page still said 需补正：居民户口簿."""
    from station.models import User
    from station.services import cases, follow_up

    _one_case(app, agent)
    with app.app_context(), db.connection_context():
        case = Case.get()
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "supplement", "reason": "户口簿复印件不清晰",
                                                "supplement_items": [{"key": "hukou_book", "name": "居民户口簿"}]})
    waiting = client.get("/q?q=K7P20X1M").get_data(as_text=True)
    assert "需补正：居民户口簿" in waiting
    # 补正 time is not counted (DOMAIN.md A.7): her page and the agent's say the clock stands still
    assert "补正中（时限暂停）" in waiting
    assert agent.get(f"/cases/{case.id}").get_data(as_text=True).count("补正中（时限暂停）") >= 3  # 2 dates, 四条线
    with app.app_context(), db.connection_context():
        follow_up.submit_supplement(cases.get_case(case.id), User.get(User.username == "agent"),
                                    [follow_up.SuppliedMaterial("hukou_book", "copy")])
    page = client.get("/q?q=K7P20X1M").get_data(as_text=True)
    assert "需补正" not in page and "交到服务站，等待县级审核" in page
    assert "补正中（时限暂停）" not in page and "补正中（时限暂停）" not in agent.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_decided_case_asks_the_resident_for_no_deferred_material(app, agent, client):
    from station.services import cases

    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领", **{
        "mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": dt.date.today().isoformat()}))
    with app.app_context(), db.connection_context():
        Case.update(query_code="K7P20X1M").execute()
        case = Case.get()
    assert "还需要提交的材料" in client.get("/q?q=K7P20X1M").get_data(as_text=True)
    with app.app_context(), db.connection_context(), db.atomic():
        cases.apply_county_status(case.id, {"status": "accepted"})
        cases.apply_county_status(case.id, {"status": "completed", "result": "denied"})
    assert "还需要提交的材料" not in client.get("/q?q=K7P20X1M").get_data(as_text=True)


def test_a_number_in_the_countys_reason_is_masked_on_the_stations_page(app, agent, client):
    """The county's 补正 or 不予受理 reason reaches this page as the station received it: a clerk's typed ID number
    or phone in it was shown in full to whoever held the code."""
    _one_case(app, agent)
    with app.app_context(), db.connection_context():
        Case.update(status="rejected", status_reason="身份证号110105194912310021与户口簿不符，请致电13912345678").execute()
    html = client.get("/q?q=K7P20X1M").get_data(as_text=True)
    assert "身份证号110105********0021与户口簿不符，请致电139****5678" in html
    assert "110105194912310021" not in html and "13912345678" not in html


def test_a_cross_area_case_tells_the_resident_where_it_is_decided(app, agent, client):
    """Her receipt names the neighbouring county as 办理地; the station's own page did not, so a resident
    checking there could not tell whom the wait was on."""
    from station.models import ServiceItem

    _one_case(app, agent)
    assert "办理地" not in client.get("/q?q=K7P20X1M").get_data(as_text=True)  # this county's own item
    with app.app_context(), db.connection_context():
        ServiceItem.update(handling_area="141082", handling_area_name="示范市邻县民政局").where(
            ServiceItem.name == "高龄津贴申领").execute()  # the catalog marks the item 跨域办
    page = client.get("/q?q=K7P20X1M").get_data(as_text=True)
    assert "示范市邻县民政局（跨域办：本站收件，转办理地审批，结果由本站送达）" in page
