"""The shared settings rules both apps start with: one reading of yes and no, and a value that cannot
work refused at start in Chinese rather than at the first page that uses it."""

from __future__ import annotations

import pytest
from flask import Flask, make_response

from websec.headers import install_headers


def _cookie_app(secure: object) -> Flask:
    """A bare app with the shared headers, its SESSION_COOKIE_SECURE given as an app that reads no
    settings file would take it (``with_overrides``), and a page that sets a cookie."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-only", SESSION_COOKIE_SECURE=secure)
    install_headers(app)

    @app.route("/font")
    def font():  # noqa: ANN202
        response = make_response("ok")
        response.set_cookie("large_font", "1")
        return response

    return app


@pytest.mark.parametrize(("written", "secure"), [
    ("否", False), ("no", False), ("0", False), ("off", False), ("false", False), (False, False),
    ("是", True), ("yes", True), ("1", True), ("on", True), (True, True),
])
def test_secure_cookie_setting_reads_yes_and_no_as_the_settings_do(written, secure):
    """headers.py had its own reading: "否" (and any word it did not know) forced Secure, so on a
    plain http:// station the browser kept no cookie and nobody could log in."""
    cookies = _cookie_app(written).test_client().get("/font").headers.getlist("Set-Cookie")
    assert cookies and all(("Secure" in c) is secure for c in cookies), cookies


def test_a_word_that_is_neither_does_not_force_secure_cookies():
    """Both apps refuse such a word at start (check_booleans); an app built without reading settings
    does not take it for yes."""
    cookies = _cookie_app("maybe").test_client().get("/font").headers.getlist("Set-Cookie")
    assert cookies and all("Secure" not in c for c in cookies)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the developer's variables for either app, nor Flask's FLASK_DEBUG."""
    import os

    for name in list(os.environ):
        if name.startswith(("STATION_", "HUB_")) or name in ("FLASK_DEBUG", "DATABASE_URL", "SECRET_KEY"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def station_run(clean_env, tmp_path):  # noqa: ANN001, ANN201
    """`python -m station run` on a station made by `init`, serving nothing: (result, apps it would serve)."""
    from click.testing import CliRunner

    from station.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0
    served: list[Flask] = []
    clean_env.setattr("station.cli.serve", lambda app, *args, **kwargs: served.append(app))
    return lambda: (runner.invoke(cli, ["--instance", str(tmp_path), "run"]), served)


@pytest.mark.parametrize(("line", "name", "shown", "mode"), [
    ("DEBUG = True", "DEBUG", "True", "调试"), ("TESTING = 1", "TESTING", "1", "测试"),
    ('DEBUG = "maybe"', "DEBUG", "maybe", "调试"),
])
def test_station_run_refuses_debug_or_testing_from_the_settings_file(station_run, tmp_path, line, name, shown,
                                                                      mode):
    """DEBUG or TESTING left in config.py from trying something out served the village all the same."""
    (tmp_path / "config.py").write_text(line + "\n", encoding="utf-8")
    result, served = station_run()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == (
        f"设置文件 {tmp_path / 'config.py'} 中 {name} 的值“{shown}”不可用：正式运行（run）时不能打开 Flask 的"
        f"{mode}模式（{name}），它只用于开发和自动测试。请删去该文件中的这一行（或改为 {name} = False）后再执行。")
    assert served == []


def test_station_run_refuses_flask_debug_from_the_environment(station_run, clean_env):
    clean_env.setenv("FLASK_DEBUG", "1")
    result, served = station_run()
    assert result.exit_code == 1 and served == [], result.output
    assert result.stderr.strip() == ("环境变量 FLASK_DEBUG 的值“1”不可用：正式运行（run）时不能打开 Flask 的调试模式（DEBUG），"
                                     "它只用于开发和自动测试。请删去这个环境变量（或设为 0）后再执行。")
    clean_env.setenv("FLASK_DEBUG", "0")
    result, served = station_run()
    assert result.exit_code == 0 and len(served) == 1 and served[0].debug is False, result.output


def test_station_run_serves_with_debug_written_off_as_text(station_run, tmp_path):
    """DEBUG = "false" in config.py: Flask takes any non-empty text for on."""
    (tmp_path / "config.py").write_text('DEBUG = "false"\n', encoding="utf-8")
    result, served = station_run()
    assert result.exit_code == 0 and len(served) == 1, result.output
    assert served[0].debug is False


def test_hub_run_refuses_debug_or_testing_and_serves_once_they_are_off(clean_env, tmp_path):
    """The hub's clerk pages answered an unexpected error with waitress's bare English page, without the
    safety headers, while DEBUG (or FLASK_DEBUG) or TESTING was on."""
    from click.testing import CliRunner

    from sync.hub.cli import cli
    from sync.hub.extensions import db

    clean_env.setenv("HUB_INSTANCE_PATH", str(tmp_path))
    runner = CliRunner()
    served: list[Flask] = []

    class Server:
        def run(self) -> None:
            pass

    def create_server(app: Flask, **_kwargs: object) -> Server:
        served.append(app)
        return Server()

    clean_env.setattr("sync.hub.cli.create_server", create_server)
    try:
        assert runner.invoke(cli, ["init"]).exit_code == 0
        (tmp_path / "config.py").write_text("TESTING = True\n", encoding="utf-8")
        result = runner.invoke(cli, ["run"])
        assert result.exit_code == 1 and served == [], result.output
        assert result.stderr.startswith(f"设置文件 {tmp_path / 'config.py'} 中 TESTING 的值“True”不可用："
                                        "正式运行（run）时不能打开 Flask 的测试模式（TESTING）")
        (tmp_path / "config.py").write_text("TESTING = False\n", encoding="utf-8")
        clean_env.setenv("FLASK_DEBUG", "true")
        result = runner.invoke(cli, ["run"])
        assert result.exit_code == 1 and served == [], result.output
        assert result.stderr.startswith("环境变量 FLASK_DEBUG 的值“true”不可用：")
        clean_env.delenv("FLASK_DEBUG")
        result = runner.invoke(cli, ["run"])
        assert result.exit_code == 0 and len(served) == 1, result.output
        assert not served[0].debug and not served[0].testing
    finally:
        if db.obj is not None and not db.is_closed():
            db.close()


@pytest.mark.parametrize("value", ["abc", "None", "宽松"])
def test_a_same_site_word_that_cannot_work_is_refused_before_the_station_is_made(clean_env, tmp_path, value):
    """STATION_SESSION_COOKIE_SAMESITE=abc started the station, then every page (the login page
    first) answered 500: werkzeug refuses the word each time it sets a cookie."""
    from click.testing import CliRunner

    from station.cli import cli

    clean_env.setenv("STATION_SESSION_COOKIE_SAMESITE", value)
    result = CliRunner().invoke(cli, ["--instance", str(tmp_path / "station"), "init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == (f"环境变量 STATION_SESSION_COOKIE_SAMESITE 的值“{value}”不可用：应为 Lax 或 Strict"
                                     "（默认 Lax；写成其他的值时，每个页面都会出错或无法登录）。请改正或删去这个环境变量后再执行。")
    assert not (tmp_path / "station" / "station.sqlite3").exists()


def test_same_site_written_in_either_case_is_taken_and_the_login_page_answers(clean_env, tmp_path):
    from click.testing import CliRunner

    from station import create_app
    from station.cli import cli

    clean_env.setenv("STATION_SESSION_COOKIE_SAMESITE", "strict")
    assert CliRunner().invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0
    page = create_app(instance_path=str(tmp_path)).test_client().get("/login")
    assert page.status_code == 200
    assert any("SameSite=Strict" in c for c in page.headers.getlist("Set-Cookie"))


def test_same_site_none_in_the_hub_settings_file_is_named_with_the_file(clean_env, tmp_path):
    from click.testing import CliRunner

    from sync.hub.cli import cli

    clean_env.setenv("HUB_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text("SESSION_COOKIE_SAMESITE = None\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"设置文件 {tmp_path / 'config.py'} 中 SESSION_COOKIE_SAMESITE 的值“None”不可用："
                                    "应为 Lax 或 Strict")
    assert not (tmp_path / "hub.sqlite3").exists()


def test_a_licence_table_that_is_not_json_is_refused_before_the_hub_is_made(clean_env, tmp_path):
    """HUB_LICENCE_ISSUING_ITEMS with its quotes lost to the shell was kept as text: the hub started,
    and every clerk's 办结 then answered 500 ('str' object has no attribute 'get')."""
    from click.testing import CliRunner

    from sync.hub.cli import cli

    clean_env.setenv("HUB_INSTANCE_PATH", str(tmp_path))
    clean_env.setenv("HUB_LICENCE_ISSUING_ITEMS", "{000116001000: {kind: 残疾人证}}")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith("环境变量 HUB_LICENCE_ISSUING_ITEMS 的值“{000116001000: {kind: 残疾人证}}”"
                                    '不是以 JSON 写的对照表（形如 {"键": 值}）（默认值 {"000116001000": {"kind": "残疾人证"')
    assert not (tmp_path / "hub.sqlite3").exists()


