"""Background sync: APScheduler runs a round on an interval; "sync now" runs one at once.

Nothing in a web request waits on the network: the view only calls `trigger()`. While the
county is unreachable the interval stretches with exponential backoff and jitter, so a village
PC never spins in a tight loop against a dead link. The caller gives the Flask app (whose
context binds the database) and the station's hooks.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time

from flask import Flask

from sync import state
from sync.errors import LINK_UNLINKED
from sync.hooks import StationHooks
from sync.local_db import db
from sync.round import Syncer
from sync.summary import SyncSummary
from sync.transport import HubClient, HubLink

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60
BACKOFF_MAX_S = 30 * 60


def backoff_delay(failures: int, base: float, cap: float = BACKOFF_MAX_S, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: 0.5–1.5 × base·2^(failures-1), capped."""
    if failures <= 0:
        return base
    rng = rng or random.Random()
    delay = min(cap, base * (2 ** (failures - 1)))
    return max(1.0, delay * rng.uniform(0.5, 1.5))


def busy_delay(retry_after_s: float, rng: random.Random | None = None) -> float:
    """How long to wait after a 503: the hub's Retry-After stretched by 0–100 % jitter, never sooner."""
    rng = rng or random.Random()
    return retry_after_s * rng.uniform(1.0, 2.0)


def sync_round(app: Flask, hooks: StationHooks) -> SyncSummary | None:
    """Run one push + pull with the station's stored link; None when the station is not linked."""
    with app.app_context(), db.connection_context():
        link = HubLink.stored()
        if link is None:
            state.set_value(state.LINK_STATE, LINK_UNLINKED)
            return None
        return Syncer(HubClient(link), hooks, progress=state.record_progress).run()


class SyncRunner:
    """Owns the scheduler; at most one round runs at a time."""

    def __init__(self, app: Flask, hooks: StationHooks) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler  # only a served station needs it

        self.app = app
        self.hooks = hooks
        self.lock = threading.Lock()
        self.failures = 0
        self.next_allowed = 0.0
        self.scheduler = BackgroundScheduler(daemon=True)
        self.scheduler.add_job(self.tick, "interval", seconds=5, id="sync-tick", max_instances=1, coalesce=True)
        self.last_run = 0.0
        self.forced = threading.Event()

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def interval(self) -> float:
        with self.app.app_context(), db.connection_context():
            raw = state.interval_seconds() or str(DEFAULT_INTERVAL_S)
        try:
            return max(5.0, float(raw))
        except ValueError:
            return float(DEFAULT_INTERVAL_S)

    def trigger(self) -> None:
        """Ask for a round as soon as possible (the clerk pressed 同步)."""
        self.forced.set()
        self.scheduler.add_job(self.tick, id="sync-now", replace_existing=True, max_instances=1)

    def in_window(self) -> bool:
        """Whether background rounds may run now (the station's sync window; "sync now" always may)."""
        with self.app.app_context(), db.connection_context():
            window = state.get_value(state.WINDOW)
        return within_window(window, dt.datetime.now().time())

    def tick(self) -> None:
        now = time.time()
        forced = self.forced.is_set()
        due = now - self.last_run >= self.interval() and now >= self.next_allowed and self.in_window()
        if not (forced or due):
            return
        if not self.lock.acquire(blocking=False):
            return
        try:
            self.forced.clear()
            self.last_run = now
            summary = sync_round(self.app, self.hooks)
            if summary is not None and summary.retry_after_s:
                # the hub is busy, not broken: come back when it said, plus jitter so the stations it
                # turned away together spread out; the failure count (and its backoff) is left alone
                self.next_allowed = time.time() + busy_delay(summary.retry_after_s)
            elif summary is not None and summary.error:
                self.failures += 1
                self.next_allowed = time.time() + backoff_delay(self.failures, self.interval())
            else:
                self.failures = 0
                self.next_allowed = 0.0
        except Exception:  # noqa: BLE001 - a bug must not stop the scheduler; it is logged
            log.exception("sync round crashed")
            self.failures += 1
            self.next_allowed = time.time() + backoff_delay(self.failures, self.interval())
        finally:
            self.lock.release()


def within_window(window: str, now: dt.time) -> bool:
    """Whether ``now`` falls in a "HH:MM-HH:MM" window ("" is any time; a window may cross midnight).

    A station on a metered or shared line syncs in office hours only; an unreadable window
    never stops sync.
    """
    try:
        start, end = (int(part[:2]) * 60 + int(part[3:5]) for part in window.split("-"))
    except ValueError:
        return True
    minute = now.hour * 60 + now.minute
    return start <= minute < end if start < end else minute >= start or minute < end


def start_scheduler(app: Flask, hooks: StationHooks) -> SyncRunner:
    """Start the background rounds; "sync now" finds the runner in ``app.extensions``."""
    runner = SyncRunner(app, hooks)
    app.extensions["sync_runner"] = runner
    runner.start()
    return runner

