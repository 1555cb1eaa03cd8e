"""The command line, the app factory's configuration, and migrations matching the models."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from peewee import SqliteDatabase

from demo.loopback import local_postgres_dsn, throwaway_schema
from sync.hub import create_app
from sync.hub.cli import cli
from sync.hub.database import SQLITE_PRAGMAS, migrate, open_database
from sync.hub.extensions import db
from sync.hub.models import MODELS, HubUser, Station
from sync.hub.services import personal
from tests.fixtures.schema import assert_migrations_match_models


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Point the CLI at a fresh instance folder, whatever the developer's environment says."""
    for name in ("DATABASE_URL", "SECRET_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "inst"))
    yield tmp_path / "inst"
    if db.obj is not None and not db.is_closed():  # a refused start binds no database
        db.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def hub_env(cli_env, runner):
    """A hub made by `init` in the CLI's instance folder: every other command refuses a folder without one."""
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    db.close()
    return cli_env


def test_add_station_prints_credentials_once(hub_env, runner):
    result = runner.invoke(cli, ["add-station", "ST01", "甲村便民服务站"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"station_secret = (\S+)", result.output).group(1)
    assert "ST01" in result.output and len(secret) >= 40
    app = create_app()
    with app.app_context():
        stored = Station.by_code("ST01").secret
        assert stored != secret and personal.station_secret(Station.by_code("ST01")) == secret  # sealed at rest
    again = runner.invoke(cli, ["add-station", "ST01", "again"])
    assert again.exit_code == 1
    assert "已存在" in again.output


def test_rotate_secret(hub_env, runner):
    first = runner.invoke(cli, ["add-station", "ST01", "甲村"]).output
    old = re.search(r"station_secret = (\S+)", first).group(1)
    result = runner.invoke(cli, ["rotate-secret", "ST01"])
    assert result.exit_code == 0, result.output
    new = re.search(r"station_secret = (\S+)", result.output).group(1)
    assert new != old


def test_create_user_with_password_flag_and_prompt(hub_env, runner):
    assert runner.invoke(cli, ["create-user", "clerk1", "--password", "long-enough-pw"]).exit_code == 0
    prompted = runner.invoke(cli, ["create-user", "clerk2"], input="another-password\nanother-password\n")
    assert prompted.exit_code == 0, prompted.output
    mismatch = runner.invoke(cli, ["create-user", "clerk4"], input="another-password\nnot-the-same-pw\n")
    assert mismatch.exit_code == 1 and "两次输入的密码不一致" in mismatch.output
    assert runner.invoke(cli, ["create-user", "clerk3", "--password", "short"]).exit_code == 1
    app = create_app()
    with app.app_context():
        assert {u.username for u in HubUser.select()} == {"clerk1", "clerk2"}
        assert "long-enough-pw" not in HubUser.get(HubUser.username == "clerk1").password_hash


def test_create_user_again_resets_the_password(hub_env, runner):
    runner.invoke(cli, ["create-user", "clerk1", "--password", "long-enough-pw"])
    result = runner.invoke(cli, ["create-user", "clerk1", "--password", "a-new-long-password"])
    assert result.exit_code == 0 and "已重设用户 clerk1 的密码" in result.output


def test_create_user_role_option(hub_env, runner):
    """New users are approvers; --role admin makes a county admin; --role on an existing name changes it."""
    assert runner.invoke(cli, ["create-user", "judge", "--password", "long-enough-pw"]).exit_code == 0
    result = runner.invoke(cli, ["create-user", "boss", "--password", "long-enough-pw", "--role", "admin"])
    assert result.exit_code == 0 and "县级管理员" in result.output
    assert runner.invoke(cli, ["create-user", "judge", "--password", "long-enough-pw", "--role", "admin"]).exit_code == 0
    assert runner.invoke(cli, ["create-user", "x", "--password", "long-enough-pw", "--role", "root"]).exit_code != 0
    with create_app().app_context():
        assert {u.username: u.role for u in HubUser.select()} == {"judge": "admin", "boss": "admin"}
    assert runner.invoke(cli, ["create-user", "judge", "--password", "long-enough-pw", "--role", "approver"]).exit_code == 0
    with create_app().app_context():
        assert HubUser.get(HubUser.username == "judge").role == "approver"


def test_init_generates_secret_key_once(cli_env, runner):
    assert runner.invoke(cli, ["init"]).exit_code == 0
    key = (cli_env / "secret_key").read_text()
    assert len(key) == 64
    assert create_app().config["SECRET_KEY"] == key


def test_settings_come_from_the_environment_only_for_names_the_config_defines(cli_env, monkeypatch):
    monkeypatch.setenv("HUB_STATION_DARK_HOURS", "6")
    monkeypatch.setenv("HUB_CATALOG_GRACE_DAYS", "7")
    monkeypatch.setenv("HUB_SOMETHING_ELSE", "not a setting")
    app = create_app()
    assert app.config["STATION_DARK_HOURS"] == 6 and app.config["CATALOG_GRACE_DAYS"] == 7
    assert "SOMETHING_ELSE" not in app.config


def test_migrations_match_models(hub_app):
    """The migrations create exactly the tables, columns, indexes and keys the models declare."""
    database = hub_app.extensions["hub_db"]
    assert_migrations_match_models(database, MODELS, SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS),
                                   history_table="hub_schema_migration")
    assert migrate(database) == []  # idempotent on restart


@pytest.mark.postgres
def test_migrations_on_postgres(pg_hub_app):
    database = pg_hub_app.extensions["hub_db"]
    with throwaway_schema(local_postgres_dsn(), "hub_scratch") as url:
        scratch = open_database(url, "")
        try:
            assert_migrations_match_models(database, MODELS, scratch, history_table="hub_schema_migration")
        finally:
            scratch.close_all()
    assert migrate(database) == []


def test_openapi_lists_every_api_route(hub_app):
    """docs/hub-openapi.yaml documents every route of the API blueprint."""
    from pathlib import Path

    spec = (Path(__file__).resolve().parents[2] / "docs" / "hub-openapi.yaml").read_text(encoding="utf-8")
    for rule in hub_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
            assert f"\n  {path}:" in spec, path


def test_run_serves_the_hub_with_waitress(cli_env, runner, monkeypatch):
    served = {}

    class Server:
        def run(self) -> None:
            served["ran"] = True

    def create_server(app, **kw):
        served.update(app=app, **kw)
        return Server()

    monkeypatch.setattr("sync.hub.cli.create_server", create_server)
    assert runner.invoke(cli, ["init"]).exit_code == 0
    result = runner.invoke(cli, ["run", "--port", "8777", "--threads", "3"])
    assert result.exit_code == 0, result.output
    assert served["ran"]
    assert (served["port"], served["threads"]) == (8777, 3)
    assert served["app"].instance_path == str(cli_env)
    # no peer hub registered: no background rounds (a stray thread re-binding the hub's models
    # every 30 s made other tests' logins fail at random)
    import threading

    assert not [t for t in threading.enumerate() if t.name == "APScheduler" and t.is_alive()]


@pytest.mark.parametrize(("argv", "usage", "error"), [
    (["add-station", "ST01"], "python -m sync.hub add-station [选项] CODE NAME",
     "缺少参数 NAME。查看帮助：python -m sync.hub add-station -h"),
    (["run", "--prot", "8700"], "python -m sync.hub run [选项]",
     "没有选项 --prot（是不是 --port、--host？）。查看帮助：python -m sync.hub run -h"),
    (["run", "--threads", "0"], "python -m sync.hub run [选项]",
     "选项 --threads 的值有误：“0”超出范围（不能小于 1）。查看帮助：python -m sync.hub run -h"),
    (["create-user", "li", "--role", "clerk"], "python -m sync.hub create-user [选项] USERNAME",
     "选项 --role 的值有误：“clerk”不是可选的值（可选：admin、approver）。查看帮助：python -m sync.hub create-user -h"),
])
def test_a_wrong_command_line_is_said_in_chinese_and_does_nothing(cli_env, runner, argv, usage, error):
    result = runner.invoke(cli, argv, prog_name="python -m sync.hub")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"用法：{usage}", f"错误：{error}"]
    assert not cli_env.exists()


