"""Create or upgrade a station database in place, keeping every row (queued events included)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from peewee import Database
from playhouse.migrations import Runner

from station.database import copy_database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def runner(database: Database) -> Runner:
    """The migration runner for a station database (history in `schema_migration`)."""
    return Runner(database, directory=str(MIGRATIONS_DIR))


def upgrade(database: Database, target: str | None = None) -> list[str]:
    """Apply pending migrations in order (up to `target`); return the names applied."""
    applied = runner(database).up(target)
    for name in applied:
        log.info("applied migration %s", name)
    return applied


class DatabaseNewer(Exception):
    """The database was migrated by a newer release than this software: refuse, change nothing.

    Running older code over it would write rows the newer columns and rules do not expect, and
    no migration can undo that. ``message`` is for the station admin, in Chinese.
    """

    def __init__(self, unknown: list[str], known: str) -> None:
        self.unknown = unknown
        self.message = (f"数据库是较新版本的软件升级过的（数据库结构 {unknown[-1]}，本软件只认识到 {known or '无'}），"
                        "本软件不能打开它，数据库没有任何改动。请安装与上次相同或更新版本的便民服务站软件后再启动；"
                        "不要用旧版本覆盖安装。")
        super().__init__(self.message)


def refuse_newer(database: Database) -> None:
    """Raise :class:`DatabaseNewer` when the database records migrations this software does not have.

    Read-only: called before anything at start writes to the database.
    """
    known = [m.name for m in runner(database).migrations()]
    unknown = [m.name for m in runner(database).status() if m.applied and m.path is None]
    if unknown:
        raise DatabaseNewer(sorted(unknown), known[-1] if known else "")


def schema_version(database: Database) -> str:
    """Name of the newest applied migration, reported in every sync heartbeat."""
    applied = [m.name for m in runner(database).status() if m.applied]
    return applied[-1] if applied else ""


def pending(database: Database) -> list[str]:
    """Migrations not applied yet: the app refuses to serve until they are."""
    return [m.name for m in runner(database).status() if not m.applied and m.path]


class UpgradeWhileServing(Exception):
    """Migrations are pending and a station process still serves this folder (the old release, started
    at logon): migrating under it would leave it writing to tables its code does not know.
    ``message`` is for the station admin, in Chinese; nothing was changed."""

    def __init__(self, folder: str) -> None:
        self.message = (f"本站正在运行（{folder}）：请先关闭服务站窗口（BianminStation）或停止服务"
                        "（systemctl --user stop bianmin-station），再升级。本次没有升级，数据库没有任何改动。")
        super().__init__(self.message)


class UpgradeCopyFailed(Exception):
    """The copy kept before an upgrade could not be written: the upgrade does not run, nothing changed.

    An upgrade without its copy would leave no way back if a migration went wrong; a full disk is
    the usual cause on a village PC. ``message`` is for the station admin, in Chinese.
    """

    def __init__(self, target: Path, size: int) -> None:
        self.message = (f"升级前须先把数据库复制一份（{target}），但复制失败：磁盘空间不足或没有写入权限。"
                        f"本次没有升级，数据库没有任何改动，待同步的办件都还在。请在数据库所在的磁盘腾出至少 "
                        f"{max(size // (1024 * 1024), 1)} MB 空间后再启动。")
        super().__init__(self.message)


def backup_before_upgrade(database: Database, path: str) -> Path | None:
    """Copy the database file before pending migrations change it; return the copy's path.

    Only a database that already has tables and has migrations to apply is copied. The copy is
    named after the first migration still to come (`station.sqlite3.before-0005_x.bak`), so it
    holds the schema just before that one. SQLite's backup API reads one consistent snapshot,
    WAL included, so the copy is sound even while another process has the file open.
    """
    todo = pending(database)
    if not todo or not database.get_tables() or path == ":memory:":
        return None
    source = Path(path)
    target = source.with_name(f"{source.name}.before-{todo[0]}.bak")
    if target.exists():  # an earlier, failed upgrade already kept the untouched copy: keep it
        log.warning("database copy %s already exists; kept as it is", target)
        return target
    partial = target.with_name(target.name + ".part")
    try:
        copy_database(str(source), partial)  # the copy holds residents' data too: 0600 from the start
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:  # "database or disk is full", a read-only folder
        log.error("could not copy %s before upgrading: %s", source, exc)
        partial.unlink(missing_ok=True)  # half a copy is no copy; it would only take more of the full disk
        raise UpgradeCopyFailed(target, source.stat().st_size) from exc
    log.info("copied %s (schema %s) to %s before applying %s", source.name, schema_version(database) or "none",
             target, ", ".join(todo))
    return target
