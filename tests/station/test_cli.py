"""`python -m station …` as an operator types it, through click's runner."""

from __future__ import annotations

import datetime as dt
import getpass
import shlex

import pytest
from click.testing import CliRunner

from station.cli import cli
from station.extensions import db
from station.models import AccessLog, User
from sync import state as sync_state

HUB = "http://127.0.0.1:8090/"
DASH_SECRET = "-Rk2" + "s" * 40  # one secret in 64 starts with '-'


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner with none of the developer's STATION_* variables."""
    for name in ("STATION_INSTANCE", "STATION_HUB_SECRET", "STATION_NEW_PASSWORD", "STATION_DATABASE",
                 "STATION_ATTACHMENT_DIR", "STATION_SECRET_KEY", "STATION_KEY_FILE", "STATION_RETENTION_MONTHS",
                 "STATION_BACKUP_HOUR", "STATION_BACKUP_KEEP", "STATION_PUBLIC_LOOKUP_WINDOW_S",
                 "STATION_SMS_SENDER"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def stored(key: str) -> str:
    """A value of sync's own state, as `link` left it in the station database."""
    with db.connection_context():
        return sync_state.get_value(key)


@pytest.mark.parametrize("where", ["before", "after"])
def test_init_takes_the_instance_folder_before_or_after_the_command(runner, tmp_path, where):
    instance = tmp_path / "inst"
    args = ["--instance", str(instance)]
    argv = [*args, "init", "--code", "ST141081102201"] if where == "before" else ["init", "--code", "ST141081102201", *args]
    result = runner.invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert "数据库已就绪" in result.output
    assert (instance / "station.sqlite3").exists()


def test_the_instance_folder_can_come_from_the_environment(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("STATION_INSTANCE", str(tmp_path / "from-env"))
    assert runner.invoke(cli, ["init"]).exit_code == 0
    assert (tmp_path / "from-env" / "station.sqlite3").exists()


def test_init_loads_the_demo_catalog(runner, tmp_path):
    result = runner.invoke(cli, ["init", "--instance", str(tmp_path), "--demo-catalog"])
    assert result.exit_code == 0, result.output
    assert "事项目录" in result.output


def test_init_with_wrong_values_names_each_option_and_what_is_wrong(runner, tmp_path):
    result = runner.invoke(cli, ["init", "--instance", str(tmp_path), "--area-code", "1410811022", "--level", "city"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "初始化失败："
    assert any(line.strip().startswith("--area-code：区划代码应为12位数字") for line in lines)
    assert any(line.strip() == "--level：请选择村（社区）站或乡镇（街道）中心。" for line in lines)


@pytest.mark.parametrize(("content", "words"), [
    (None, "找不到事项目录文件"),
    (b"\x96\x00 not text", "不是事项目录文件"),
    ("{ 不是 JSON".encode(), "不是事项目录文件"),
])
def test_init_with_a_catalog_file_it_cannot_read_says_so_in_chinese(runner, tmp_path, content, words):
    path = tmp_path / "目录.json"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(cli, ["init", "--instance", str(tmp_path / "inst"), "--catalog", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"初始化失败：{words}") if content is None else words in result.output
    assert "Errno" not in result.output and "codec" not in result.output and "Expecting" not in result.output


def _take_a_case(instance) -> None:  # noqa: ANN001
    """One case taken at the station in `instance`, as an agent does at the counter."""
    from station import create_app
    from station.services import intake
    from tests.fixtures.intake import form_for, item_named

    app = create_app(instance_path=str(instance))
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item]), dt.date.today())
        intake.create_cases([item], draft, User.get(User.username == "agent"))
    app.extensions["station_db"].close_all()


def test_init_does_not_turn_a_village_with_cases_into_a_township_unasked(runner, tmp_path):
    """`init --level township` on the wrong folder silently made a village station with cases a township:
    its USB imports were then held as villages' bundles instead of applied as the county's answers."""
    from station.services.station_info import get_profile

    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init", "--demo-catalog", "--level", "village", "--code", "ST141081102201",
                                     "--area-code", "141081102201"]
                         ).exit_code == 0
    assert runner.invoke(cli, [*args, "create-user", "agent", "--role", "agent", "--password", "Pw-12345678"]
                         ).exit_code == 0
    _take_a_case(tmp_path)
    refused = runner.invoke(cli, [*args, "init", "--level", "township", "--name", "东关镇便民服务中心"])
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
    assert refused.stderr.strip() == (
        "初始化失败：本文件夹中已是村（社区）便民服务站，已有1 件办件；--level township 会把它改为乡镇（街道）便民服务中心"
        "（此后导入的离线包和统计都按新的层级处理）。请检查 --instance 是否指向了正确的文件夹；"
        "确需改变层级，请加上 --change-level 再执行。没有做任何改动。")
    with db.connection_context():
        assert get_profile().level == "village" and not get_profile().name  # nothing written, the name neither
    again = runner.invoke(cli, [*args, "init", "--level", "village"])  # the same level: an upgrade as before
    assert again.exit_code == 0, again.output
    asked = runner.invoke(cli, [*args, "init", "--level", "township", "--change-level"])
    assert asked.exit_code == 0, asked.output
    with db.connection_context():
        assert get_profile().level == "township"


