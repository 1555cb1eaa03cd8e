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


@pytest.mark.parametrize(("where", "written"), [
    ("file", '"false"'), ("file", '"否"'), ("file", "0"), ("env", "0"), ("env", "no"), ("env", "否"), ("env", "False"),
])
def test_a_yes_or_no_setting_written_as_text_for_no_means_no(tmp_path, monkeypatch, field_config, where, written):
    """SESSION_COOKIE_SECURE = "false" in config.py read as true (any text does): the login cookie was
    marked Secure, and on the station's plain http:// address the browser dropped it — nobody could log in."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if where == "file":
        (instance / "config.py").write_text(f"SESSION_COOKIE_SECURE = {written}\n", encoding="utf-8")
    else:
        monkeypatch.setenv("STATION_SESSION_COOKIE_SECURE", written)
    app = create_app(field_config, instance_path=str(instance))
    assert app.config["SESSION_COOKIE_SECURE"] is False
    cookies = app.test_client().get("/login").headers.getlist("Set-Cookie")
    assert cookies and all("Secure" not in c for c in cookies)
    db.close()


@pytest.mark.parametrize(("where", "message"), [
    ("file", "设置文件 {config} 中 SESSION_COOKIE_SECURE 的值“maybe”不可用：应为true 或 false（也可写 1/0、是/否、yes/no）。"
             "请改正该文件中的这一行后再执行。"),
    ("env", "环境变量 STATION_SESSION_COOKIE_SECURE 的值“maybe”不是true 或 false（也可写 1/0、是/否、yes/no）（默认值 false）。"
            "请改正或删去这个环境变量后再执行。"),
])
def test_a_yes_or_no_setting_that_is_neither_is_refused_naming_it(tmp_path, monkeypatch, field_config, where, message):
    from websec.environment import SettingInvalid

    instance = tmp_path / "instance"
    instance.mkdir()
    if where == "file":
        (instance / "config.py").write_text('SESSION_COOKIE_SECURE = "maybe"\n', encoding="utf-8")
    else:
        monkeypatch.setenv("STATION_SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(SettingInvalid) as refused:
        create_app(field_config, instance_path=str(instance))
    assert refused.value.message == message.format(config=instance / "config.py")
    assert not (tmp_path / "station.sqlite3").exists()
    monkeypatch.setenv("STATION_SESSION_COOKIE_SECURE", "是")
    (instance / "config.py").unlink(missing_ok=True)
    assert create_app(field_config, instance_path=str(instance)).config["SESSION_COOKIE_SECURE"] is True
    db.close()
