"""Backups of a station: a check at start, an online copy, rotation, and a restore into a fresh folder.

A backup is three things side by side in the backup folder (``BACKUP_DIR``, e.g. a USB drive):

- ``<code>-<YYYYmmdd-HHMMSS>.sqlite3`` — the database, copied with SQLite's backup API, which
  reads one consistent snapshot (WAL included) while clerks keep working;
- ``<code>-<stamp>.attachments/`` — the scans (already sealed at rest);
- ``<code>-<stamp>.KEY-keep-apart.key`` — the key ring. Without it the sealed personal data in
  the copy cannot be read, and with it anyone holding the copy can: docs/security.md asks to keep
  it on another medium than the database copy.

Every file is written owner-only from the start and under a temporary name that is renamed when
it is complete, so a pulled USB drive leaves either a whole backup or an obvious ``.part``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from station.database import copy_database
from station.extensions import db
from station.keys import owner_only_folder
from station.models import Setting
from station.services.errors import cannot_write
from station.services.station_info import get_profile
from station.services.station_settings import backup_folder
from sync.state import RESTORED_ACCESS_LOG_SEQ, RESTORED_FROM
from websec.sealing import SealingError, load_key_ring, write_owner_only

log = logging.getLogger(__name__)

DB_SUFFIX = ".sqlite3"
ATTACHMENTS_SUFFIX = ".attachments"
KEY_SUFFIX = ".KEY-keep-apart.key"
STAMP_FORMAT = "%Y%m%d-%H%M%S"
BACKUP_NAME = re.compile(r"^(?P<code>.+)-(?P<stamp>\d{8}-\d{6})\.sqlite3$")


class BackupError(Exception):
    """A backup or restore that cannot be done; `message` is for the operator, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseDamaged(BackupError):
    """The database failed SQLite's check at start: the app refuses to start and changes nothing."""


@dataclass(frozen=True)
class Backup:
    database: Path
    attachments: Path
    key_file: Path
    removed: tuple[Path, ...] = ()


# --- the check at start ---------------------------------------------------------------------

def check_database(path: str, *, full: bool = False) -> None:
    """Raise DatabaseDamaged if the database file is damaged; a missing or empty file passes (first start).

    At start the app runs ``PRAGMA quick_check``: it walks every page and b-tree like
    ``integrity_check`` but does not cross-check each index against its table, which makes it
    several times faster on a big database — a village PC should not wait minutes at every
    start. Backups and restores run the full ``integrity_check`` (``full=True``): a copy is made
    once and must be sound in every detail. The file is opened read-only, so nothing changes.
    """
    if path == ":memory:" or not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    problems = _check(path, "integrity_check" if full else "quick_check")
    if problems:
        log.error("database %s failed its check: %s", path, "; ".join(problems[:10]))
        raise DatabaseDamaged(
            f"数据库文件 {path} 已损坏（SQLite 检查未通过：{problems[0]}），本站不能启动，数据库未作任何改动。"
            "请不要继续使用或删除这个文件：把它另存一份，然后用最近的备份恢复："
            "python -m station restore 备份文件.sqlite3 --instance 新文件夹"
            "（详见 docs/reliability.md“备份与恢复”），恢复后与县级平台同步一次。")


def _check(path: str, pragma: str) -> list[str]:
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        return [str(exc)]
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


# --- backup ---------------------------------------------------------------------------------