def test_a_new_station_takes_either_level_at_init(runner, tmp_path):
    from station.services.station_info import get_profile

    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init", "--level", "village"]).exit_code == 0
    assert runner.invoke(cli, [*args, "init", "--level", "township"]).exit_code == 0  # no cases yet: a correction
    with db.connection_context():
        assert get_profile().level == "township"


def test_create_user_asks_for_the_password_twice(runner, tmp_path, monkeypatch):
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0  # only init makes a station
    monkeypatch.setattr(getpass, "getuser", lambda: "zhangsan")  # the OS account that ran the command
    result = runner.invoke(cli, ["create-user", "admin", "--name", "张站长", "--instance", str(tmp_path)],
                           input="long-enough-pw-1\nlong-enough-pw-1\n")
    assert result.exit_code == 0, result.output
    assert "已创建用户 admin" in result.output
    with db.connection_context():
        assert User.get(User.username == "admin").role == "admin"
        [entry] = AccessLog.select().where(AccessLog.action == "user_create")
        assert (entry.actor_name, entry.object) == ("命令行（zhangsan）", "admin")

    mismatch = runner.invoke(cli, ["--instance", str(tmp_path), "create-user", "clerk", "--role", "clerk"],
                             input="long-enough-pw-1\nsomething-else-2\n")
    assert mismatch.exit_code == 1
    assert "两次输入的密码不一致" in mismatch.output


def test_create_user_takes_the_password_from_the_environment(runner, tmp_path, monkeypatch):
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0  # only init makes a station
    monkeypatch.setenv("STATION_NEW_PASSWORD", "long-enough-pw-1")
    result = runner.invoke(cli, ["--instance", str(tmp_path), "create-user", "agent", "--role", "agent"])
    assert result.exit_code == 0, result.output
    with db.connection_context():
        assert User.get(User.username == "agent").role == "agent"


@pytest.mark.parametrize("where", ["before", "after"])
def test_link_stores_a_secret_that_starts_with_a_dash(runner, tmp_path, where):
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0  # only init makes a station
    args = ["--instance", str(tmp_path)]
    link = ["link", "--hub", HUB, "--code", "ST1", "--secret", DASH_SECRET]
    result = runner.invoke(cli, [*args, *link] if where == "before" else [*link, *args])
    assert result.exit_code == 0, result.output
    assert stored(sync_state.HUB_URL) == "http://127.0.0.1:8090"
    assert stored(sync_state.SECRET) == DASH_SECRET


