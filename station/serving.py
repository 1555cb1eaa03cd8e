"""Serving a station: waitress in front, the sync scheduler behind."""

from __future__ import annotations

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
from sync.ports import PortUnavailable


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
