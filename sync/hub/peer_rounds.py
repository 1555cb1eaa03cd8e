"""Rounds with the peer hubs (跨域办) outside any request: on a schedule in ``run``, or at once when a
county admin presses 立即同步 — one round at a time per process, and the page never waits on a peer.
"""

from __future__ import annotations

import threading

from flask import Flask

from sync.hub.extensions import db
from sync.hub.models import Peer
from sync.hub.services import peers


class PeerRounds:
    """Runs rounds with the peers of one app; a round asked for while one runs is not started twice."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def run_once(self, area_code: str | None = None) -> list[peers.ForwardReport]:
        """One round with every active peer (or the one of ``area_code``), here and now."""
        with self._lock, self.app.app_context(), db.connection_context():
            chosen = Peer.select().where(Peer.active == True)  # noqa: E712
            if area_code:
                chosen = chosen.where(Peer.area_code == area_code)
            return [peers.sync_peer(peer) for peer in chosen]  # each failure is logged and kept on its peer

    def start_schedule(self) -> None:
        """Every PEER_SYNC_INTERVAL_S, a round with every peer (``run``, and the demo's county): no thread
        without a peer — ``add-peer`` then a restart starts the rounds."""
        from apscheduler.schedulers.background import BackgroundScheduler

        interval = float(self.app.config["PEER_SYNC_INTERVAL_S"])
        with self.app.app_context(), db.connection_context():
            linked = Peer.select().where(Peer.active == True).exists()  # noqa: E712
        if interval <= 0 or not linked:
            return
        scheduler = BackgroundScheduler(daemon=True)
        scheduler.add_job(self.run_once, "interval", seconds=interval, id="peer-rounds",
                          max_instances=1, coalesce=True)  # the same runner as the peers page's 立即同步
        scheduler.start()

    def trigger(self, area_code: str | None = None) -> bool:
        """Start a round in the background; False when one is running already (its result is coming)."""
        if self.running():
            return False
        self._thread = threading.Thread(target=self.run_once, args=(area_code,), name="peer-round", daemon=True)
        self._thread.start()
        return True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float) -> bool:
        """Wait for the round started by :meth:`trigger` (the CLI and tests); True when it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running()