def test_link_asks_for_the_secret_when_it_is_not_given(runner, tmp_path):
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0  # only init makes a station
    result = runner.invoke(cli, ["link", "--hub", HUB, "--code", "ST1", "--instance", str(tmp_path)],
                           input=DASH_SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert stored(sync_state.SECRET) == DASH_SECRET
    assert DASH_SECRET not in result.output


def test_link_refuses_a_bad_address_or_a_short_secret(runner, tmp_path, monkeypatch):
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0  # only init makes a station
    args = ["--instance", str(tmp_path)]
    result = runner.invoke(cli, [*args, "link", "--hub", "county.example", "--code", "ST1", "--secret", "x" * 40])
    assert result.exit_code == 1 and "http://" in result.output
    result = runner.invoke(cli, [*args, "link", "--hub", "http://county example/", "--code", "ST1", "--secret", "x" * 40])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output  # was InvalidURL's traceback
    assert result.stderr.strip() == ("县级平台地址 http://county example/ 有误：网址不能包含空格或控制字符。"
                                     "请核对县里给的地址。本站原有的连接设置没有改动。")
    result = runner.invoke(cli, [*args, "link", "--hub", HUB, "--code", "ST1", "--secret", "short"])
    assert result.exit_code == 1 and "站点密钥不完整" in result.output
    monkeypatch.setenv("STATION_HUB_SECRET", "s" * 40)
    assert runner.invoke(cli, [*args, "link", "--hub", HUB, "--code", "ST1"]).exit_code == 0
    assert stored(sync_state.SECRET) == "s" * 40


def test_link_tries_the_secret_with_the_county_before_storing_it(runner, tmp_path):
    """A mistyped secret was stored with "已连接县级平台" and came to light only as the next sync's
    refusal. Now the county is asked first: refused → nothing stored; confirmed → said so; not
    reachable (no network yet) → stored, saying it is not confirmed yet."""
    from demo.loopback import register_station, start_hub
    from tests.fixtures.config import hub_test_config

    hub = start_hub(tmp_path / "hub", config_class=hub_test_config())
    try:
        secret = register_station(hub.app, "ST1", "甲村便民服务站")
        args = ["--instance", str(tmp_path / "station")]
        assert runner.invoke(cli, [*args, "init"]).exit_code == 0
        wrong = runner.invoke(cli, [*args, "link", "--hub", hub.url + "/", "--code", "ST1"],
                              input=secret[:-1] + "x\n")
        assert wrong.exit_code == 1, wrong.output
        assert "未连接：县级平台拒绝了本站的请求" in wrong.stderr and "站点密钥" in wrong.stderr
        assert stored(sync_state.HUB_URL) in (None, "")
        right = runner.invoke(cli, [*args, "link", "--hub", hub.url + "/", "--code", "ST1"], input=secret + "\n")
        assert right.exit_code == 0, right.output
        assert "县级平台已确认本站的站点密钥" in right.output
        assert stored(sync_state.SECRET) == secret
        assert runner.invoke(cli, [*args, "sync", "--once"]).exit_code == 0
    finally:
        hub.stop()
        hub.app.extensions["hub_db"].close_all()
    down = runner.invoke(cli, [*args, "link", "--hub", hub.url, "--code", "ST1"], input=secret + "\n")
    assert down.exit_code == 0, down.output
    assert "暂时无法确认：无法连接县级平台" in down.output and "联网后自动同步" in down.output
    assert stored(sync_state.HUB_URL) == hub.url


def test_a_setting_variable_of_the_wrong_kind_is_named_in_chinese_before_anything_is_made(runner, tmp_path,
                                                                                         monkeypatch):
    """STATION_BACKUP_HOUR=abc was taken as text and crashed `run` with int()'s traceback (and a
    STATION_…=yes for a true/false setting was text that reads as true)."""
    monkeypatch.setenv("STATION_BACKUP_HOUR", "abc")
    (tmp_path / "station").mkdir()
    for command in (["init"], ["run"], ["sync", "--once"]):
        result = runner.invoke(cli, ["--instance", str(tmp_path / "station"), *command])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "环境变量 STATION_BACKUP_HOUR 的值“abc”不是整数（默认值 12）" in result.stderr
    assert not (tmp_path / "station" / "station.sqlite3").exists()
    monkeypatch.setenv("STATION_BACKUP_HOUR", "3")
    assert runner.invoke(cli, ["--instance", str(tmp_path / "station"), "init"]).exit_code == 0


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("STATION_BACKUP_HOUR", "25", "应为 0 到 23 之间的整数（默认值 12）"),
    ("STATION_BACKUP_HOUR", "-1", "应为 0 到 23 之间的整数（默认值 12）"),
    ("STATION_BACKUP_KEEP", "-3", "应为不小于 0 的整数（默认值 14）"),
    ("STATION_PUBLIC_LOOKUP_WINDOW_S", "0", "应为不小于 1 的整数（默认值 600）"),
])
def test_a_setting_out_of_its_range_is_refused_at_start_naming_it_and_the_range(runner, tmp_path, monkeypatch,
                                                                                variable, value, allowed):
    """STATION_BACKUP_HOUR=25 started the station and then crashed `run` in the scheduler's cron trigger."""
    monkeypatch.setenv(variable, value)
    (tmp_path / "station").mkdir()
    for command in (["init"], ["run"], ["backup", "--to", str(tmp_path / "usb")]):
        result = runner.invoke(cli, ["--instance", str(tmp_path / "station"), *command])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.strip() == (f"环境变量 {variable} 的值“{value}”不可用：{allowed}。"
                                         "请改正或删去这个环境变量后再执行。")
    assert not (tmp_path / "station" / "station.sqlite3").exists() and not (tmp_path / "usb").exists()


