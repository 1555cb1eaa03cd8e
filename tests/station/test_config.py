"""Where a station's settings come from: its config class, the instance folder, `STATION_<NAME>`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from printouts import reset_font_cache
from station import create_app
from station.config import Config
from station.extensions import db
from tests.fixtures.config import station_test_config
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.station import StationClient


@pytest.fixture
def field_config(tmp_path) -> type[Config]:
    """Field defaults (instance file and environment read) with the database in a temp folder."""
    return Config.with_overrides(SECRET_KEY="field-test", DATABASE=str(tmp_path / "station.sqlite3"))


def test_settings_the_config_defines_come_from_the_environment(tmp_path, monkeypatch, field_config):
    monkeypatch.setenv("STATION_ATTACHMENT_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("STATION_CASES_PER_PAGE", "50")
    app = create_app(field_config, instance_path=str(tmp_path / "instance"))
    assert app.config["ATTACHMENT_DIR"] == str(tmp_path / "files")
    assert app.config["CASES_PER_PAGE"] == 50


def test_command_line_secrets_in_the_environment_stay_out_of_the_app_config(tmp_path, monkeypatch, field_config):
    monkeypatch.setenv("STATION_HUB_SECRET", "s" * 40)
    monkeypatch.setenv("STATION_NEW_PASSWORD", "long-enough-pw-1")
    app = create_app(field_config, instance_path=str(tmp_path / "instance"))
    assert "s" * 40 not in app.config.values()
    assert "long-enough-pw-1" not in app.config.values()
    assert not {"HUB_SECRET", "NEW_PASSWORD"} & set(app.config)


def test_the_instance_config_file_is_read(tmp_path, field_config):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("CASES_PER_PAGE = 12\n", encoding="utf-8")
    assert create_app(field_config, instance_path=str(instance)).config["CASES_PER_PAGE"] == 12


def test_test_config_ignores_the_developers_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STATION_CASES_PER_PAGE", "50")
    app = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    assert app.config["CASES_PER_PAGE"] == Config.CASES_PER_PAGE


@pytest.fixture
def font_reset() -> Iterator[None]:
    reset_font_cache()
    yield
    reset_font_cache()


def test_the_configured_cjk_font_is_the_one_on_paper(tmp_path, station_template, font_reset):
    shutil.copyfile(station_template, tmp_path / "station.sqlite3")
    app = create_app(station_test_config(tmp_path, CJK_FONT="cid"), instance_path=str(tmp_path / "instance"))
    agent = StationClient(app.test_client()).login("agent")
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        data = form_for([item])
    response = agent.post(f"/intake/item/{item.id}", data)
    case_id = response.headers["Location"].split("/cases/")[1].split("?")[0]
    pdf = agent.get(f"/cases/{case_id}/print/receipt").data
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf  # the configured reportlab CID font, not a TrueType found on the machine
