"""The station's 咨询电话 and 监督电话 are printed on every paper: numbers a resident can dial."""

from __future__ import annotations

import pytest

from station.extensions import db
from station.services import station_info
from tests.fixtures.station import STATION_AREA

PROFILE = {"code": "ST141081102201", "name": "东关村便民服务站", "level": "village", "area_code": STATION_AREA}


def _saved(app) -> tuple[str, str]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        profile = station_info.get_profile()
        return profile.phone, profile.supervise_phone


@pytest.mark.parametrize(("field", "value"), [("phone", "abc"), ("supervise_phone", "xyz"), ("phone", "87654321")])
def test_a_number_no_one_can_dial_is_refused_and_nothing_changes(app, admin, field, value):
    before = _saved(app)
    page = admin.post("/admin/station", {**PROFILE, field: value}).get_data(as_text=True)
    assert "站点设置已保存" not in page and ("电话号码" in page or "座机号码请加上区号" in page)
    assert _saved(app) == before


@pytest.mark.parametrize(("phone", "supervise", "kept"), [
    ("0351-5550101", "12345", ("0351-5550101", "12345")),  # a landline and the 12345 hotline
    ("13800001234", "0351 5552101", ("13800001234", "0351-5552101")),
    ("", "", ("", "")),
])
def test_dialable_numbers_and_hotlines_are_kept(app, admin, phone, supervise, kept):
    response = admin.post("/admin/station", {**PROFILE, "phone": phone, "supervise_phone": supervise})
    assert response.status_code == 302
    assert _saved(app) == kept
