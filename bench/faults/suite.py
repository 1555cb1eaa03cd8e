"""The fault kinds and one run of each: fresh station + hub, random intakes, one fault, drain, count."""

from __future__ import annotations

import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from demo.loopback import ServedHub, local_postgres_dsn, start_hub, throwaway_schema
from station import create_app
from station.extensions import db
from sync import push
from sync.transport import HubLink
from tests.fixtures.config import hub_test_config, station_test_config
from tests.fixtures.e2e import hub_events, link, queue_cases, station_events, sync
from tests.fixtures.station import make_station_app

ROOT = Path(__file__).resolve().parents[2]
MAX_CLEAN_ROUNDS = 6  # after the fault, rounds without it until the queue drains; more means "stuck"
API = "/api/v1/"


class Chaos:
    """WSGI middleware in front of a real hub: one fault at the n-th matching request, then nothing.

    ``action`` is one of ``500`` (answer 500 unprocessed), ``drop`` (the hub commits, the reply is
    lost), ``dup`` (the network delivers the request twice), ``slow`` (the hub answers after the
    station gave up, and commits), ``portal`` (a captive portal's 200 page), ``cut`` (an upload
    chunk refused: the link died), ``crash`` (the hub process dies, before or after committing),
    ``down`` (every call refused while ``armed``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.armed = False
        self.action = ""
        self.path = "/api/v1/events"  # prefix of the requests counted
        self.nth = 1
        self.seen = 0
        self.fired = 0
        self.delay_s = 0.0
        self.commit_first = True
        self.crashed = threading.Event()

    def _body(self, environ: dict) -> bytes:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def __call__(self, environ: dict, start_response: Any):  # noqa: ANN204
        path = environ.get("PATH_INFO", "")
        if not self.armed or not path.startswith(API) or path == "/api/v1/time":
            return self.app(environ, start_response)
        if self.action == "down":
            self.fired += 1
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        if not path.startswith(self.path):
            return self.app(environ, start_response)
        self.seen += 1
        if self.seen != self.nth:
            return self.app(environ, start_response)
        self.fired += 1
        body = self._body(environ)
        again = {**environ, "wsgi.input": io.BytesIO(body)}
        if self.action == "500":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        if self.action == "cut":
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"link cut"]
        if self.action == "portal":
            start_response("200 OK", [("Content-Type", "text/html")])
            return ["<html>请先登录 WiFi</html>".encode()]
        if self.action == "dup":
            b"".join(self.app(environ, lambda *a, **k: None))  # the original
            return self.app(again, start_response)  # then the copy; the station reads the copy's answer
        if self.action == "slow":
            time.sleep(self.delay_s)  # the station's read timeout runs out meanwhile
            return self.app(environ, start_response)
        if self.action in ("drop", "crash"):
            if self.action == "drop" or self.commit_first:
                b"".join(self.app(environ, lambda *a, **k: None))  # the hub commits
            if self.action == "crash":
                self.crashed.set()

            def broken():  # noqa: ANN202
                yield b'{"server_time":'
                raise ConnectionAbortedError("link dropped before the reply")

            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "5000")])
            return broken()
        raise ValueError(self.action)


@dataclass
class Run:
    """What one run leaves behind: the station app, the hub, the fault switch and the sync options."""

    folder: Path
    app: Flask
    hub: ServedHub
    chaos: Chaos
    rng: random.Random
    sync_kwargs: dict[str, Any] = field(default_factory=dict)
    hub_config: Any = None
    cases: int = 0  # cases queued and not yet sent: how many batches the faulted round holds


def expected_batches(cases: int) -> int:
    """Batches a clean round would send for `cases` single-event cases (100, then 200, 400, 500 …)."""
    size, left, n = push.Pusher.FIRST_BATCH, cases, 0
    while left > 0:
        left -= size
        n += 1
        size = min(500, size * 2)
    return max(1, n)


def restart_hub(run: Run) -> None:
    """Stop the served hub and start a new hub process-alike on the same database and port."""
    port = run.hub.server.port
    run.hub.stop()
    close_hub(run.hub)
    chaos = Chaos(None)
    chaos.fired = run.chaos.fired
    run.hub = start_hub(run.folder / "hub", port=port, config_class=run.hub_config,
                        wrap=lambda app: _bind(chaos, app))
    run.chaos = chaos


def _bind(chaos: Chaos, app: Any) -> Chaos:
    chaos.app = app
    return chaos


def close_hub(hub: ServedHub) -> None:
    database = hub.app.extensions["hub_db"]
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


# --- the kinds: each injects its fault into one round (or around it) ------------------------------

def _events_fault(action: str) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.chaos.action = action
        run.chaos.nth = run.rng.randint(1, expected_batches(run.cases))
        run.chaos.armed = True
        sync(run.app, **run.sync_kwargs)
        run.chaos.armed = False
    return inject


def hub_500(run: Run) -> None:
    """A 500 on a random call of the round (heartbeat, a batch, the pull)."""
    run.chaos.action, run.chaos.path = "500", API
    run.chaos.nth = run.rng.randint(1, expected_batches(run.cases) + 1)
    run.chaos.armed = True
    sync(run.app)
    run.chaos.armed = False


def slow_reply(run: Run) -> None:
    """The hub answers a batch after the station's read timeout (it still commits)."""
    run.chaos.action, run.chaos.delay_s = "slow", 1.0
    run.chaos.nth = run.rng.randint(1, expected_batches(run.cases))
    run.chaos.armed = True
    sync(run.app, timeout=(2.0, 0.5))
    run.chaos.armed = False
    time.sleep(run.chaos.delay_s)  # the hub finishes the late batch before the next round, or meanwhile


