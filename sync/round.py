"""One sync round: push the backlog (with its heartbeat), then pull the county's changes.

How the round ended is stored for the sync page: the link state names what went wrong, the
last error says it in Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sync import state
from sync.access_log_push import push_access_log
from sync.appointments_push import push_appointments
from sync.errors import LINK_UP, HubBusy, LinkProblem
from sync.hooks import StationHooks
from sync.hub_restore import resend_what_the_hub_lost
from sync.local_db import now
from sync.pull import Puller
from sync.push import Pusher
from sync.relay import forward_waiting
from sync.restore import catch_up_after_restore
from sync.status import queue_summary
from sync.summary import SyncSummary
from sync.transfers_push import push_transfer_handovers
from sync.transport import HubClient

log = logging.getLogger(__name__)


class Syncer:
    """One sync round: heartbeat + push + pull, each step recorded for the sync page."""

    def __init__(self, client: HubClient, hooks: StationHooks, *, max_events: int = 500,
                 max_bytes: int = 1024 * 1024, in_flight: int = 3,
                 progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.client = client
        self.progress = progress or (lambda _p: None)
        self.pusher = Pusher(client, hooks, max_events=max_events, max_bytes=max_bytes, in_flight=in_flight,
                             progress=self.progress)
        self.puller = Puller(client, hooks, progress=self.progress)
        self.hooks = hooks

    @property
    def in_flight(self) -> int:
        return self.pusher.in_flight

    def push(self, summary: SyncSummary) -> None:
        self.pusher.push(summary)

    def pull(self, summary: SyncSummary) -> None:
        self.puller.pull(summary)

    def run(self) -> SyncSummary:
        summary = SyncSummary()
        try:
            catch_up_after_restore(self.client, self.hooks)  # a restored station first learns what it sent since
            self.push(summary)
            push_access_log(self.client, self.hooks, summary)  # who saw what reaches the county too
            push_appointments(self.client, self.hooks)  # the station's offer and its agents' bookings
            push_transfer_handovers(self.client, self.hooks, summary)  # other stations' batches received on paper
            forward_waiting(self.client, summary)  # a township carries its villages' USB bundles up
            self.pull(summary)
            if resend_what_the_hub_lost(self.client):  # the hub was restored from a backup: send again
                self.push(summary)
                push_access_log(self.client, self.hooks, summary)
        except LinkProblem as exc:
            summary.error = exc.message
            if isinstance(exc, HubBusy):
                summary.retry_after_s = exc.retry_after_s
            state.set_value(state.LINK_STATE, exc.link_state)
            _record_error(summary.error)
            log.warning("sync failed (%s): %s", exc.link_state, summary.error)
        except Exception:  # noqa: BLE001 - a bug must still end the round visibly
            log.exception("sync round failed")
            summary.error = "同步出错（程序错误，已记录日志，请联系技术支持）"
            _record_error(summary.error)
        else:
            state.set_value(state.LINK_STATE, LINK_UP)
            state.set_value(state.LAST_SUCCESS, now().isoformat(sep=" "))
        summary.queue_left = queue_summary()["queue_length"]
        self.progress({"running": False, "message": summary.final_message(), "sent": summary.pushed,
                       "total": summary.pushed})
        return summary


def _record_error(message: str) -> None:
    state.set_value(state.LAST_ERROR, message)
    state.set_value(state.LAST_ERROR_AT, now().isoformat(sep=" "))
