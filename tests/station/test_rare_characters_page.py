"""The case page warns before printing when paper will mark a character for the pen; font settings work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from printouts import fonts
from station import create_app
from station.config import Config
from station.extensions import db
from station.models import User
from station.services import intake
from tests.fixtures.intake import form_for, item_named

ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


@pytest.fixture(autouse=True)
def _fresh_fonts():
    fonts.reset_font_cache()
    yield
    fonts.reset_font_cache()


def _case_for(app, name: str) -> str:
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item], applicant_name=name), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id


def test_the_case_page_tells_the_agent_to_write_an_unprintable_character_by_hand(app, agent, monkeypatch):
    case_id = _case_for(app, "王䶮兰")
    monkeypatch.setattr(fonts, "_fonts_with", lambda cp: [])  # no installed font has 䶮
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="hand-write"' in page and "〓(U+4DAE)" in page and "用笔写上正确的字" in page


def test_no_warning_when_every_character_prints(app, agent):
    case_id = _case_for(app, "王秀兰")
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="hand-write"' not in page


def test_the_instance_config_names_the_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if not Path(ZENHEI).is_file():
        pytest.skip(f"!!! {ZENHEI} NOT INSTALLED — the font setting is NOT tested (apt-get install fonts-wqy-zenhei) !!!")
    for name in ("STATION_CJK_FONT", "STATION_CJK_EXT_FONT", "STATION_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f'CJK_FONT = "cid"\nCJK_EXT_FONT = "{ZENHEI}#0"\n', encoding="utf-8")
    create_app(Config.with_overrides(DATABASE=str(tmp_path / "station.sqlite3")), instance_path=str(instance))
    chosen = fonts.cjk_font()
    assert chosen.name == fonts.CID_FONT_NAME and chosen.ext_name == "CJK-wqy-zenhei-0"
