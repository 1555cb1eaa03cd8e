"""County hubs for the benchmarks: `python -m sync.hub run` (waitress) in child processes.

A hub in its own process, as in a county server room: the station's client and the hub do not
share one interpreter lock, and several processes on one database are the hub's "stateless
workers" (sync/hub/__init__.py).
"""

from __future__ import annotations

import importlib
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, free_port, spawn, stop, wait_for_port
from sync.hub import create_app
from sync.hub.config import Config
from sync.hub.extensions import db
from sync.hub.models import CaseTally, Event
from sync.hub.services import stations, tally


def _config(database_url: str | None, **overrides: Any) -> type[Config]:
    """The hub's field defaults on `database_url` (None: SQLite in the instance folder)."""
    return Config.with_overrides(DATABASE_URL=database_url, READ_INSTANCE_CONFIG=False, **overrides)


def register(instance: Path, codes: list[str], database_url: str | None = None) -> dict[str, str]:
    """Create (and migrate) the hub database, register stations; return code → secret."""
    app = create_app(_config(database_url), instance)
    secrets: dict[str, str] = {}
    with app.app_context(), db.connection_context():
        for code in codes:
            _station, secrets[code] = stations.create_station(code, f"{code} 便民服务站")
    app.extensions["hub_db"].close_all()  # the hub pools its connections
    return secrets


def count_events(instance: Path, database_url: str | None = None) -> list[tuple[str, str, int]]:
    """(event_id, case_id, seq) of every event the hub stored."""
    app = create_app(_config(database_url, AUTO_MIGRATE=False), instance)
    with app.app_context(), db.connection_context():
        rows = [(e.event_id, e.case_id, e.seq) for e in Event.select(Event.event_id, Event.case_id, Event.seq)]
    app.extensions["hub_db"].close_all()  # the hub pools its connections
    return rows


def fold_rollup(instance: Path, database_url: str) -> float:
    """Fold what the hubs left of the roll-up's changes; the CPU seconds it took (this process + its backend)."""
    app = create_app(_config(database_url, AUTO_MIGRATE=False), instance)
    with app.app_context(), db.connection_context():
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        before = time.process_time() + cpu_seconds(pid)
        tally.fold()
        spent = time.process_time() + cpu_seconds(pid) - before
    app.extensions["hub_db"].close_all()
    return spent


def rollup_matches_backfill(instance: Path, database_url: str | None = None) -> bool:
    """Whether the statistics roll-up the hub kept under load equals migration 0017's count afresh."""
    app = create_app(_config(database_url, AUTO_MIGRATE=False), instance)

    def rows() -> set[tuple]:
        return {(t.station_id, str(t.day)[:10], t.figure, t.label, t.n) for t in CaseTally.select() if t.n}

    with app.app_context(), db.connection_context():
        tally.fold()
        kept = rows()
        importlib.import_module("sync.hub.migrations.0017_case_tally").backfill(db)
        counted = rows()
    app.extensions["hub_db"].close_all()
    return bool(kept) and kept == counted


@dataclass
class HubProcesses:
    procs: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]


@contextmanager
def hub_processes(instance: Path, workers: int = 1, threads: int = 8, database_url: str | None = None,
                  log: Path | None = None) -> Iterator[HubProcesses]:
    """Start `workers` hub processes on one database (each on its own port); stop them after.

    The hub must exist (`register` creates it): `run` refuses a folder without one.
    """
    env = {"HUB_INSTANCE_PATH": str(instance), "HUB_NODE_PROCESSES": str(workers)}  # the gates share the cores
    if database_url:
        env["DATABASE_URL"] = database_url
    hubs = HubProcesses()
    try:
        for _ in range(workers):
            port = free_port()
            hubs.procs.append(spawn(["-m", "sync.hub", "run", "--port", str(port), "--threads", str(threads)],
                                    env=env, log_path=log))
            hubs.ports.append(port)
        for proc, port in zip(hubs.procs, hubs.ports, strict=True):
            wait_for_port(port, 30, proc)
        yield hubs
    finally:
        for proc in hubs.procs:
            stop(proc)