def test_run_on_a_mistyped_instance_folder_serves_no_new_empty_hub(cli_env, runner, monkeypatch):
    """HUB_INSTANCE_PATH mistyped: `run` made a new, empty hub, and every station met a county that knew none of them."""
    served = []

    class Server:
        def run(self) -> None:
            served.append(True)

    monkeypatch.setattr("sync.hub.cli.create_server", lambda app, **kw: Server())
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == (f"县级平台未能启动：实例文件夹 {cli_env} 不存在。请检查 HUB_INSTANCE_PATH 是否写错；"
                                     "新建县级平台请先执行 python -m sync.hub init（HUB_INSTANCE_PATH 设为同一文件夹）。"
                                     "没有做任何改动。")
    assert not cli_env.exists() and served == []
    cli_env.mkdir()  # a folder that is there but holds no hub (a backup folder, say)
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"实例文件夹 {cli_env} 中没有县级平台的数据库（{cli_env / 'hub.sqlite3'}）" in result.stderr
    assert list(cli_env.iterdir()) == [] and served == []
    assert runner.invoke(cli, ["init"]).exit_code == 0  # a new hub is made on purpose
    db.close()
    assert runner.invoke(cli, ["run"]).exit_code == 0 and len(served) == 1


def test_run_on_a_port_already_taken_says_so_in_chinese_without_a_traceback(cli_env, runner):
    """A second `run` (or another program) on the hub's port: the county's IT person read waitress's
    OSError traceback; now one Chinese line saying what to do, and exit status 1."""
    import socket

    assert runner.invoke(cli, ["init"]).exit_code == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli, ["run", "--port", str(port)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"县级平台未能启动：端口 {port} 已被其他程序占用（可能是另一个县级平台进程" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert "Traceback" not in result.output


def test_a_database_that_does_not_open_says_what_to_check_without_a_traceback(cli_env, runner, monkeypatch):
    """The PostgreSQL server down (or the database not created, or an unsupported address): the
    county's IT person read psycopg2's traceback; now one Chinese line, the password left out."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://county:s3cret@127.0.0.1:{port}/hub")
    for command in (["init"], ["run"], ["add-station", "ST01", "甲村"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert f"县级平台未能启动：无法打开数据库 postgresql://***@127.0.0.1:{port}/hub（" in result.stderr
        assert "数据库服务器是否在运行" in result.stderr and "s3cret" not in result.output
    monkeypatch.setenv("DATABASE_URL", "mysql://county:s3cret@db/hub")
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "DATABASE_URL mysql://***@db/hub 不可用" in result.stderr and "postgresql://" in result.stderr
    for url, why in (("county-db", "地址缺少 postgresql:// 开头"), ("pg://db/hub", "不支持的数据库地址类型“pg”")):
        monkeypatch.setenv("DATABASE_URL", url)  # was playhouse's RuntimeError traceback
        result = runner.invoke(cli, ["init"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert f"不可用（{why}）" in result.stderr and "postgresql://用户@主机" in result.stderr


def test_a_lost_key_file_is_one_chinese_message_and_no_new_key(hub_env, runner):
    """The database holds sealed data and hub.key is gone: the refusal (切勿新建密钥) came wrapped in a traceback."""
    assert runner.invoke(cli, ["add-station", "ST01", "甲村"]).exit_code == 0
    db.close()
    (hub_env / "hub.key").unlink()
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "找不到密钥文件" in result.stderr and "切勿新建密钥" in result.stderr
    assert not (hub_env / "hub.key").exists()


def test_a_setting_variable_of_the_wrong_kind_is_one_chinese_line(cli_env, runner, monkeypatch):
    monkeypatch.setenv("HUB_STATION_DARK_HOURS", "一天")
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "环境变量 HUB_STATION_DARK_HOURS 的值“一天”不是整数（默认值 24）" in result.stderr
    assert not (cli_env / "hub.sqlite3").exists()
    monkeypatch.setenv("HUB_STATION_DARK_HOURS", "6")
    assert runner.invoke(cli, ["init"]).exit_code == 0


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("HUB_PEER_SYNC_INTERVAL_S", "-30", "应为不小于 0 的整数（默认值 30）"),
    ("HUB_NONCE_PRUNE_PROBABILITY", "2", "应为 0 到 1 之间的数（默认值 0.02）"),
    ("HUB_ADMISSION_SLOTS", "八", "应为不小于 0 的整数，或不设（默认值 不设）"),
    ("HUB_MAX_BATCH_EVENTS", "0", "应为不小于 1 的整数（默认值 500）"),
])
def test_a_setting_out_of_its_range_is_one_chinese_line_naming_the_range(cli_env, runner, monkeypatch,
                                                                         variable, value, allowed):
    """HUB_ADMISSION_SLOTS=八 crashed in int() with a traceback; HUB_MAX_BATCH_EVENTS=0 refused every batch."""
    monkeypatch.setenv(variable, value)
    for command in (["init"], ["run"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.strip() == (f"环境变量 {variable} 的值“{value}”不可用：{allowed}。"
                                         "请改正或删去这个环境变量后再执行。")
    assert not (cli_env / "hub.sqlite3").exists()


@pytest.mark.parametrize(("variable", "value", "why"), [
    ("HUB_HUB_PLATFORM", "sync.hub.services.platfrom:LocalPlatform",
     "无法导入模块 sync.hub.services.platfrom（ModuleNotFoundError: No module named 'sync.hub.services.platfrom'）"),
    ("HUB_HUB_PLATFORM", "sync.hub.services.platform:Local", "模块 sync.hub.services.platform 中没有 Local"),
    ("HUB_PUBLIC_URL", "zwfw.example.gov.cn/q", "网址只能以 http:// 或 https:// 开头"),
    ("HUB_AREA_CODE", "14108", "应为本县 6 位行政区划代码（如 141081），或不设"),
])
def test_a_text_setting_that_cannot_work_is_one_chinese_line_before_anything_is_made(cli_env, runner, monkeypatch,
                                                                                    variable, value, why):
    """HUB_PLATFORM mistyped was an ImportError traceback; HUB_PUBLIC_URL without https:// one after the
    database had been made; HUB_AREA_CODE of five digits was taken, and 跨域办 matched no county."""
    monkeypatch.setenv(variable, value)
    for command in (["init"], ["run"], ["add-station", "ST01", "甲村"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.strip() == f"环境变量 {variable} 的值“{value}”不可用：{why}。请改正或删去这个环境变量后再执行。"
    assert not (cli_env / "hub.sqlite3").exists()


def test_an_instance_folder_typed_onto_a_file_is_one_chinese_line(cli_env, runner):
    cli_env.write_text("", encoding="utf-8")
    for command in (["init"], ["run"], ["add-station", "ST01", "甲村"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.startswith(f"未能执行：{cli_env} 是一个文件，不能用作文件夹。请检查 HUB_INSTANCE_PATH")
    assert cli_env.read_text(encoding="utf-8") == ""


def test_add_peer_refuses_an_address_with_a_space_and_stores_nothing(hub_env, runner):
    """`--url "http://a b"` was stored, and every round with the peer then failed inside requests."""
    from sync.hub.services.peers import Peer

    result = runner.invoke(cli, ["add-peer", "141082", "乙县", "--url", "http://hub b.example", "--as", "PEER-A",
                                 "--secret", "s" * 40])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == "对端县级平台的地址有误：网址不能包含空格或控制字符。"
    with db.connection_context():
        assert Peer.select().count() == 0


def test_a_setting_in_range_is_taken_as_a_number(cli_env, runner, monkeypatch):
    monkeypatch.setenv("HUB_ADMISSION_SLOTS", "6")
    app = create_app()
    assert app.config["ADMISSION_SLOTS"] == 6 and app.extensions["hub_admission"].slots == 6
    app.extensions["hub_db"].close_all()


def test_every_number_setting_has_a_range():
    from sync.hub.config import SETTING_RANGES, Config

    numbers = {name for name in dir(Config) if name.isupper() and not isinstance(getattr(Config, name), bool)
               and isinstance(getattr(Config, name), int | float)}
    assert numbers | {"ADMISSION_SLOTS", "WTF_CSRF_TIME_LIMIT"} == set(SETTING_RANGES)


def test_a_settings_file_that_does_not_run_is_one_chinese_line(cli_env, runner):
    assert runner.invoke(cli, ["init"]).exit_code == 0
    (cli_env / "config.py").write_text("PUBLIC_URL = https://county.example/\n", encoding="utf-8")
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"设置文件 {cli_env / 'config.py'} 第 1 行有误（SyntaxError" in result.stderr


def test_the_nonce_tables_rebuild_keeps_its_rows_and_still_refuses_a_replay(tmp_path):
    """Hub migration 0031 on SQLite rebuilds ``hub_nonce`` without its foreign key: a hub upgraded
    within a request's clock window must still refuse the replay of a request it took before."""
    from peewee import IntegrityError

    from sync.hub.database import runner

    old = open_database(None, str(tmp_path / "hub.sqlite3"))
    with old.connection_context():
        runner(old).up("0029_unused_station_indexes")
        old.execute_sql("INSERT INTO hub_station (code, name, secret, active, created_at, settings, heartbeat) "
                        "VALUES ('ST01', '甲村', 'x', 1, '2026-01-01', '{}', '{}')")
        old.execute_sql("INSERT INTO hub_nonce (station_id, value, seen_at) VALUES (1, 'aa11', 1796207193)")
        assert old.get_foreign_keys("hub_nonce")  # the key 0031 removes
        migrate(old)
        assert not old.get_foreign_keys("hub_nonce")
        assert old.execute_sql("SELECT station_id, value, seen_at FROM hub_nonce").fetchall() == [
            (1, "aa11", 1796207193)]
        with pytest.raises(IntegrityError):
            old.execute_sql("INSERT INTO hub_nonce (station_id, value, seen_at) VALUES (1, 'aa11', 1796207194)")
        # taken back (a downgrade): a nonce of no station, possible without the key, does not stop it
        old.execute_sql("INSERT INTO hub_nonce (station_id, value, seen_at) VALUES (99, 'bb22', 1796207195)")
        runner(old).down("0031_nonce_without_foreign_key")
        assert old.get_foreign_keys("hub_nonce")
        assert old.execute_sql("SELECT value FROM hub_nonce").fetchall() == [("aa11",)]
    old.close()


def test_set_name_gives_a_user_the_name_residents_read_and_keeps_their_password(hub_env, runner):
    """An admin names the person behind a login; it is what decisions show from then on. The
    password and the open sessions stay; an unknown login or an empty name is refused in Chinese."""
    assert runner.invoke(cli, ["create-user", "county", "--password", "long-enough-pw"]).exit_code == 0
    with create_app().app_context():
        before = HubUser.get(HubUser.username == "county")
    assert before.name == "county"  # no name given: the login stands in, never blank
    result = runner.invoke(cli, ["set-name", "county", "张三"])
    assert result.exit_code == 0 and "用户 county 的姓名改为张三" in result.output
    with create_app().app_context():
        after = HubUser.get(HubUser.username == "county")
    assert (after.name, after.password_hash, after.session_token) == ("张三", before.password_hash,
                                                                       before.session_token)
    unknown = runner.invoke(cli, ["set-name", "nobody", "李四"])
    assert unknown.exit_code == 1 and "没有用户 nobody" in unknown.output
    empty = runner.invoke(cli, ["set-name", "county", " "])
    assert empty.exit_code == 1 and "请填写姓名" in empty.output
    again = runner.invoke(cli, ["create-user", "county", "--password", "a-new-long-password", "--name", "张三丰"])
    assert again.exit_code == 0 and "姓名改为张三丰" in again.output
    with create_app().app_context():
        assert HubUser.get(HubUser.username == "county").name == "张三丰"


def test_users_made_before_names_carry_over_with_their_login_as_name(tmp_path):
    """Hub migration 0030: an account with no name (an older release) is named by its login until an
    admin sets the real one, so decisions never show a blank actor; a name already set is kept."""
    from sync.hub.database import runner

    old = open_database(None, str(tmp_path / "hub.sqlite3"))
    with old.connection_context():
        runner(old).up("0029_unused_station_indexes")
        for username, name in (("county", ""), ("li", "李四")):
            old.execute_sql("INSERT INTO hub_user (username, name, password_hash, active, created_at, role, "
                            "session_token) VALUES (?, ?, 'x', 1, '2026-01-01', 'approver', 't')", (username, name))
        migrate(old)
        assert dict(old.execute_sql("SELECT username, name FROM hub_user").fetchall()) == {
            "county": "county", "li": "李四"}
    old.close()


def test_linking_two_counties_from_the_command_line_says_what_to_run_where(hub_env, runner, monkeypatch):
    """跨域办: add-station --peer printed "enter these in the station's sync settings" (there is no
    station: the secret goes to the other county's add-peer); add-peer echoed a password in its address
    and took this county's own area code as a peer's."""
    monkeypatch.setenv("HUB_AREA_CODE", "141082")
    monkeypatch.setenv("HUB_PUBLIC_URL", "https://b.example/")
    at_b = runner.invoke(cli, ["add-station", "HUB141081", "示范县县级平台", "--peer"])
    assert at_b.exit_code == 0, at_b.output
    secret = re.search(r"station_secret = (\S+)", at_b.output).group(1)
    assert "python -m sync.hub add-peer 141082 <本平台名称> --url https://b.example/ --as HUB141081" in at_b.output
    monkeypatch.setenv("HUB_AREA_CODE", "141081")  # now at county A (the same folder will do)
    own = runner.invoke(cli, ["add-peer", "141081", "示范县", "--url", "https://a.example", "--as", "X",
                              "--secret", secret])
    assert own.exit_code == 1 and "141081 是本县的行政区划代码" in own.output
    too_long = runner.invoke(cli, ["add-peer", "141082", "邻" * 101, "--url", "https://b.example", "--as", "HUB141081",
                                   "--secret", secret])
    assert too_long.exit_code == 1 and "对端名称过长（最多 100 个字符，现在 101 个）" in too_long.output
    linked = runner.invoke(cli, ["add-peer", "141082", "邻县县级平台", "--url", "https://ops:s3cret@b.example/",
                                 "--as", "HUB141081", "--secret", secret])
    assert linked.exit_code == 0, linked.output
    assert "https://***@b.example" in linked.output and "s3cret" not in linked.output
    assert "须重启后才按计划与对端同步" in linked.output


def _every_command_but_init_and_run(tmp_path) -> list[list[str]]:  # noqa: ANN001
    """Each hub command a county's IT person may type before `run`, with the arguments it needs."""
    notice = tmp_path / "2027.csv"
    notice.write_text("day,kind,name\n2027-01-01,放假,元旦\n", encoding="utf-8")
    register = tmp_path / "证照.csv"
    register.write_text("kind,number,holder_id_number,holder_name,issuer,issued_on,valid_until\n", encoding="utf-8")
    return [["create-user", "clerk1", "--password", "long-enough-pw"], ["set-name", "clerk1", "张三"],
            ["add-station", "ST01", "甲村"], ["rotate-secret", "ST01"], ["add-device", "ST01", "笔记本"],
            ["revoke-device", "ST01", "笔记本", "--reason", "遗失"], ["list-devices", "ST01"],
            ["add-peer", "141082", "乙县", "--url", "https://b.example", "--as", "X", "--secret", "s" * 40],
            ["peers", "--once"], ["purge-personal", "--dry-run"], ["publish-holidays", str(notice)],
            ["import-licences", str(register)], ["restored"], ["rotate-key"]]


def test_no_command_but_init_makes_a_new_hub_in_a_mistyped_folder(cli_env, runner, tmp_path):
    """HUB_INSTANCE_PATH mistyped: create-user, publish-holidays, rotate-key … made a new, empty hub there and
    said 已创建 / 已发布 into a county nobody uses; only `run` refused."""
    commands = _every_command_but_init_and_run(tmp_path)
    for command in commands:
        result = runner.invoke(cli, command, prog_name="python -m sync.hub")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (command, result.output)
        assert result.stderr.strip() == (f"未能执行 python -m sync.hub {command[0]}：实例文件夹 {cli_env} 不存在。"
                                         "请检查 HUB_INSTANCE_PATH 是否写错；新建县级平台请先执行 python -m sync.hub init"
                                         "（HUB_INSTANCE_PATH 设为同一文件夹）。没有做任何改动。"), command
        assert not cli_env.exists()
    cli_env.mkdir()  # there, but empty (or another program's folder)
    for command in commands:
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (command, result.output)
        assert f"实例文件夹 {cli_env} 中没有县级平台的数据库（{cli_env / 'hub.sqlite3'}）" in result.stderr, command
        assert list(cli_env.iterdir()) == [], command
    assert runner.invoke(cli, ["init"]).exit_code == 0  # made on purpose, the commands work
    db.close()
    result = runner.invoke(cli, commands[0])
    assert result.exit_code == 0 and "已创建县级用户 clerk1" in result.output


@pytest.mark.postgres
def test_on_postgresql_a_folder_without_the_hubs_files_is_refused_and_the_database_left_alone(cli_env, runner,
                                                                                            tmp_path, monkeypatch):
    """DATABASE_URL set for the county's PostgreSQL: a mistyped HUB_INSTANCE_PATH that exists (empty) passed,
    and a new key file there sealed the county's users and stations apart from the real hub's."""
    import psycopg2

    with throwaway_schema(local_postgres_dsn(), "hub_cli") as url:
        schema = url.rsplit("%3D", 1)[1]

        def tables() -> int:
            with psycopg2.connect(local_postgres_dsn()) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,))
                return cur.fetchone()[0]

        monkeypatch.setenv("DATABASE_URL", url)
        cli_env.mkdir()
        for command in _every_command_but_init_and_run(tmp_path):
            result = runner.invoke(cli, command)
            assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (command, result.output)
            assert f"实例文件夹 {cli_env} 中没有县级平台（没有设置文件 config.py，也没有密钥文件 hub.key）" in result.stderr
            assert list(cli_env.iterdir()) == [] and tables() == 0, command
        assert runner.invoke(cli, ["init"]).exit_code == 0  # the documented way: init, then the commands
        assert runner.invoke(cli, ["create-user", "clerk1", "--password", "long-enough-pw"]).exit_code == 0
        db.obj.close_all()
        # the URL in the folder's config.py instead: a folder without it is the mistake, refused as on SQLite
        monkeypatch.delenv("DATABASE_URL")
        (cli_env / "config.py").write_text(f"DATABASE_URL = {url!r}\n", encoding="utf-8")
        monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "other"))
        (tmp_path / "other").mkdir()
        result = runner.invoke(cli, ["create-user", "clerk2", "--password", "long-enough-pw"])
        assert result.exit_code == 1 and "中没有县级平台的数据库" in result.stderr
        assert list((tmp_path / "other").iterdir()) == []
        monkeypatch.setenv("HUB_INSTANCE_PATH", str(cli_env))
        assert runner.invoke(cli, ["create-user", "clerk2", "--password", "long-enough-pw"]).exit_code == 0
        with create_app().app_context():
            assert {u.username for u in HubUser.select()} == {"clerk1", "clerk2"}
        db.obj.close_all()


