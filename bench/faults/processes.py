"""Real processes for the fault suite: a hub or a station sync in its own process, killed with SIGKILL.

The child runs until it reaches the point the run drew (a request's arrival, events written but
not committed, an answer computed but not sent, a page of county changes half applied …), says
``KILLPOINT`` on its stdout and waits; the suite's watcher thread then sends it ``kill -9`` from
outside, as an operator's ``kill -9`` or a power cut would end it: no ``finally``, no
``atexit``, an open transaction left to the database to roll back.

``python -m bench.faults.processes hub …`` serves a hub on an instance folder and a port;
``python -m bench.faults.processes station-pull …`` runs one station sync round.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KILLPOINT = "KILLPOINT"
READY = "READY"


def _at_kill_point() -> None:
    """Tell the watcher and wait to be killed (never returns while a watcher is there)."""
    sys.stdout.write(KILLPOINT + "\n")
    sys.stdout.flush()
    time.sleep(120)
    os._exit(3)  # no watcher came: a run that cannot kill its child must not hang for ever


# --- the hub process -------------------------------------------------------------------------------

class KillSwitch:
    """WSGI middleware in the hub process: at the n-th request under ``path``, wait to be killed at ``stage``.

    Stages: ``arrival`` (nothing read), ``in_transaction`` (the batch's events inserted, not yet
    committed), ``after_commit`` (the answer is ready, not a byte sent), ``mid_reply`` (the first
    bytes of the answer sent).
    """

    def __init__(self, app: Any, path: str, nth: int, stage: str) -> None:
        self.app, self.path, self.nth, self.stage = app, path, nth, stage
        self.seen = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any):  # noqa: ANN204
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.app(environ, start_response)
        with self.lock:
            self.seen += 1
            mine = self.seen == self.nth
        if not mine:
            return self.app(environ, start_response)
        if self.stage == "arrival":
            _at_kill_point()
        if self.stage == "in_transaction":
            _arm_in_transaction()
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}
        body = b"".join(self.app(environ, lambda status, headers, *_: captured.update(status=status, headers=headers)))
        if self.stage == "after_commit":
            _at_kill_point()
        start_response(captured["status"], captured["headers"])

        def trickle():  # noqa: ANN202
            yield body[: max(1, len(body) // 3)]
            _at_kill_point()
        return trickle()


def _arm_in_transaction() -> None:
    """The next batch's insert of events waits to be killed after writing, before its commit."""
    from sync.hub.models import Event
    from sync.hub.services import ingest

    original = ingest.prepared_insert

    def prepared(model: Any, rows: Any) -> Any:
        insert = original(model, rows)
        if model is not Event:
            return insert

        def insert_then_die() -> Any:
            insert()
            _at_kill_point()
        ingest.prepared_insert = original
        return insert_then_die

    ingest.prepared_insert = prepared


def serve_hub(instance: str, port: int, database_url: str, kill: list[str] | None) -> None:
    """Serve the hub on 127.0.0.1:port (the test configuration, as the suite's in-process hubs)."""
    import logging

    from werkzeug.serving import make_server

    from sync.hub import create_app
    from sync.hub.config import TestConfig  # what tests.fixtures.config.hub_test_config gives the other runs

    app: Any = create_app(TestConfig.with_overrides(**({"DATABASE_URL": database_url} if database_url else {})),
                          Path(instance))
    if kill:
        path, nth, stage = kill
        app = KillSwitch(app, path, int(nth), stage)
    logging.disable(logging.CRITICAL)  # the kill is meant; the parent reads only READY and KILLPOINT
    server = make_server("127.0.0.1", port, app, threaded=True)
    sys.stdout.write(READY + "\n")
    sys.stdout.flush()
    server.serve_forever()


# --- the station process ---------------------------------------------------------------------------

def station_pull(page_size: int, kill_at: int, stage: str) -> None:
    """One ``sync --once`` whose pull waits to be killed at the ``kill_at``-th county change.

    ``mid_page``: the changes before it in its page are applied, the page's transaction (and the
    cursor with it) not committed. ``after_page``: its page is committed, the next not asked for.
    """
    from sync import pull

    pull.PAGE_SIZE = page_size
    applied = {"n": 0, "page_done": False}
    original_apply = pull.apply_change  # what every page (network or USB return bundle) applies through
    original_init = pull.Puller.__init__

    def apply(hooks: Any, change: dict[str, Any]) -> None:
        applied["n"] += 1
        if applied["n"] == kill_at and stage == "mid_page":
            _at_kill_point()
        original_apply(hooks, change)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        report = self.progress

        def progress(message: dict[str, Any]) -> None:
            report(message)
            if message.get("stage") == "pull" and stage == "after_page" and applied["n"] >= kill_at:
                _at_kill_point()
        self.progress = progress

    pull.apply_change = apply
    pull.Puller.__init__ = init
    from station.cli import cli

    cli(["sync", "--once"])


# --- the parent's side -----------------------------------------------------------------------------

class Child:
    """A child process the suite kills with SIGKILL when it reports its kill point."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, *, wait_ready: bool = False) -> None:
        self.killed = threading.Event()
        self.ready = threading.Event()
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.faults.processes", *args], cwd=ROOT,
                                     env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []
        threading.Thread(target=self._watch, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()  # type: ignore[arg-type]
        if wait_ready and not self.ready.wait(90):
            self.stop()
            raise RuntimeError("child did not start: " + "".join(self.stderr)[-2000:])

    def _watch(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if line.strip() == READY:
                self.ready.set()
            elif line.strip() == KILLPOINT:
                os.kill(self.proc.pid, signal.SIGKILL)  # kill -9, from outside
                self.killed.set()

    def stop(self) -> None:
        """Kill the child if it still runs and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


class ProcessHub:
    """A hub served by a child process on a fixed port; ``app`` is an in-process handle on the same database."""

    def __init__(self, app: Any, instance: Path, port: int, database_url: str,
                 kill: tuple[str, int, str]) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        args = ["hub", "--instance", str(instance), "--port", str(port), "--database-url", database_url,
                "--kill", kill[0], str(kill[1]), kill[2]]
        self.child = Child(args, wait_ready=True)

    @property
    def killed(self) -> bool:
        return self.child.killed.is_set()

    def stop(self) -> None:
        self.child.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults.processes")
    sub = parser.add_subparsers(dest="what", required=True)
    hub = sub.add_parser("hub")
    hub.add_argument("--instance", required=True)
    hub.add_argument("--port", type=int, required=True)
    hub.add_argument("--database-url", default="")
    hub.add_argument("--kill", nargs=3)
    station = sub.add_parser("station-pull")
    station.add_argument("--page-size", type=int, required=True)
    station.add_argument("--kill-at", type=int, required=True)
    station.add_argument("--stage", choices=["mid_page", "after_page"], required=True)
    args = parser.parse_args(argv)
    if args.what == "hub":
        serve_hub(args.instance, args.port, args.database_url, args.kill)
    else:
        station_pull(args.page_size, args.kill_at, args.stage)


if __name__ == "__main__":
    main()
