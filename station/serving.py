"""Serving a station: waitress in front, the sync scheduler behind."""

from __future__ import annotations

import errno
import gc
from collections.abc import Callable

from flask import Flask
from waitress import create_server

from station.extensions import db
from station.services.backups import scheduled_backup
from station.services.station_settings import backup_folder
from station.single_instance import hold_instance_lock
from station.sync_hooks import station_hooks
from sync.jobs import start_scheduler
from sync.malloc_arenas import limit_malloc_arenas


class PortUnavailable(Exception):
    """The address cannot be listened on (taken by another program, or not this PC's); ``message`` in Chinese."""

    def __init__(self, host: str, port: int, exc: OSError, *, who: str = "便民服务站",
                 option: str = "--port") -> None:
        """``who`` did not start; ``option`` is the command's option that names this port (the demo has two)."""
        if exc.errno in (errno.EADDRINUSE, WSAEADDRINUSE):
            why = (f"端口 {port} 已被其他程序占用（可能是另一个文件夹的便民服务站，或其他软件）。"
                   f"请关闭它，或换一个端口启动，例如 {option} {port + 1 if port < 65535 else 8081}。")
        elif exc.errno in (errno.EACCES, WSAEACCES):
            why = f"没有权限使用端口 {port}（1024 以下的端口需要管理员权限），请换用 8080 等端口。"
        else:
            why = f"地址 {host} 不是本机的地址，或不能在此地址上监听（系统错误 {exc.errno}）。请检查 --host。"
        self.message = f"{who}未能启动：{why}"
        super().__init__(self.message)


WSAEADDRINUSE, WSAEACCES = 10048, 10013  # the same two on Windows, where errno names other numbers


def serve(app: Flask, host: str, port: int, *, listening: Callable[[], None] | None = None) -> None:
    """Serve with waitress (pure Python: runs on a Windows village PC without admin rights).

    Refuses (:class:`AlreadyRunning`) when a station already serves this instance folder, and
    (:class:`PortUnavailable`) when the port cannot be had — before any sync job starts.
    ``listening`` is called once the port is bound, so "started" is said only when it is true.
    """
    app.extensions["instance_lock"] = hold_instance_lock(app.instance_path)
    limit_malloc_arenas()  # before the scheduler's and waitress's threads (sync/malloc_arenas.py)
    try:
        server = create_server(app, host=host, port=port, threads=4, ident="station")  # a handful of users
    except OSError as exc:
        raise PortUnavailable(host, port, exc) from exc
    start_background_jobs(app)
    # What is loaded by now (fonts, catalog index, templates) lives as long as the process: out
    # of the collector's reach, a collection during a request no longer walks all of it.
    gc.freeze()
    if listening is not None:
        listening()
    server.run()


def start_background_jobs(app: Flask) -> None:
    """Start the sync scheduler (unlinked, each tick only notes that there is no hub yet) and,
    with a backup folder set, the daily backup on the same scheduler."""
    runner = start_scheduler(app, station_hooks(app))
    if app.config.get("BACKUP_DIR") or _backup_folder_set(app):
        runner.scheduler.add_job(scheduled_backup, "cron", args=[app], hour=int(app.config["BACKUP_HOUR"]),
                                 id="daily-backup", max_instances=1, coalesce=True, misfire_grace_time=6 * 3600)


def _backup_folder_set(app: Flask) -> bool:
    with app.app_context(), db.connection_context():
        return bool(backup_folder())
