"""The address a station admin types for the receipt's QR code must be a plain web address."""

from __future__ import annotations

import pytest

from station.extensions import db
from station.services import station_info
from tests.fixtures.station import STATION_AREA

PROFILE = {"code": "ST141081102201", "name": "东关村便民服务站", "level": "village", "area_code": STATION_AREA}


def _saved_url(app) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return station_info.get_profile().query_url_base


@pytest.mark.parametrize(("url", "message"), [
    ("javascript:alert(document.cookie)", "只能以 http:// 或 https:// 开头"),
    ("JavaScript:alert(1)", "只能以 http:// 或 https:// 开头"),
    ("data:text/html,<script>alert(1)</script>", "只能以 http:// 或 https:// 开头"),
    ("https:///q", "缺少主机名"),
    ("https://zwfw.example.gov.cn/q x", "不能包含空格"),
])
def test_a_non_web_address_is_refused_and_nothing_changes(app, admin, url, message):
    before = _saved_url(app)
    page = admin.post("/admin/station", {**PROFILE, "query_url_base": url}).get_data(as_text=True)
    assert message in page
    assert _saved_url(app) == before


@pytest.mark.parametrize("url", ["https://zwfw.example.gov.cn/q", "http://192.168.1.20:8080/q", ""])
def test_web_addresses_are_kept(app, admin, url):
    response = admin.post("/admin/station", {**PROFILE, "query_url_base": url})
    assert response.status_code == 302
    assert _saved_url(app) == url