def hub_down(run: Run) -> None:
    """The county is unreachable for one or more rounds while intakes go on."""
    run.chaos.action, run.chaos.armed = "down", True
    for _ in range(run.rng.randint(1, 3)):
        sync(run.app)
        more = run.rng.randint(0, 20)
        queue_cases(run.app, more)
        run.cases += more
    run.chaos.armed = False


def upload_cut(run: Run) -> None:
    """The link dies after a random number of a scan's chunks."""
    from station.models import Case, User
    from station.services.attachments import add_attachment
    from sync.attachment_upload import CHUNK_BYTES

    chunks = run.rng.randint(1, 3)
    data = b"%PDF-1.4\n" + run.rng.randbytes(chunks * CHUNK_BYTES - 2000).replace(b"/", b"_")
    with run.app.app_context(), db.connection_context():
        case_id = station_events(run.app)[run.rng.randrange(run.cases)][1]
        add_attachment(Case.get_by_id(case_id), User.get(User.username == "agent"), "户口簿.pdf", data,
                       run.app.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
    run.chaos.action, run.chaos.path = "cut", "/api/v1/attachments/"
    run.chaos.nth = run.rng.randint(1, chunks)
    run.chaos.armed = True
    sync(run.app)
    run.chaos.armed = False


def hub_restarted(run: Run) -> None:
    """The hub process dies mid-batch (before or after committing) and is started again on the same database."""
    run.chaos.action = "crash"
    run.chaos.commit_first = run.rng.random() < 0.5
    run.chaos.nth = run.rng.randint(1, expected_batches(run.cases))
    run.chaos.armed = True
    sync(run.app)
    run.chaos.armed = False
    restart_hub(run)


def _clock(run: Run, jump_s: float, after_calls: int) -> Callable[[], float]:
    calls = {"n": 0}

    def clock() -> float:
        calls["n"] += 1
        if calls["n"] == after_calls + 1:
            run.chaos.fired += 1
        return time.time() + (jump_s if calls["n"] > after_calls else 0)
    return clock


def clock_forward(run: Run) -> None:
    """The station PC's clock jumps forwards (hours to weeks) in the middle of a round, and stays wrong."""
    run.sync_kwargs["clock"] = _clock(run, run.rng.uniform(3600, 30 * 86400), run.rng.randint(0, 6))
    sync(run.app, **run.sync_kwargs)


def clock_backward(run: Run) -> None:
    """The clock jumps backwards (a stale CMOS battery, a wrong manual setting) mid-round, and stays wrong."""
    run.sync_kwargs["clock"] = _clock(run, -run.rng.uniform(3600, 30 * 86400), run.rng.randint(0, 6))
    sync(run.app, **run.sync_kwargs)


def disk_full(run: Run) -> None:
    """A write to the outbox fails (`database or disk is full`) at a random point of the round."""
    original = push.update_outbox
    fail_at = run.rng.randint(1, expected_batches(run.cases))  # one outbox write per batch answered
    calls = {"n": 0}

    def full(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == fail_at:
            run.chaos.fired += 1
            raise sqlite3.OperationalError("database or disk is full")
        return original(*args, **kwargs)

    push.update_outbox = full
    try:
        sync(run.app)
    finally:
        push.update_outbox = original


CRASH_SCRIPT = """\
import os, sys
from sync import push
calls = {{"n": 0}}
original = push.Pusher._record_results
def crash(self, batch, results, summary):
    calls["n"] += 1
    if calls["n"] == {nth}:
        os._exit(9)  # power cut: the hub answered, nothing was recorded
    return original(self, batch, results, summary)
push.Pusher._record_results = crash
from station.cli import cli
cli(['sync', '--once'])
"""


def station_killed(run: Run) -> None:
    """The station process is killed (os._exit) between the hub's answer to a batch and recording the ack."""
    script = run.folder / "crash.py"
    script.write_text(CRASH_SCRIPT.format(nth=run.rng.randint(1, expected_batches(run.cases))), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), STATION_DATABASE=run.app.config["DATABASE"],
               STATION_ATTACHMENT_DIR=run.app.config["ATTACHMENT_DIR"], STATION_SECRET_KEY="x")
    if run.app.config.get("KEY_FILE"):
        env["STATION_KEY_FILE"] = run.app.config["KEY_FILE"]
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, timeout=120)
    if result.returncode not in (0, 9):
        raise RuntimeError(result.stderr.decode()[-2000:])
    run.chaos.fired += result.returncode == 9