def test_a_setting_out_of_range_in_the_settings_file_names_the_file(runner, tmp_path, monkeypatch):
    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init"]).exit_code == 0
    (tmp_path / "config.py").write_text("BACKUP_HOUR = 24\n", encoding="utf-8")
    served = []
    monkeypatch.setattr("station.cli.serve", lambda *args, **kwargs: served.append(args))
    result = runner.invoke(cli, [*args, "run"])
    assert result.exit_code == 1 and served == [], result.output
    assert f"设置文件 {tmp_path / 'config.py'} 中 BACKUP_HOUR 的值“24”不可用：应为 0 到 23 之间的整数" in result.stderr
    (tmp_path / "config.py").write_text("BACKUP_HOUR = 23\n", encoding="utf-8")
    assert runner.invoke(cli, [*args, "run"]).exit_code == 0 and served


def test_an_sms_sender_that_does_not_import_is_refused_at_start(runner, tmp_path, monkeypatch):
    """A mistyped STATION_SMS_SENDER was a 500 on the notify page the first time an agent sent an SMS."""
    monkeypatch.setenv("STATION_SMS_SENDER", "station.services.sms:TimelineOnly")
    result = runner.invoke(cli, ["--instance", str(tmp_path), "init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == ("环境变量 STATION_SMS_SENDER 的值“station.services.sms:TimelineOnly”不可用："
                                     "模块 station.services.sms 中没有 TimelineOnly。请改正或删去这个环境变量后再执行。")
    assert not (tmp_path / "station.sqlite3").exists()
    monkeypatch.setenv("STATION_SMS_SENDER", "station.services.sms:TimelineOnlySender")
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0


def test_an_instance_folder_typed_onto_a_file_is_one_chinese_line(runner, tmp_path):
    """--instance naming a file (the backup beside it, say) was makedirs' FileExistsError traceback."""
    (tmp_path / "station.sqlite3").write_bytes(b"")
    for where in (tmp_path / "station.sqlite3", tmp_path / "station.sqlite3" / "inst"):
        result = runner.invoke(cli, ["--instance", str(where), "init"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.startswith(f"未能执行：{where} ") and "请检查 --instance" in result.stderr
        assert "没有做任何改动" in result.stderr
    assert (tmp_path / "station.sqlite3").read_bytes() == b""


def test_package_into_a_folder_it_cannot_make_says_so_in_chinese(runner, tmp_path):
    """OUT on a stick that is not there (a file where its folder should be) was mkdir's traceback."""
    (tmp_path / "E盘").write_text("not a drive", encoding="utf-8")
    result = runner.invoke(cli, ["package", str(tmp_path / "E盘" / "安装包")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"打包失败：无法写入 {tmp_path / 'E盘' / '安装包'}：") and "Traceback" not in result.output


@pytest.mark.parametrize("which", ["station", "hub"])
def test_an_instance_folder_on_a_drive_that_is_not_there_is_one_chinese_line(runner, tmp_path, monkeypatch, which):
    """`--instance E:\\便民服务站` with the stick not plugged in (or HUB_INSTANCE_PATH on a read-only disk) was
    makedirs' FileNotFoundError / PermissionError traceback."""
    import errno

    from sync.hub.cli import cli as hub_cli

    def no_drive(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    monkeypatch.setattr("os.makedirs", no_drive)
    monkeypatch.setattr("os.mkdir", no_drive)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "hub"))
    group, argv, setting = ((cli, ["--instance", str(tmp_path / "站"), "init"], "--instance") if which == "station"
                            else (hub_cli, ["init"], "HUB_INSTANCE_PATH"))
    result = runner.invoke(group, argv)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    said = result.stderr.strip()
    assert said.startswith("未能执行：无法建立或写入 ") and "U盘或移动硬盘未插好" in said, said
    assert f"请检查 {setting}" in said and said.endswith("没有做任何改动。") and "Traceback" not in result.output


def test_backup_to_a_file_instead_of_a_folder_says_so(runner, tmp_path):
    """`backup --to` naming a file said only 系统错误 17."""
    args = ["--instance", str(tmp_path / "inst")]
    assert runner.invoke(cli, [*args, "init"]).exit_code == 0
    (tmp_path / "usb").write_text("", encoding="utf-8")
    result = runner.invoke(cli, [*args, "backup", "--to", str(tmp_path / "usb")])
    assert result.exit_code == 1, result.output
    assert f"备份失败：无法写入 {tmp_path / 'usb'}：这里已有一个同名的文件，不是文件夹；请指明一个文件夹。" in result.stderr


def test_every_number_setting_has_a_range():
    """A new number setting without a range would go unchecked until it crashed."""
    from station.config import SETTING_RANGES, Config

    numbers = {name for name in dir(Config) if name.isupper() and not isinstance(getattr(Config, name), bool)
               and isinstance(getattr(Config, name), int | float)}
    assert numbers == set(SETTING_RANGES)


def test_a_settings_file_that_does_not_run_names_its_line(runner, tmp_path):
    """DIR/config.py with a quote left open: the operator read Flask's traceback ending in SyntaxError."""
    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init"]).exit_code == 0
    (tmp_path / "config.py").write_text('BACKUP_HOUR = 3\nCJK_FONT = "/fonts/simsun.ttc#0\n', encoding="utf-8")
    result = runner.invoke(cli, [*args, "sync", "--once"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"设置文件 {tmp_path / 'config.py'} 第 2 行有误（SyntaxError" in result.stderr


def test_sync_before_linking_prints_a_link_command_that_works(runner, tmp_path):
    instance = tmp_path / "a station"
    assert runner.invoke(cli, ["--instance", str(instance), "init"]).exit_code == 0
    result = runner.invoke(cli, ["sync", "--once", "--instance", str(instance)])
    assert result.exit_code == 2
    hint = result.output.split("请先执行 python -m station ", 1)[1].split("（", 1)[0]
    argv = [part.strip("'") for part in hint.replace(f"'{instance}'", "INSTANCE").split()]
    argv = [str(instance) if part == "INSTANCE" else part for part in argv]
    argv = [HUB if part == "URL" else "ST1" if part == "CODE" else part for part in argv]
    linked = runner.invoke(cli, argv, input=DASH_SECRET + "\n")
    assert linked.exit_code == 0, linked.output
    assert stored(sync_state.SECRET) == DASH_SECRET


def test_link_refuses_a_code_other_than_the_stations_own(runner, tmp_path):
    """A mistyped code made the station's batch numbers another station's at the county: custody lost."""
    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init", "--code", "ST141081102201"]).exit_code == 0
    wrong = runner.invoke(cli, [*args, "link", "--hub", HUB, "--code", "ST141081102210", "--secret", "s" * 40])
    assert wrong.exit_code == 1 and "与本站信息中的编码 ST141081102201 不一致，未连接" in wrong.output
    with db.connection_context():
        assert stored(sync_state.STATION_CODE) in (None, "")
    right = runner.invoke(cli, [*args, "link", "--hub", HUB, "--code", "ST141081102201", "--secret", "s" * 40])
    assert right.exit_code == 0, right.output


def test_linking_after_a_sync_that_found_no_link_no_longer_shows_unlinked(runner, tmp_path):
    from sync.status import queue_summary
    assert runner.invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0
    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "sync", "--once"]).exit_code == 2
    with db.connection_context():
        assert queue_summary()["link_state_label"] == "未连接"
    assert runner.invoke(cli, [*args, "link", "--hub", HUB, "--code", "ST1", "--secret", "s" * 40]).exit_code == 0
    with db.connection_context():
        assert queue_summary()["link_state_label"] == "未知"  # linked; the next round will tell how the link is


def test_run_on_a_port_another_program_holds_says_so_and_starts_nothing(runner, tmp_path, monkeypatch):
    import socket

    from station import serving

    started = []
    monkeypatch.setattr(serving, "start_background_jobs", started.append)
    assert runner.invoke(cli, ["init", "--instance", str(tmp_path)]).exit_code == 0
    with socket.socket() as other:  # another program (or another station folder) on the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = runner.invoke(cli, ["run", "--port", str(port), "--instance", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"便民服务站未能启动：端口 {port} 已被其他程序占用" in result.output and f"--port {port + 1}" in result.output
    assert "已启动" not in result.output.replace("未能启动", "") and started == []


def test_run_in_a_folder_that_does_not_exist_serves_nothing_and_makes_nothing(runner, tmp_path, monkeypatch):
    """A mistyped --instance (or STATION_INSTANCE) served a new empty station nobody could log in to."""
    assert runner.invoke(cli, ["--instance", str(tmp_path / "东关村"), "init"]).exit_code == 0
    served = []
    monkeypatch.setattr("station.cli.serve", lambda *args, **kwargs: served.append(args))
    result = runner.invoke(cli, ["run", "--instance", str(tmp_path / "东关材")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"文件夹 {tmp_path / '东关材'} 不存在。请检查 --instance 是否写错" in result.stderr
    assert "init 建立数据库" in result.stderr
    assert not (tmp_path / "东关材").exists() and served == []
    monkeypatch.setenv("STATION_INSTANCE", str(tmp_path / "东关材"))
    assert runner.invoke(cli, ["run"]).exit_code == 1 and not (tmp_path / "东关材").exists()
    monkeypatch.delenv("STATION_INSTANCE")
    assert runner.invoke(cli, ["run", "--instance", str(tmp_path / "东关村")]).exit_code == 0 and served


def test_run_in_an_empty_folder_serves_nothing_and_makes_nothing(runner, tmp_path, monkeypatch):
    """An existing folder without the station database (made by hand, or the wrong one) was served as a
    new empty station nobody could log in to, as a mistyped one was."""
    served = []
    monkeypatch.setattr("station.cli.serve", lambda *args, **kwargs: served.append(args))
    (tmp_path / "东关村").mkdir()
    result = runner.invoke(cli, ["run", "--instance", str(tmp_path / "东关村")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"便民服务站未能启动：文件夹 {tmp_path / '东关村'} 中没有本站的数据库")
    assert "init 建立数据库" in result.stderr and "没有做任何改动" in result.stderr
    assert list((tmp_path / "东关村").iterdir()) == [] and served == []
    monkeypatch.setenv("STATION_DATABASE", str(tmp_path / "elsewhere.sqlite3"))  # the database named in a setting
    assert runner.invoke(cli, ["--instance", str(tmp_path / "东关村"), "init"]).exit_code == 0
    monkeypatch.delenv("STATION_DATABASE")
    assert runner.invoke(cli, ["run", "--instance", str(tmp_path / "东关村")]).exit_code == 1 and served == []
    monkeypatch.setenv("STATION_DATABASE", str(tmp_path / "elsewhere.sqlite3"))
    assert runner.invoke(cli, ["run", "--instance", str(tmp_path / "东关村")]).exit_code == 0 and served


def test_no_command_but_init_makes_a_new_station_in_a_mistyped_folder(runner, tmp_path, monkeypatch):
    """A mistyped --instance made a new, empty station for every command: `backup` said 已备份数据库 of it,
    `create-user` and `link` put an account or the county's secret into it; only `run` refused."""
    bundle = tmp_path / "离线包.bmz"
    bundle.write_bytes(b"not read")
    monkeypatch.setenv("STATION_NEW_PASSWORD", "long-enough-pw-1")
    commands = [["create-user", "wang"], ["link", "--hub", HUB, "--code", "ST1", "--secret", "s" * 40],
                ["sync", "--once"], ["backup", "--to", str(tmp_path / "usb")], ["purge", "--dry-run"], ["rotate-key"],
                ["bundle", "export", str(tmp_path / "out.bmz")], ["bundle", "import", str(bundle)],
                ["bundle", "export-return", "ST2", str(tmp_path / "out.bmz")]]
    wrong = tmp_path / "东关材"
    for command in commands:
        result = runner.invoke(cli, ["--instance", str(wrong), *command], prog_name="python -m station")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (command, result.output)
        name = " ".join(part for part in command[:2] if not part.startswith("-") and part in
                        ("create-user", "link", "sync", "backup", "purge", "rotate-key", "bundle", "export", "import",
                         "export-return"))
        assert result.stderr.strip() == (f"未能执行 python -m station {name}：文件夹 {wrong} 不存在。"
                                         f"请检查 --instance 是否写错；新装的服务站请先执行 python -m station --instance "
                                         f"{shlex.quote(str(wrong))} init 建立数据库。没有做任何改动。"), command
        assert not wrong.exists() and not (tmp_path / "usb").exists() and not (tmp_path / "out.bmz").exists()
    wrong.mkdir()
    for command in commands:
        result = runner.invoke(cli, ["--instance", str(wrong), *command])
        assert result.exit_code == 1 and f"文件夹 {wrong} 中没有本站的数据库" in result.stderr, (command, result.output)
        assert list(wrong.iterdir()) == [] and not (tmp_path / "usb").exists()
    assert runner.invoke(cli, ["--instance", str(wrong), "init"]).exit_code == 0
    assert runner.invoke(cli, ["--instance", str(wrong), *commands[0]]).exit_code == 0


@pytest.mark.parametrize(("argv", "usage", "error"), [
    (["init", "--cod", "ST1"], "python -m station init [选项]",
     "没有选项 --cod（是不是 --code、--area-code？）。查看帮助：python -m station init -h"),
    (["create-user"], "python -m station create-user [选项] USERNAME",
     "缺少参数 USERNAME。查看帮助：python -m station create-user -h"),
    (["link", "--code", "ST1"], "python -m station link [选项]",
     "缺少选项 --hub。查看帮助：python -m station link -h"),
    (["run", "--port", "八〇八〇"], "python -m station run [选项]",
     "选项 --port 的值有误：“八〇八〇”不是整数。查看帮助：python -m station run -h"),
    (["run", "--port", "70000"], "python -m station run [选项]",
     "选项 --port 的值有误：“70000”超出范围（应为 1 到 65535）。查看帮助：python -m station run -h"),
    (["create-user", "wang", "--role", "boss"], "python -m station create-user [选项] USERNAME",
     "选项 --role 的值有误：“boss”不是可选的值（可选：agent、clerk、admin）。查看帮助：python -m station create-user -h"),
    (["bundle", "import", "no-such.bmz"], "python -m station bundle import [选项] FILE",
     "参数 FILE 的值有误：文件“no-such.bmz”不存在。查看帮助：python -m station bundle import -h"),
    (["sync", "--once", "now"], "python -m station sync [选项]",
     "多余的参数：now。查看帮助：python -m station sync -h"),
    (["inti"], "python -m station [选项] 命令 [参数]...",
     "没有命令 inti（是不是 init？）。查看帮助：python -m station -h"),
    (["link", "--hub"], None, "选项 --hub 后面缺少值。"),
])
def test_a_wrong_command_line_is_said_in_chinese_and_does_nothing(runner, tmp_path, argv, usage, error):
    """Click's English (Error: No such option, Missing argument) was all a county's IT person read."""
    result = runner.invoke(cli, ["--instance", str(tmp_path / "inst"), *argv], prog_name="python -m station")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == ([f"用法：{usage}"] if usage else []) + [f"错误：{error}"]
    assert not (tmp_path / "inst").exists()


def _english_help(group) -> list[str]:  # noqa: ANN001
    """Commands and options of `group` (subgroups too) whose help has no Chinese in it."""
    import re

    import click

    def english(text: str | None) -> bool:
        return bool(text) and not re.search(r"[\u4e00-\u9fff]", text)

    found = []
    for name, command in group.commands.items():
        if english(command.help) or not command.help:
            found.append(name)
        found += [f"{name} {param.opts[0]}" for param in command.params
                  if isinstance(param, click.Option) and (english(param.help) or not param.help)]
        if isinstance(command, click.Group):
            found += [f"{name} {sub}" for sub in _english_help(command)]
    return found


def test_every_command_and_option_is_explained_in_chinese():
    """`-h` showed a county's IT person English sentences (Create or upgrade the database in place.), and
    options with nothing said at all (init --code, --area-code; link --hub; run --host)."""
    from sync.hub.cli import cli as hub_cli

    assert _english_help(cli) == [] and _english_help(hub_cli) == []


def test_a_prompt_left_with_ctrl_d_says_cancelled_in_chinese(runner, tmp_path):
    """Click printed Aborted! when the password prompt met the end of input (Ctrl-D, Ctrl-Z)."""
    args = ["--instance", str(tmp_path)]
    assert runner.invoke(cli, [*args, "init"]).exit_code == 0
    result = runner.invoke(cli, [*args, "create-user", "wang"], input="", prog_name="python -m station")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == "已取消。" and "Aborted" not in result.output
    with db.connection_context():
        assert User.get_or_none(User.username == "wang") is None


def test_help_is_headed_in_chinese(runner):
    result = runner.invoke(cli, ["init", "-h"], prog_name="python -m station")
    assert result.exit_code == 0
    assert result.output.startswith("用法：python -m station init [选项]")
    assert "选项：" in result.output and "显示本帮助并退出。" in result.output and "Show this message" not in result.output


def _every_command_path(group, path=()):  # noqa: ANN001, ANN202
    yield path
    for name, command in group.commands.items():
        yield from (_every_command_path(command, (*path, name)) if hasattr(command, "commands")
                    else [(*path, name)])


@pytest.mark.parametrize("which", ["station", "hub"])
def test_help_has_none_of_clicks_english(runner, which):
    """`-h` showed a county's IT person [default: 150; 0<=x<=20000], [required], Usage:, [OPTIONS], --dir TEXT."""
    import re

    from sync.hub.cli import cli as hub_cli

    group, prog = (cli, "python -m station") if which == "station" else (hub_cli, "python -m sync.hub")
    english = re.compile(r"Usage|Options|Commands|OPTIONS|COMMAND|ARGS|default|required|Show this|env var"
                         r"|<=|>=|\b(TEXT|INTEGER|RANGE|FLOAT|PATH|FILENAME|BOOLEAN)\b|\w:$", re.MULTILINE)
    pages = 0
    for path in _every_command_path(group):
        result = runner.invoke(group, [*path, "--help"], prog_name=prog)
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith(f"用法：{' '.join([prog, *path])} [选项]"), result.output
        assert "选项：" in result.output and "显示本帮助并退出。" in result.output
        assert not english.search(result.output), (path, english.search(result.output), result.output)
        pages += 1
    assert pages > 10
    demo = runner.invoke(cli, ["demo", "-h"], prog_name="python -m station").output
    assert "--cases 整数" in demo and "[默认：150；0 到 20000]" in re.sub(r"\n +", "", demo) and "--port 整数" in demo
    assert "[必填]" in runner.invoke(hub_cli, ["peers", "-h"]).output


@pytest.mark.parametrize("which", ["station", "hub"])
def test_help_fits_an_80_column_console_with_its_columns_aligned(runner, which):
    """Click measured Chinese by characters: help lines ran to 150 columns, past a Windows console's edge
    (wrapped mid-word by the console), and a Chinese kind (--port 整数) pushed its description out of line."""
    import re
    import unicodedata

    from sync.hub.cli import cli as hub_cli

    def display_width(text: str) -> int:  # as a console counts: a Chinese character takes two columns
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    group = cli if which == "station" else hub_cli
    for path in _every_command_path(group):
        page = runner.invoke(group, [*path, "--help"], terminal_width=80).output
        assert max(display_width(line) for line in page.splitlines()) <= 80, page
        options = page.split("选项：\n", 1)[1].split("\n\n", 1)[0].splitlines()
        rows = [re.match(r"(  -\S.*?\S {2,})\S", line) for line in options]
        starts = {display_width(row[1]) for row in rows if row}
        assert len(starts) <= 1, page  # every description one below the other


def test_sync_refuses_to_run_without_once(runner, tmp_path):
    result = runner.invoke(cli, ["--instance", str(tmp_path), "sync"])
    assert result.exit_code == 2
    assert "--once" in result.output


def test_demo_prepares_its_data_without_serving(runner, tmp_path):
    result = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo"), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "演示账号" in result.output
    assert (tmp_path / "demo" / "DEMO-LOGINS.json").exists()


def test_run_serves_the_instance_on_the_given_port(runner, tmp_path, monkeypatch):
    served = {}
    def serve(app, host, port, listening):  # noqa: ANN001, ANN202
        served.update(app=app, host=host, port=port)
        listening()

    monkeypatch.setattr("station.cli.serve", serve)
    assert runner.invoke(cli, ["init", "--instance", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["run", "--host", "0.0.0.0", "--port", "8181", "--instance", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "http://0.0.0.0:8181/" in result.output
    assert (served["host"], served["port"]) == ("0.0.0.0", 8181)
    assert served["app"].config["DATABASE"] == str(tmp_path / "station.sqlite3")
