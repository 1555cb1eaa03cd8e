"""docs/install.md's pictures: the admin sets the station once, and the case page asks for a hand-written character."""

from __future__ import annotations

import pytest

from printouts import fonts
from station.services import station_settings
from tests.station.test_rare_characters_page import _case_for

pytestmark = pytest.mark.browser


@pytest.mark.screens("install")
def test_admin_sets_the_station_once_then_a_rare_name_asks_for_the_pen(person, stack, shots, monkeypatch):
    page = person("admin")
    page.goto(f"{stack.url}/admin/settings")
    page.fill("#villages", "东关村\n西关村\n南堡村")
    page.select_option("#paper_receipt", "roll80")
    page.fill("#margin_mm", "3")
    page.fill("#sync_window_from", "08:00")
    page.fill("#sync_window_to", "18:00")
    shots.take(page, "station-settings", full_page=True)
    page.click("form.card button.primary")
    page.wait_for_selector("text=本站设置已保存")
    shots.take(page, "station-settings-saved")
    with stack.app.app_context():
        from station.extensions import db

        with db.connection_context():
            saved = station_settings.get_settings()
    assert saved.villages == ["东关村", "西关村", "南堡村"] and saved.paper["receipt"] == "roll80"

    monkeypatch.setattr(fonts, "_fonts_with", lambda cp: [])  # this PC has no font with 䶮
    fonts.reset_font_cache()
    case_id = _case_for(stack.app, "王䶮兰")
    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{case_id}")
    notice = agent.locator("#hand-write")
    assert "〓(U+4DAE)" in notice.inner_text()
    shots.take(agent, "case-hand-write")
    fonts.reset_font_cache()