def backup(database: str, attachment_dir: str, key_file: str, target_dir: str, station_code: str,
           keep: int, now: dt.datetime | None = None) -> Backup:
    """Copy the running station's database, scans and key ring into `target_dir`; keep the newest `keep`."""
    target = Path(target_dir)
    owner_only_folder(target)
    code = re.sub(r"[^0-9A-Za-z-]", "", station_code) or "station"
    stamp = (now or dt.datetime.now()).strftime(STAMP_FORMAT)
    base = f"{code}-{stamp}"
    db_copy = target / f"{base}{DB_SUFFIX}"
    if db_copy.exists():
        raise BackupError(f"备份 {db_copy} 已存在：请稍后再试。")
    partial = target / f"{base}{DB_SUFFIX}.part"
    copy_database(database, partial)
    check_database(str(partial), full=True)

    scans = target / f"{base}{ATTACHMENTS_SUFFIX}"
    scans_partial = target / f"{base}{ATTACHMENTS_SUFFIX}.part"
    _copy_tree(Path(attachment_dir), scans_partial)

    key_copy = target / f"{base}{KEY_SUFFIX}"
    if not Path(key_file).exists():
        raise BackupError(f"找不到密钥文件 {key_file}：没有它，备份中的居民信息无法读取，备份未完成。")
    write_owner_only(key_copy, Path(key_file).read_text(encoding="utf-8"))
    scans_partial.replace(scans)
    partial.replace(db_copy)  # the database last: a backup is listed (and rotated) only when whole
    removed = rotate(target, code, keep)
    log.info("backup %s written (%d older removed)", db_copy, len(removed))
    return Backup(db_copy, scans, key_copy, tuple(removed))


def backup_station(app: Flask, target_dir: str | None = None) -> Backup:
    """Back up `app`'s station into `target_dir` (default: the BACKUP_DIR setting), keeping BACKUP_KEEP."""
    folder = target_dir or app.config.get("BACKUP_DIR")
    if not folder:
        with app.app_context(), db.connection_context():
            folder = backup_folder()
    if not folder:
        raise BackupError("未设置备份文件夹：请用 --to 文件夹 指明，或在“管理 → 本站设置”中填写备份文件夹（例如U盘上的文件夹；也可在设置文件中填写 BACKUP_DIR）。")
    with app.app_context(), db.connection_context():
        code = get_profile().code
    try:
        return backup(app.config["DATABASE"], app.config["ATTACHMENT_DIR"], app.config["KEY_FILE"], folder, code,
                      int(app.config.get("BACKUP_KEEP") or 0))
    except OSError as exc:  # a stick not plugged in, full or write-protected: its own words, not a traceback
        raise BackupError(cannot_write(getattr(exc, "filename", None) or folder, exc)) from exc


#: How the daily backup last ended (JSON: at, ok, words), for the admin's settings and home pages.
LAST_BACKUP = "backup.last"


@dataclass(frozen=True)
class LastBackup:
    """The daily backup's last run, as the station admin reads it."""

    at: str  # YYYY-MM-DD HH:MM, station time
    ok: bool
    words: str  # the file written, or why nothing was


def scheduled_backup(app: Flask) -> None:
    """The daily job of a served station: a failed backup is logged, never fatal to the station.

    Its outcome is kept for the admin's pages: a USB stick left out for weeks otherwise failed every
    night in a log file nobody at a village station reads.
    """
    try:
        made = backup_station(app)
    except Exception as exc:  # noqa: BLE001 - a full or missing USB drive must not stop the station
        log.exception("daily backup failed")
        _remember(app, ok=False, words=_why(exc))
        return
    log.info("daily backup %s", made.database)
    _remember(app, ok=True, words=str(made.database))


def _why(exc: Exception) -> str:
    if isinstance(exc, BackupError):
        return exc.message
    if isinstance(exc, OSError):
        return "无法写入备份文件夹：U盘或移动硬盘未插好、空间已满，或没有写入权限。"
    return "备份时出错，详情见服务站日志。"


def _remember(app: Flask, *, ok: bool, words: str) -> None:
    try:
        with app.app_context(), db.connection_context():
            Setting.set_value(LAST_BACKUP, json.dumps(
                {"at": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "ok": ok, "words": words[:300]},
                ensure_ascii=False))
    except Exception:  # noqa: BLE001 - a locked database must not turn a backup into a crash
        log.exception("could not record the daily backup's outcome")


