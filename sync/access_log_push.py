"""Sending the station's access log to the county, after the events push in every round.

The station hands its entries over through ``StationHooks.access_log_after``; the cursor (the
last seq the hub confirmed with a verified answer) lives in ``sync_state``. The hub keeps each
``(station, seq)`` once, so a lost answer only means the same entries are sent again.
"""

from __future__ import annotations

import logging

from sync import state
from sync.errors import LinkProblem
from sync.hooks import StationHooks
from sync.summary import SyncSummary
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)

PATH = "/api/v1/access-log"
PAGE_SIZE = 500


def cursor() -> int:
    """The last seq the county has confirmed."""
    return int(state.get_value(state.ACCESS_LOG_CURSOR, "0") or 0)


def push_access_log(client: HubClient, hooks: StationHooks, summary: SyncSummary) -> int:
    """Send every entry after the cursor, a page at a time; return how many the hub stored anew.

    A failure here does not end the round: the county's changes are still pulled, and the entries
    wait for the next round (a hub from before the access log answers 404; they wait for its upgrade).
    """
    try:
        return _push(client, hooks, summary)
    except LinkProblem as exc:
        log.warning("access log not sent this round: %s", exc.message)
        return 0


def _push(client: HubClient, hooks: StationHooks, summary: SyncSummary) -> int:
    if hooks.access_log_after is None:
        return 0
    stored = 0
    while True:
        after = cursor()
        entries = hooks.access_log_after(after, PAGE_SIZE)
        if not entries:
            return stored
        status, payload = client.post_json(PATH, {"entries": entries})
        if status == 404:
            log.warning("the hub does not take access logs yet; %d entries wait", len(entries))
            return stored
        refuse_unless_ok(status, payload, "访问日志")
        stored += int(payload.get("accepted") or 0)
        summary.access_log_sent += len(entries)
        state.set_value(state.ACCESS_LOG_CURSOR, str(max(int(e["seq"]) for e in entries)))
