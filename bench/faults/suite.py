"""The fault kinds and one run of each: fresh station + hub, random intakes, one fault, drain, count."""

from __future__ import annotations

import io
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from bench.faults.processes import Child, ProcessHub
from demo.loopback import ServedHub, local_postgres_dsn, start_hub, throwaway_schema
from station import create_app
from station.extensions import db
from sync import pull, push
from sync.transport import HubLink
from tests.fixtures.config import hub_test_config, station_test_config
from tests.fixtures.e2e import STATION_CODE, hub_events, link, queue_cases, station_events, sync
from tests.fixtures.station import make_station_app

ROOT = Path(__file__).resolve().parents[2]
MAX_CLEAN_ROUNDS = 6  # after the fault, rounds without it until the queue drains; more means "stuck"
API = "/api/v1/"
PULL_PAGE_SIZE = pull.PAGE_SIZE


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
    hub_port: int = 0
    database_url: str = ""  # the hub's PostgreSQL schema, or "" for SQLite in the hub folder
    page_size: int = 0  # the pull's page size when the run drew one (pull kinds)


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
    from sync.file_upload import CHUNK_BYTES

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


# --- real processes killed with kill -9 (bench/faults/processes.py) -------------------------------

def _process_hub(run: Run, kill: tuple[str, int, str]) -> None:
    """Serve the run's hub from a child process on the same database and port, to be killed at `kill`."""
    port = run.hub_port
    run.hub.stop()
    close_hub(run.hub)
    run.hub = ProcessHub(run.hub.app, run.folder / "hub", port, run.database_url, kill)


def _hub_killed(run: Run, path: str, nth: int, stages: list[str]) -> None:
    stage = run.rng.choice(stages)
    _process_hub(run, (path, nth, stage))
    sync(run.app, timeout=(2.0, 20.0))  # the round dies with the hub
    run.chaos.fired += run.hub.killed
    run.hub.stop()  # reaped (killed already, or never reached its point)
    close_hub(run.hub)
    # the operator starts it again on the same database and port (in this process: a child's start
    # costs seconds of imports, and the restart is the same code either way); the run drains against it
    run.hub = start_hub(run.folder / "hub", port=run.hub_port, config_class=run.hub_config)


def hub_killed_push(run: Run) -> None:
    """The hub, a separate process, gets kill -9 at a random batch of a push: on the request's arrival,
    with the batch's events written but not committed, or committed with the answer unsent."""
    _hub_killed(run, "/api/v1/events", run.rng.randint(1, expected_batches(run.cases)),
                ["arrival", "in_transaction", "after_commit"])


def hub_killed_pull(run: Run) -> None:
    """The hub, a separate process, gets kill -9 at a random page of a pull: on arrival, with the
    page computed and unsent, or after the first bytes of the answer."""
    pages = _county_decides(run)
    _hub_killed(run, "/api/v1/changes", run.rng.randint(1, pages), ["arrival", "after_commit", "mid_reply"])


def station_killed_pull(run: Run) -> None:
    """A real station sync process gets kill -9 in its pull: half-way through applying a page of county
    changes (not committed), or after a page committed; restarted, the pull resumes and applies each once."""
    _county_decides(run)
    total = _changes_for(run)
    env = {"STATION_DATABASE": run.app.config["DATABASE"], "STATION_ATTACHMENT_DIR": run.app.config["ATTACHMENT_DIR"],
           "STATION_SECRET_KEY": "x"}
    if run.app.config.get("KEY_FILE"):
        env["STATION_KEY_FILE"] = run.app.config["KEY_FILE"]
    child = Child(["station-pull", "--page-size", str(run.page_size),
                   "--kill-at", str(run.rng.randint(1, max(1, total))),
                   "--stage", run.rng.choice(["mid_page", "after_page"])], env)
    child.proc.wait(timeout=180)
    if child.proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError("".join(child.stderr)[-2000:])
    run.chaos.fired += child.killed.is_set()