def last_backup() -> LastBackup | None:
    """How the daily backup last ended; None before its first run."""
    raw = Setting.get_value(LAST_BACKUP)
    if not raw:
        return None
    data = json.loads(raw)
    return LastBackup(str(data.get("at", "")), bool(data.get("ok")), str(data.get("words", "")))


def _copy_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    owner_only_folder(target)
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            owner_only_folder(dest)
        elif path.is_file():
            owner_only_folder(dest.parent)
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                shutil.copyfileobj(src, out)


def rotate(target: Path, code: str, keep: int) -> list[Path]:
    """Remove this station's backups beyond the newest `keep` (database, scans and key together)."""
    mine = sorted((p for p in target.glob(f"{code}-*{DB_SUFFIX}") if _stamp_of(p, code)), key=lambda p: _stamp_of(p, code))
    removed = []
    for old in mine[:-keep] if keep > 0 else []:
        base = old.name[: -len(DB_SUFFIX)]
        old.unlink()
        shutil.rmtree(target / f"{base}{ATTACHMENTS_SUFFIX}", ignore_errors=True)
        (target / f"{base}{KEY_SUFFIX}").unlink(missing_ok=True)
        removed.append(old)
    return removed


def _stamp_of(path: Path, code: str) -> str:
    match = BACKUP_NAME.match(path.name)
    return match["stamp"] if match and match["code"] == code else ""


# --- restore --------------------------------------------------------------------------------

def key_file_for(backup_file: Path) -> Path:
    """The key file written beside a backup (it may have been moved apart: then `--key` names it)."""
    return backup_file.with_name(backup_file.name[: -len(DB_SUFFIX)] + KEY_SUFFIX)


def restore(backup_file: str, instance: str, key_file: str | None = None) -> Path:
    """Restore a backup into the fresh instance folder `instance`; return the restored database's path.

    Refuses a folder that already holds a database (a restore never overwrites a station), a
    backup that fails ``integrity_check``, and a missing key file or one that does not open the
    backup's sealed data. The restored database is marked so that the station learns from the
    hub what it sent after the backup before it numbers a new case.
    """
    source = Path(backup_file)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    refuse_a_file_that_is_no_backup(source)
    folder = Path(instance)
    target_db = folder / "station.sqlite3"
    if target_db.exists():
        raise BackupError(f"文件夹 {folder} 中已有数据库，恢复不会覆盖它。请指定一个新的空文件夹（--instance 新文件夹）。")
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"{folder} 是一个文件，不能用作恢复的文件夹。请用 --instance 指明一个新的空文件夹。没有做任何改动。")
    key_path = Path(key_file) if key_file else key_file_for(source)
    if not key_path.is_file():
        raise BackupError(
            f"找不到密钥文件 {key_path}：没有备份时的密钥文件，备份中的居民信息无法读取，不予恢复。"
            "请找到单独保存的密钥文件，用 --key 密钥文件 指明。")
    try:
        check_database(str(source), full=True)
    except DatabaseDamaged as exc:  # its own words are for a station that will not start ("restore a backup")
        raise BackupError(f"备份文件 {source} 已损坏（SQLite 检查未通过），不予恢复，没有做任何改动。"
                          "请换用另一份（较早的）备份。") from exc
    try:
        ring = load_key_ring(key_path, create=False)
        _probe_key(source, ring)
    except (SealingError, ValueError, KeyError) as exc:
        raise BackupError(f"密钥文件 {key_path} 不是这份备份的密钥，打不开其中加密的居民信息，不予恢复。") from exc

    top = folder.absolute()  # the outermost folder the restore makes (or the folder itself, there already)
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    before = set(folder.iterdir()) if folder.is_dir() else None
    try:
        _write_restored(source, folder, key_path)
    except OSError as exc:  # a path under a file, no room, no permission: the system's English was a traceback
        _undo_restore(folder, top, before)
        raise BackupError(f"{cannot_write(folder, exc)}没有恢复，没有留下任何文件。") from exc
    log.info("restored %s into %s", source, folder)
    return target_db