def test_a_yes_or_no_setting_is_read_as_written_and_a_word_that_is_neither_refused(cli_env, runner, monkeypatch):
    """HUB_PREPARED_STATEMENTS=0, as sync/hub/prepared.py tells a county behind PgBouncer to write, was refused
    (0 is no true/false); SESSION_COOKIE_SECURE = "否" in config.py read as true, and on a plain http:// address
    the county's login cookie was dropped by the browser."""
    from sync.hub import prepared

    monkeypatch.setitem(prepared._SETTINGS, "enabled", True)  # process-wide: put back for the next tests
    monkeypatch.setenv("HUB_PREPARED_STATEMENTS", "0")
    assert runner.invoke(cli, ["init"]).exit_code == 0
    (cli_env / "config.py").write_text('SESSION_COOKIE_SECURE = "否"\n', encoding="utf-8")
    app = create_app()
    assert app.config["PREPARED_STATEMENTS"] is False and app.config["SESSION_COOKIE_SECURE"] is False
    cookies = app.test_client().get("/login").headers.getlist("Set-Cookie")
    assert cookies and all("Secure" not in c for c in cookies)
    app.extensions["hub_db"].close_all()
    monkeypatch.setenv("HUB_AUTO_MIGRATE", "也许")
    for command in (["init"], ["run"], ["create-user", "clerk1", "--password", "long-enough-pw"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.strip() == ("环境变量 HUB_AUTO_MIGRATE 的值“也许”不是true 或 false（也可写 1/0、是/否、yes/no）"
                                         "（默认值 true）。请改正或删去这个环境变量后再执行。")
    monkeypatch.delenv("HUB_AUTO_MIGRATE")
    (cli_env / "config.py").write_text('SESSION_COOKIE_SECURE = "maybe"\n', encoding="utf-8")
    result = runner.invoke(cli, ["create-user", "clerk1", "--password", "long-enough-pw"])
    assert result.exit_code == 1 and result.stderr.strip() == (
        f"设置文件 {cli_env / 'config.py'} 中 SESSION_COOKIE_SECURE 的值“maybe”不可用：应为true 或 false"
        "（也可写 1/0、是/否、yes/no）。请改正该文件中的这一行后再执行。")
