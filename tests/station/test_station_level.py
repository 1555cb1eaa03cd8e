"""The station's level on the 本站设置 page: a village with cases may not become a township there unasked.

The level decides whether an imported USB bundle is held for a village (township) or applied as the
county's answer (village); the command line refuses the change once the station holds cases
(`init --change-level` does it on purpose), and the settings page changed it without a word.
"""

from __future__ import annotations

import datetime as dt

from station.extensions import db
from station.models import User
from station.services import intake, station_info
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.station import STATION_AREA

PROFILE = {"code": "ST141081102201", "name": "东关村便民服务站", "area_code": STATION_AREA}


def _level(app) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return station_info.get_profile().level or "village"


def test_a_station_with_cases_keeps_its_level_on_the_settings_page(app, admin) -> None:
    assert admin.post("/admin/station", {**PROFILE, "level": "village"}).status_code in (200, 302)
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
    page = admin.post("/admin/station", {**PROFILE, "name": "改了名字", "level": "township"}).get_data(as_text=True)
    assert "本站已有1 件办件，不能在此改为乡镇（街道）便民服务中心" in page and "init --change-level" in page
    assert _level(app) == "village"
    with app.app_context(), db.connection_context():
        assert station_info.get_profile().name != "改了名字"  # nothing of the form was saved


def test_an_empty_station_may_take_either_level(app, admin) -> None:
    admin.post("/admin/station", {**PROFILE, "level": "township"})
    assert _level(app) == "township"
    admin.post("/admin/station", {**PROFILE, "level": "village"})
    assert _level(app) == "village"