def _write_restored(source: Path, folder: Path, key_path: Path) -> None:
    """Copy the backup, its key and its scans into `folder`; the database last, under its name only when whole."""
    target_db = folder / "station.sqlite3"
    owner_only_folder(folder)
    partial = folder / "station.sqlite3.part"
    copy_database(str(source), partial)
    conn = sqlite3.connect(str(partial))
    try:
        with conn:
            stamp = dt.datetime.now().isoformat(sep=" ")
            conn.execute("INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)",
                         (RESTORED_FROM, source.name, stamp))
            head = conn.execute("SELECT MAX(seq) FROM access_log").fetchone()  # the entries the backup holds
            conn.execute("INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)",
                         (RESTORED_ACCESS_LOG_SEQ, str(head[0] or 0), stamp))
    finally:
        conn.close()
    owner_only_folder(folder / "keys")
    write_owner_only(folder / "keys" / "data.key", key_path.read_text(encoding="utf-8"))
    scans = source.with_name(source.name[: -len(DB_SUFFIX)] + ATTACHMENTS_SUFFIX)
    _copy_tree(scans, folder / "attachments")
    partial.replace(target_db)


def _undo_restore(folder: Path, top: Path, before: set[Path] | None) -> None:
    """Take away what a failed restore wrote: the folders it made, else what it put in the folder that was there."""
    if before is None:
        shutil.rmtree(top, ignore_errors=True)
        return
    for made in set(folder.iterdir()) - before:
        if made.is_dir():
            shutil.rmtree(made, ignore_errors=True)
        else:
            made.unlink(missing_ok=True)


SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables every station database has had since its first migration; restore writes into two of them.
STATION_TABLES = frozenset({"case", "sync_state", "access_log"})


def refuse_a_file_that_is_no_backup(source: Path) -> None:
    """Raise BackupError, in Chinese, when `source` is not a station's database (a backup is one).

    A photo, the key file or the scans' folder picked by mistake was answered "找不到密钥文件
    .KEY-keep-apart.key" (a key name made from a name without .sqlite3); the county's database
    passed every check and then failed inside the copy with sqlite3's English.
    """
    not_a_backup = (f"{source} 不是服务站的备份文件（或已损坏），不予恢复，没有做任何改动。"
                    f"备份文件由 backup 命令生成，名称形如 站点编码-日期-时间{DB_SUFFIX}（旁边有同名的"
                    f"{ATTACHMENTS_SUFFIX} 扫描件文件夹和 {KEY_SUFFIX} 密钥文件）。")
    try:
        with open(source, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"无法读取备份文件 {source}（{exc.strerror or exc}）。没有做任何改动。") from exc
    if header != SQLITE_HEADER:
        raise BackupError(not_a_backup)
    try:
        conn = sqlite3.connect(Path(os.path.abspath(source)).as_uri() + "?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(not_a_backup) from exc
    if not STATION_TABLES <= tables:
        raise BackupError(not_a_backup)


def _probe_key(database: Path, ring: object) -> None:
    """Unseal one sealed value of the backup with `ring` (raises SealingError when it is not its key)."""
    # absolute first: a relative path (the operator typed the backup's name in its folder) has no
    # file URI, and the ValueError read as "not this backup's key"
    conn = sqlite3.connect(Path(os.path.abspath(database)).as_uri() + "?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        probes = []
        if "case" in tables:
            probes.append("SELECT applicant_id_stored FROM \"case\" WHERE applicant_id_stored LIKE 'enc1:%' LIMIT 1")
        if "sync_state" in tables:
            probes.append("SELECT value FROM sync_state WHERE value LIKE 'enc1:%' LIMIT 1")
        for sql in probes:
            row = conn.execute(sql).fetchone()
            if row:
                ring.unseal(row[0])  # type: ignore[attr-defined]
    finally:
        conn.close()