def upgrade_queued(run: Run) -> None:
    """Events queued on release 0004 (sync bookkeeping in `setting`), then the upgrade, then sync."""
    with run.app.app_context(), db.connection_context():
        stored = HubLink.stored()
        for key, value in {"sync.hub_url": stored.url, "sync.station_code": stored.station_code,
                           "sync.secret": stored.secret, "sync.link_state": run.rng.choice(["down", "ok"]),
                           "sync.interval_seconds": "90"}.items():
            db.execute_sql("INSERT INTO setting (key, value, updated_at) VALUES (?, ?, '2026-11-01 09:00:00')",
                           (key, value))
        db.execute_sql("DROP TABLE sync_state")
        db.execute_sql("DELETE FROM schema_migration WHERE name = '0005_sync_state'")
    db.close() if not db.is_closed() else None
    run.app = create_app(station_test_config(run.folder), instance_path=str(run.folder / "instance"))  # same key file
    run.chaos.fired += 1


KINDS: dict[str, Callable[[Run], None]] = {
    "hub_500": hub_500,
    "reply_lost": _events_fault("drop"),
    "request_duplicated": _events_fault("dup"),
    "captive_portal": _events_fault("portal"),
    "slow_reply_timeout": slow_reply,
    "hub_down": hub_down,
    "upload_cut": upload_cut,
    "station_killed": station_killed,
    "hub_restarted": hub_restarted,
    "clock_forward": clock_forward,
    "clock_backward": clock_backward,
    "disk_full": disk_full,
    "upgrade_queued": upgrade_queued,
}


