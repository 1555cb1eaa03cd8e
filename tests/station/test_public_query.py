"""The station's own /q page: look-alike letters still find the case; guessing is limited per address."""

from __future__ import annotations

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
