"""After a restore from a backup: learn from the hub what this station sent since, before anything new.

A backup is older than the hub's view of the station. Events in the backup are safe (the hub
de-duplicates by event id), but a case numbered or an event written after the backup and lost
with the broken PC is at the hub; a new one must not take its number or its ``seq``. So a
restored database carries ``restored_from`` (sync.state.RESTORED_FROM); the first sync round
asks the hub (``GET /api/v1/station/state``), raises the station's daily case-number sequences
(through the station's hook) and each case's seq floor, moves the access log past the hub's last
entry of this station (the hub keeps each ``(station, seq)`` once, so an entry numbered again
would be dropped as a repeat), and clears the mark in one transaction.
Until then the station takes no new case.
"""

from __future__ import annotations

import logging

from peewee import fn

from sync import state
from sync.errors import BatchRefused
from sync.hooks import StationHooks
from sync.local_db import db
from sync.outbox import OutboxEvent, seq_floor
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)


def restore_pending() -> bool:
    """Whether this database was restored from a backup and has not yet heard from the hub."""
    return bool(state.get_value(state.RESTORED_FROM))


def catch_up_after_restore(client: HubClient, hooks: StationHooks) -> bool:
    """Ask the hub what it holds of this station and move the counters past it; False if nothing was pending."""
    if not restore_pending():
        return False
    newest = OutboxEvent.select(fn.MAX(OutboxEvent.occurred_at)).scalar() or ""
    since = newest[:10] if len(newest) >= 10 else ""  # the backup was taken after its newest event
    status, answer = client.call("GET", "/api/v1/station/state" + (f"?since={since}" if since else ""))
    refuse_unless_ok(status, answer, "恢复后的状态查询")
    cases, numbers = answer.get("cases"), answer.get("case_numbers")
    if not isinstance(cases, dict) or not isinstance(numbers, dict):
        raise BatchRefused("县级平台对恢复后状态查询的应答不完整，请稍后再同步。")
    with db.atomic("IMMEDIATE"):
        raised = 0
        for case_id, hub_last in cases.items():
            if not isinstance(hub_last, int) or not isinstance(case_id, str) or len(case_id) > 60:
                continue
            local = OutboxEvent.select(fn.MAX(OutboxEvent.seq)).where(OutboxEvent.case_id == case_id).scalar() or 0
            if hub_last > max(local, seq_floor(case_id)):
                state.set_value(state.SEQ_FLOOR_PREFIX + case_id, str(hub_last))
                raised += 1
        if hooks.raise_case_numbers is not None:
            hooks.raise_case_numbers({str(day): int(last) for day, last in numbers.items()
                                      if isinstance(last, int) and str(day).isdigit() and len(str(day)) == 8})
        _continue_access_log(answer.get("access_log"), hooks)
        state.set_value(state.RESTORED_FROM, "")
    log.info("after the restore: %d cases continue after the hub's seq, %d days' case numbers checked",
             raised, len(numbers))
    return True


def _continue_access_log(hub_log: object, hooks: StationHooks) -> None:
    """Renumber the entries written since the restore after the hub's last; the cursor moves to it."""
    if not isinstance(hub_log, dict):  # a hub from before this answer: the entries wait as they are
        return
    seq, digest = hub_log.get("seq"), hub_log.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(digest, str) or len(digest) != 64:
        raise BatchRefused("县级平台对恢复后状态查询的应答不完整，请稍后再同步。")
    if hooks.continue_access_log is not None:
        hooks.continue_access_log(seq, digest)
    cursor = int(state.get_value(state.ACCESS_LOG_CURSOR, "0") or 0)
    if seq > cursor:  # the hub holds every entry up to its last (the lost PC sent them in order)
        state.set_value(state.ACCESS_LOG_CURSOR, str(seq))