# --- one run ---------------------------------------------------------------------------------------

def make_template(folder: Path) -> Path:
    """One initialised station database; every run starts from a copy."""
    make_station_app(folder)
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close() if not db.is_closed() else None
    return folder / "station.sqlite3"


@contextmanager
def served_hub(folder: Path, postgres: str | None) -> Iterator[tuple[ServedHub, Chaos, Any]]:
    with ExitStack() as stack:
        config: dict[str, Any] = {}
        if postgres:
            config["DATABASE_URL"] = stack.enter_context(throwaway_schema(postgres, "faults"))
        hub_config = hub_test_config(**config)
        chaos = Chaos(None)
        hub = start_hub(folder / "hub", config_class=hub_config, wrap=lambda app: _bind(chaos, app))
        try:
            yield hub, chaos, hub_config
        finally:
            hub.stop()
            close_hub(hub)


def tally(app: Flask, hub: ServedHub) -> dict[str, int]:
    """Lost, duplicated, stuck and set-aside events of one run, from both databases."""
    at_hub = hub_events(hub)
    at_station = station_events(app)
    hub_ids = [e[0] for e in at_hub]
    station_ids = {e[0] for e in at_station}
    per_case: dict[str, list[int]] = {}
    for _event_id, case_id, seq in at_hub:
        per_case.setdefault(case_id, []).append(seq)
    gaps = sum(1 for seqs in per_case.values() if sorted(seqs) != list(range(1, len(seqs) + 1)))
    return {
        "events": len(at_station),
        "lost": len(station_ids - set(hub_ids)) + gaps,
        "duplicated": len(hub_ids) - len(set(hub_ids)),
        "unknown_at_hub": len(set(hub_ids) - station_ids),
        "stuck": sum(1 for *_r, s in at_station if s == "queued"),
        "set_aside": sum(1 for *_r, s in at_station if s == "set_aside"),
    }


def one_run(kind: str, seed: int, template: Path, folder: Path, postgres: str | None = None) -> dict[str, Any]:
    """Fresh station + hub, random intakes, the fault at a seeded random point, drain, count."""
    rng = random.Random(f"{kind}:{seed}")
    folder.mkdir(parents=True)
    shutil.copyfile(template, folder / "station.sqlite3")
    app = create_app(station_test_config(folder), instance_path=str(folder / "instance"))
    started = time.perf_counter()
    try:
        with served_hub(folder, postgres) as (hub, chaos, hub_config):
            link(app, hub)
            run = Run(folder, app, hub, chaos, rng, hub_config=hub_config)
            if rng.random() < 0.3:  # sometimes part of the day already went out cleanly
                before = rng.randint(1, 30)
                queue_cases(app, before)
                sync(app)  # these went out: not counted in run.cases, which draws the faulted batch
            now = rng.randint(1, 120)  # one or two batches (the first holds 100)
            queue_cases(app, now)
            run.cases += now
            KINDS[kind](run)
            more = rng.randint(0, 20)  # intakes go on after the fault
            queue_cases(run.app, more)
            rounds = 0
            for rounds in range(1, MAX_CLEAN_ROUNDS + 1):  # noqa: B007
                summary = sync(run.app, **run.sync_kwargs)
                if not summary.error and summary.queue_left == 0:
                    break
            counts = tally(run.app, run.hub)
            fired = run.chaos.fired
            if run.hub is not hub:  # restarted: the new one is stopped here, the old one already was
                run.hub.stop()
                close_hub(run.hub)
    finally:
        if not db.is_closed():
            db.close()
    counts.update(kind=kind, seed=seed, rounds=rounds, fired=fired,
                  seconds=round(time.perf_counter() - started, 3))
    return counts


def postgres_dsn() -> str:
    dsn = local_postgres_dsn()
    if dsn is None:
        raise SystemExit("PostgreSQL 不可达（127.0.0.1:5432）")
    return dsn