@pytest.mark.parametrize(("raw", "taken"), [
    ('["image/jpeg"]', ["image/jpeg"]), ("image/jpeg", None), ('"image/jpeg"', None), ("{}", None),
])
def test_a_list_setting_is_taken_only_as_a_json_list(raw, taken):
    """A list setting given as plain text was kept as text, where `x in setting` is a substring test."""
    from websec.environment import SettingInvalid, defined_settings

    class Settings:
        KINDS = ("image/jpeg", "image/png")

    if taken is None:
        with pytest.raises(SettingInvalid, match='不是以 JSON 写的列表'):
            defined_settings(Settings, "STATION_", {"STATION_KINDS": raw})
    else:
        assert defined_settings(Settings, "STATION_", {"STATION_KINDS": raw}) == {"KINDS": taken}


def test_a_key_file_setting_naming_a_folder_is_said_in_chinese(clean_env, tmp_path):
    """STATION_KEY_FILE set to a folder: the message ended in the system's English（Is a directory）."""
    from click.testing import CliRunner

    from station.cli import cli

    (tmp_path / "keys").mkdir()
    clean_env.setenv("STATION_KEY_FILE", str(tmp_path / "keys"))
    result = CliRunner().invoke(cli, ["--instance", str(tmp_path / "station"), "init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"未能执行：无法建立或写入 {tmp_path / 'keys'}：是一个文件夹，不能用作文件"
                                    "（KEY_FILE、DATABASE 等设置应写到文件名）。")
    assert "Is a directory" not in result.stderr