def _county_decides(run: Run) -> int:
    """Send the queue, then let the county decide a random share of the cases (受理, some 办结 too).

    Returns how many pages the station's pull will read (its page size is drawn small for the run).
    """
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubCase
    from sync.hub.services.decisions import ACCEPT, COMPLETE, DecisionInput, allowed_decisions, decide
    from sync.protocol import RESULT_APPROVED

    sync(run.app)
    with run.hub.app.app_context(), hub_db.connection_context():
        case_ids = [c for (c,) in HubCase.select(HubCase.case_id).order_by(HubCase.id).tuples()]
        for case_id in run.rng.sample(case_ids, run.rng.randint(1, len(case_ids))):
            for kind in (ACCEPT, COMPLETE) if run.rng.random() < 0.4 else (ACCEPT,):
                if kind in allowed_decisions(HubCase.get(HubCase.case_id == case_id).status):
                    decide(case_id, DecisionInput(kind=kind, result=RESULT_APPROVED), clerk="县级审批员")
    run.page_size = run.rng.randint(5, 40)
    pull.PAGE_SIZE = run.page_size  # several pages, in this process too (restored after the run)
    return max(1, -(-_changes_for(run) // run.page_size))


def _changes_for(run: Run) -> int:
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Change, Station

    with run.hub.app.app_context(), hub_db.connection_context():
        station = Station.get(Station.code == STATION_CODE)
        return Change.select().where(Change.station == station).count()


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
    "hub_killed_push": hub_killed_push,
    "hub_killed_pull": hub_killed_pull,
    "station_killed_pull": station_killed_pull,
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
    changes, applied = county_changes(app, hub)
    return {
        "events": len(at_station),
        "changes": sum(len(kinds) for kinds in changes.values()),
        "changes_lost": sum(max(0, len(kinds) - len(applied.get(c, []))) for c, kinds in changes.items()),
        "changes_twice": sum(max(0, len(kinds) - len(changes.get(c, []))) for c, kinds in applied.items()),
        "lost": len(station_ids - set(hub_ids)) + gaps,
        "duplicated": len(hub_ids) - len(set(hub_ids)),
        "unknown_at_hub": len(set(hub_ids) - station_ids),
        "stuck": sum(1 for *_r, s in at_station if s == "queued"),
        "set_aside": sum(1 for *_r, s in at_station if s == "set_aside"),
    }


def county_changes(app: Flask, hub: Any) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per case, the county decisions the hub sent down and those the station's timeline shows applied."""
    from station.models import TimelineEntry
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Change
    from sync.protocol import CHANGE_CASE_STATUS

    sent: dict[str, list[str]] = {}
    with hub.app.app_context(), hub_db.connection_context():
        for case_id, payload in Change.select(Change.case_id, Change.payload).where(
                Change.kind == CHANGE_CASE_STATUS).order_by(Change.id).tuples():
            sent.setdefault(case_id, []).append(str(payload.get("status")))
    applied: dict[str, list[str]] = {}
    with app.app_context(), db.connection_context():
        for case_id, action in TimelineEntry.select(TimelineEntry.case, TimelineEntry.action).where(
                TimelineEntry.action.startswith("county_")).order_by(TimelineEntry.id).tuples():
            applied.setdefault(case_id, []).append(action.removeprefix("county_"))
    return sent, applied


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
            run = Run(folder, app, hub, chaos, rng, hub_config=hub_config, hub_port=hub.server.port,
                      database_url=getattr(hub_config, "DATABASE_URL", None) or "")
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
        pull.PAGE_SIZE = PULL_PAGE_SIZE
        if not db.is_closed():
            db.close()
    counts.update(kind=kind, seed=seed, rounds=rounds, fired=fired,
                  seconds=round(time.perf_counter() - started, 3))
    return counts


FIGURES = ("events", "lost", "duplicated", "unknown_at_hub", "stuck", "set_aside", "changes", "changes_lost",
           "changes_twice")


def bad(figures: dict[str, Any]) -> bool:
    """Anything lost, twice, stuck or unknown: events or county changes."""
    return any(figures.get(name) for name in ("lost", "duplicated", "stuck", "unknown_at_hub", "changes_lost",
                                              "changes_twice"))


def run_kind(kind: str, runs: int, seed: int, template: Path, work: Path,
             postgres: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One kind `runs` times (seeds ``seed * 100000 + n``): its row of the report and its failing runs."""
    logging.disable(logging.CRITICAL)  # the faults are meant to produce errors (again: a worker process)
    row: dict[str, Any] = {"runs": 0, "fired": 0, "errors": 0, **dict.fromkeys(FIGURES, 0), "seconds": 0.0}
    failures: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n in range(runs):
        run_seed = seed * 100_000 + n
        folder = work / f"{kind}-{n}"
        try:
            result = one_run(kind, run_seed, template, folder, postgres)
        except Exception:  # noqa: BLE001 - a run that breaks is a finding, not the end of the suite
            row["errors"] += 1
            failures.append({"kind": kind, "seed": run_seed, "error": traceback.format_exc()[-1500:]})
            continue
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        row["runs"] += 1
        row["fired"] += bool(result["fired"])
        for name in FIGURES:
            row[name] += result[name]
        if bad(result):
            failures.append(result)
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row, failures


def postgres_dsn() -> str:
    dsn = local_postgres_dsn()
    if dsn is None:
        raise SystemExit("PostgreSQL 不可达（127.0.0.1:5432）")
    return dsn
