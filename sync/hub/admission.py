"""Admission control: a hub process takes on only the batches it can answer in time.

When every station of a county comes back at once after an outage, a hub that lets all of them
in answers none of them in time: 200 batches on two cores wait behind each other and each waits
seconds (Little's law), long enough for stations to time out and send the same batch again. A
hub that admits a few at a time and tells the rest "come back in N seconds" (503 with
``Retry-After``) answers the admitted ones fast, and the others return spread out by their own
jitter (sync/jobs.py). Nothing is lost: a 503 acknowledges nothing, and the batch is sent again.

The gate is per process on purpose. It guards this process's own cores and connections; a
second node has its own cores and its own gate. Nothing the protocol promises (replay refusal,
rate limits, the changes feed) lives here — those are in the shared database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Set on a view function that only runs with a slot (views/api.py ``admitted``); the WSGI gate
#: in front of Flask (admission_gate.py) reads it to know which routes it guards.
GATED = "admission_gated"


def default_slots(node_processes: int, cores: int | None = None) -> int:
    """Slots for one process of ``node_processes`` on this machine: twice its share of the cores, at least 1.

    Measured with the province burst (200 stations at once, 2 cores): four processes of 4 slots
    each let 16 batches run on 2 cores and answered at p95 0.76–1.07 s; 2 slots each, 0.52–0.72 s;
    1 slot each (2 per core in all), 0.41–0.48 s, every station drained as fast. One process of 4
    slots on 2 cores is the old default, unchanged.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, 2 * cores // max(1, node_processes))


class HubBusy(Exception):
    """No slot came free in time: answer 503 and name when to come back."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"busy, retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Admission:
    """At most ``slots`` costly requests at once in this process; others wait up to ``wait_s``.

    A short wait (a fraction of the answer-time target) smooths small bursts without a 503;
    beyond it the request is turned away, before any database work. Only ``waiting`` requests
    (default twice the slots) may wait at once; the next is turned away without waiting. Without
    that bound, in a burst every server thread sat out the whole wait before its 503, so the
    server's threads answered refusals at a few per second while the rest of the burst queued
    unseen in front of them, and an admitted batch had waited there for seconds.
    ``slots`` <= 0 turns the gate off.
    """

    def __init__(self, slots: int, wait_s: float, retry_after_s: int, waiting: int | None = None) -> None:
        self.slots = slots
        self.wait_s = max(0.0, wait_s)
        self.retry_after_s = max(1, int(retry_after_s))
        self.waiting_room = max(0, 2 * slots if waiting is None else waiting)
        self._free = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._lock = threading.Lock()
        self._waiting = 0
        self.admitted = 0
        self.refused = 0

    def acquire(self) -> None:
        """Take a slot (waiting up to ``wait_s`` if there is room to wait), or raise :class:`HubBusy`.

        Every :meth:`acquire` that returns must be followed by one :meth:`release`.
        """
        if self._free is None:
            return
        if not self._free.acquire(blocking=False):
            with self._lock:
                room = self._waiting < self.waiting_room
                self._waiting += room
                self.refused += not room
            if not room:
                raise HubBusy(self.retry_after_s)
            try:
                got = self._free.acquire(timeout=self.wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
                    self.refused += not got
            if not got:
                raise HubBusy(self.retry_after_s)
        with self._lock:
            self.admitted += 1

    def release(self) -> None:
        """Give back the slot :meth:`acquire` took."""
        if self._free is not None:
            self._free.release()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the duration of the block, or raise :class:`HubBusy`."""
        self.acquire()
        try:
            yield
        finally:
            self.release()
