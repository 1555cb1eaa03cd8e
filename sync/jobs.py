"""Background sync: APScheduler runs a round on an interval; "sync now" runs one at once.

Nothing in a web request waits on the network: the view only calls `trigger()`. While the
county is unreachable the interval stretches with exponential backoff and jitter, so a village
PC never spins in a tight loop against a dead link.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from typing import Any

from flask import Flask

from station.extensions import db
from station.models import Setting
from sync.client import HubClient, HubLink, Syncer, SyncSummary
from sync.status import KEY_INTERVAL, KEY_LINK_STATE, KEY_PROGRESS

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


def _record_progress(progress: dict[str, Any]) -> None:
    Setting.set_value(KEY_PROGRESS, json.dumps(progress, ensure_ascii=False))


def sync_round(app: Flask) -> SyncSummary | None:
    """Run one push + pull with the station's stored link; None when the station is not linked."""
    with app.app_context(), db.connection_context():
        link = HubLink.from_settings()
        if link is None:
            Setting.set_value(KEY_LINK_STATE, "unlinked")
            return None
        syncer = Syncer(HubClient(link), app.config["ATTACHMENT_DIR"], progress=_record_progress)
        return syncer.run()


class SyncRunner:
    """Owns the scheduler; at most one round runs at a time."""

    def __init__(self, app: Flask) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.app = app
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
            raw = Setting.get_value(KEY_INTERVAL, str(DEFAULT_INTERVAL_S))
        try:
            return max(5.0, float(raw))
        except ValueError:
            return float(DEFAULT_INTERVAL_S)

    def trigger(self) -> None:
        """Ask for a round as soon as possible (the clerk pressed 同步)."""
        self.forced.set()
        self.scheduler.add_job(self.tick, id="sync-now", replace_existing=True, max_instances=1)

    def tick(self) -> None:
        now = time.time()
        forced = self.forced.is_set()
        due = now - self.last_run >= self.interval() and now >= self.next_allowed
        if not (forced or due):
            return
        if not self.lock.acquire(blocking=False):
            return
        try:
            self.forced.clear()
            self.last_run = now
            summary = sync_round(self.app)
            if summary is not None and summary.error:
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


def start_scheduler(app: Flask) -> SyncRunner:
    runner = SyncRunner(app)
    app.extensions["sync_runner"] = runner
    runner.start()
    return runner

