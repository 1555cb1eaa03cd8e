"""Backups: the check at start, `python -m station backup` / `restore`, rotation, the key kept apart."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from station import create_app
from station.cli import cli
from station.extensions import db
from station.models import Case
from station.services import backups
from station.services.backups import BackupError, DatabaseDamaged
from sync import state as sync_state
from tests.fixtures.config import station_test_config
from tests.station.test_sealing_at_rest import _env, _everything_opens, _fill, _intake

POSIX = sys.platform != "win32"


def _quiet(app: Flask) -> None:
    """Every connection closed and the WAL folded in: the file on disk is the whole database."""
    with app.app_context(), db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    app.extensions["station_db"].close_all()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_database_refuses_to_start_and_is_left_as_it_was(app, tmp_path, monkeypatch):
    _fill(app)
    _quiet(app)
    database = Path(app.config["DATABASE"])
    raw = bytearray(database.read_bytes())
    page = 4096
    raw[3 * page:3 * page + 200] = b"\xff" * 200  # a b-tree page overwritten, as a failing disk would
    database.write_bytes(bytes(raw))
    before = _digest(database)
    with pytest.raises(DatabaseDamaged, match="数据库文件.*已损坏.*最近的备份恢复"):
        create_app(station_test_config(tmp_path), instance_path=app.instance_path)
    assert _digest(database) == before
    assert not Path(str(database) + "-wal").exists() or Path(str(database) + "-wal").stat().st_size == 0
    _env(monkeypatch, app)
    result = CliRunner().invoke(cli, ["sync", "--once"])  # the operator sees the message, not a traceback
    assert result.exit_code == 1 and "已损坏" in result.stderr and "restore" in result.stderr


def test_a_file_that_is_not_a_database_refuses_to_start(tmp_path):
    (tmp_path / "station.sqlite3").write_bytes(b"this is not SQLite" * 300)
    with pytest.raises(DatabaseDamaged, match="已损坏"):
        create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))


def test_backup_while_the_station_runs_holds_every_case_owner_only_and_keeps_the_key_apart(app, tmp_path, monkeypatch):
    case_id, sha256 = _fill(app)
    with app.app_context(), db.connection_context():  # a clerk mid-write: uncommitted rows are not in the copy
        with db.atomic():
            _intake()
            made = backups.backup_station(app, str(tmp_path / "usb"))
            count_in_app = Case.select().count()
    copy = sqlite3.connect(made.database)
    assert copy.execute('SELECT count(*) FROM "case"').fetchone()[0] == count_in_app - 1
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert made.key_file.name.endswith(".KEY-keep-apart.key") and made.key_file.parent == made.database.parent
    assert made.key_file.read_text() == Path(app.config["KEY_FILE"]).read_text()
    assert any(p.is_file() for p in made.attachments.rglob("*"))
    if POSIX:
        mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
        assert mode(made.database) == mode(made.key_file) == 0o600
        assert all(mode(p) == 0o600 for p in made.attachments.rglob("*") if p.is_file())
        assert mode(tmp_path / "usb") == 0o700

    restored = tmp_path / "restored"
    backups.restore(str(made.database), str(restored))
    again = create_app(station_test_config(restored), instance_path=str(restored))
    _everything_opens(again, case_id, sha256)
    with again.app_context(), db.connection_context():
        assert sync_state.get_value(sync_state.RESTORED_FROM) == made.database.name


def test_backup_command_writes_into_the_backup_folder_and_keeps_the_newest(app, tmp_path, monkeypatch):
    _fill(app)
    _env(monkeypatch, app)
    usb = tmp_path / "usb"
    monkeypatch.setenv("STATION_BACKUP_DIR", str(usb))
    monkeypatch.setenv("STATION_BACKUP_KEEP", "2")
    with app.app_context(), db.connection_context():
        code = backups.get_profile().code
    for day in (1, 2):  # two older backups, on two earlier days; with BACKUP_KEEP=2 the first goes
        backups.backup(app.config["DATABASE"], app.config["ATTACHMENT_DIR"], app.config["KEY_FILE"], str(usb), code,
                       keep=2, now=dt.datetime(2026, 11, day, 8, 0))
    result = CliRunner().invoke(cli, ["backup"])
    assert result.exit_code == 0, result.output
    assert "已备份数据库" in result.output and "另存到与数据库备份不同的地方" in result.stderr
    names = sorted(p.name for p in usb.iterdir())
    assert len([n for n in names if n.endswith(".sqlite3")]) == 2
    assert not any("20261101" in n for n in names)  # database, scans and key of the oldest all gone
    assert len([n for n in names if n.endswith(".key")]) == 2
    assert len(names) == 6, names  # each backup one database file (no -wal/-shm), its scans and its key


def test_backup_without_a_folder_says_where_to_set_it(app, monkeypatch):
    _env(monkeypatch, app)
    result = CliRunner().invoke(cli, ["backup"])
    assert result.exit_code == 1 and "BACKUP_DIR" in result.stderr


def test_backup_to_a_folder_that_cannot_be_made_says_so_in_chinese(app, tmp_path, monkeypatch):
    _env(monkeypatch, app)
    (tmp_path / "E盘").write_text("not a drive")  # the stick is not there: a file where its folder should be
    result = CliRunner().invoke(cli, ["backup", "--to", str(tmp_path / "E盘" / "备份")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "备份失败：无法写入" in result.stderr and "U盘或移动硬盘未插好" in result.stderr


def test_restore_never_overwrites_and_refuses_without_the_right_key(app, tmp_path, monkeypatch):
    _fill(app)
    made = backups.backup_station(app, str(tmp_path / "usb"))
    runner = CliRunner()
    for name in ("STATION_INSTANCE", "STATION_DATABASE", "STATION_KEY_FILE", "STATION_ATTACHMENT_DIR"):
        monkeypatch.delenv(name, raising=False)

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "station.sqlite3").write_bytes(b"a station in use")
    result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(existing)])
    assert result.exit_code == 1 and "已有数据库" in result.stderr
    assert (existing / "station.sqlite3").read_bytes() == b"a station in use"

    apart = tmp_path / "elsewhere.key"
    made.key_file.rename(apart)
    result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(tmp_path / "new")])
    assert result.exit_code == 1 and "找不到密钥文件" in result.stderr
    assert not (tmp_path / "new" / "station.sqlite3").exists()

    other = tmp_path / "other"
    other.mkdir()
    create_app(station_test_config(other), instance_path=str(other / "instance"))  # another station's key
    result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(tmp_path / "new"),
                                 "--key", str(other / "instance" / "keys" / "data.key")])
    assert result.exit_code == 1 and "不是这份备份的密钥" in result.stderr
    assert not (tmp_path / "new" / "station.sqlite3").exists()

    result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(tmp_path / "new"), "--key", str(apart)])
    assert result.exit_code == 0, result.stderr
    assert "须先与县级平台同步一次" in result.output
    assert (tmp_path / "new" / "keys" / "data.key").read_text() == apart.read_text()


def test_restore_by_relative_paths_typed_in_the_backup_folder(app, tmp_path, monkeypatch):
    """The operator opens a console in the backup folder and types the file names: restored, not
    refused as "not this backup's key"."""
    _fill(app)
    made = backups.backup_station(app, str(tmp_path / "usb"))
    for name in ("STATION_INSTANCE", "STATION_DATABASE", "STATION_KEY_FILE", "STATION_ATTACHMENT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(made.database.parent)
    result = CliRunner().invoke(cli, ["restore", made.database.name, "--instance", "../new",
                                      "--key", made.key_file.name])
    assert result.exit_code == 0, result.stderr
    assert "须先与县级平台同步一次" in result.output
    assert (tmp_path / "new" / "station.sqlite3").is_file()


def test_restore_refuses_a_damaged_backup(app, tmp_path):
    _fill(app)
    made = backups.backup_station(app, str(tmp_path / "usb"))
    raw = bytearray(made.database.read_bytes())
    raw[2 * 4096:2 * 4096 + 300] = b"\x00\xff" * 150
    made.database.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="已损坏"):
        backups.restore(str(made.database), str(tmp_path / "new"))
    assert not (tmp_path / "new" / "station.sqlite3").exists()


def test_a_served_station_with_a_backup_folder_backs_up_daily(app, tmp_path, monkeypatch):
    from station import serving

    app.config["BACKUP_DIR"] = str(tmp_path / "usb")
    started = []
    monkeypatch.setattr(serving, "start_scheduler", lambda _app, _hooks: started.append(_FakeRunner()) or started[-1])
    serving.start_background_jobs(app)
    [job] = started[0].scheduler.jobs
    assert job["id"] == "daily-backup" and job["hour"] == 12
    job["func"](*job["args"])
    assert len(list((tmp_path / "usb").glob("*.sqlite3"))) == 1


def test_a_daily_backup_that_failed_is_told_to_the_admin_until_one_succeeds(app, admin, tmp_path, monkeypatch):
    """A USB stick left out failed the backup every night in a log file nobody at the station reads."""
    from station import serving

    stick = tmp_path / "usb"
    stick.write_text("not a folder: the stick is not in, a file sits where its folder should be")
    app.config["BACKUP_DIR"] = str(stick / "服务站备份")
    started = []
    monkeypatch.setattr(serving, "start_scheduler", lambda _app, _hooks: started.append(_FakeRunner()) or started[-1])
    serving.start_background_jobs(app)
    [job] = started[0].scheduler.jobs
    job["func"](*job["args"])
    told = "上次自动备份失败"
    assert told in admin.get("/admin/settings").get_data(as_text=True)
    home = admin.get("/").get_data(as_text=True)
    assert 'id="backup-failed"' in home and "U盘或移动硬盘未插好" in home
    stick.unlink()  # the stick is back
    job["func"](*job["args"])
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "上次自动备份：" in page and "成功" in page and told not in page
    assert 'id="backup-failed"' not in admin.get("/").get_data(as_text=True)


class _FakeRunner:
    class _Scheduler:
        def __init__(self) -> None:
            self.jobs: list[dict] = []

        def add_job(self, func, trigger, args, hour, id, **_kw):  # noqa: A002, ANN001, ANN202
            self.jobs.append({"func": func, "trigger": trigger, "args": args, "hour": hour, "id": id})

    def __init__(self) -> None:
        self.scheduler = self._Scheduler()



def test_the_intake_page_says_to_sync_first_after_a_restore_and_saves_nothing(app, agent):
    from tests.fixtures.intake import form_for, item_named

    with app.app_context(), db.connection_context():
        sync_state.set_value(sync_state.RESTORED_FROM, "ST1-20261201-080000.sqlite3")
        item = item_named("高龄津贴申领")
        before = Case.select().count()
    page = agent.get(f"/intake/item/{item.id}")
    assert "恢复备份后需先与县级平台同步一次" in page.get_data(as_text=True)
    answer = agent.post(f"/intake/item/{item.id}", data=form_for([item]))
    assert "恢复备份后需先与县级平台同步一次" in answer.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Case.select().count() == before


def test_restore_of_a_file_that_is_no_backup_says_so_and_changes_nothing(tmp_path):
    """A photo picked by mistake was answered "找不到密钥文件 .KEY-keep-apart.key"; another program's SQLite
    file (the county's hub.sqlite3) passed every check and failed inside the copy with sqlite3's English."""
    usb = tmp_path / "usb"
    usb.mkdir()
    photo = usb / "身份证.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2000))
    text = usb / "ST01-20261201-080000.sqlite3"
    text.write_text("这不是数据库", encoding="utf-8")
    empty = usb / "空.sqlite3"
    empty.write_bytes(b"")
    other = usb / "hub.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE hub_station (code TEXT)")
    conn.commit()
    conn.close()
    for wrong in (photo, text, empty, other):
        (usb / (wrong.name[: -len(".sqlite3")] + backups.KEY_SUFFIX)).write_text("{}", encoding="utf-8")
        result = CliRunner().invoke(cli, ["restore", str(wrong), "--instance", str(tmp_path / "new")])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.startswith(f"恢复失败：{wrong} 不是服务站的备份文件（或已损坏），不予恢复，没有做任何改动。")
        assert "名称形如 站点编码-日期-时间.sqlite3" in result.stderr
        assert not (tmp_path / "new").exists()


def test_restore_that_cannot_write_says_why_in_chinese_and_leaves_nothing(app, tmp_path, monkeypatch):
    """--instance naming a file, or a disk filling up mid-copy, was a FileExistsError / OSError traceback,
    and the half-written copy stayed in the new folder."""
    import errno

    _fill(app)
    made = backups.backup_station(app, str(tmp_path / "usb"))
    runner = CliRunner()
    (tmp_path / "a file").write_text("", encoding="utf-8")
    result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(tmp_path / "a file")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.strip() == (f"恢复失败：{tmp_path / 'a file'} 是一个文件，不能用作恢复的文件夹。"
                                     "请用 --instance 指明一个新的空文件夹。没有做任何改动。")

    real_copy = backups.copy_database

    def fills_the_disk(source, target):  # noqa: ANN001, ANN202
        real_copy(source, target)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backups, "copy_database", fills_the_disk)
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "D盘" / "station-new", tmp_path / "empty"):
        result = runner.invoke(cli, ["restore", str(made.database), "--instance", str(target)])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.stderr.strip() == (f"恢复失败：无法写入 {target}：空间已满，请换一个U盘或先清理空间。"
                                         "没有恢复，没有留下任何文件。")
    assert not (tmp_path / "D盘").exists() and list((tmp_path / "empty").iterdir()) == []
