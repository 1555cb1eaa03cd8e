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

The cases the lost PC took after the backup exist only at the hub: the catch-up fetches their
events (``GET /api/v1/station/cases/<id>/events``), the station rebuilds each
(``StationHooks.rebuild_case``) and the events go into the outbox as acknowledged — never sent
again, and the next event of the case takes the next seq. A case the backup held but the lost PC
went on writing to (a note, a material brought, a status) is fetched the same way and its later
events are replayed onto it (``StationHooks.continue_case``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from peewee import fn

from sync import state
from sync.errors import BatchRefused
from sync.hooks import StationHooks
from sync.local_db import db, now
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
    lost, later = _fetch_from_hub(client, hooks, cases)
    with db.atomic("IMMEDIATE"):
        rebuilt = sum(_rebuild(case_id, events, hooks) for case_id, events in lost.items())
        continued = sum(_continue(case_id, events, hooks) for case_id, events in later.items())
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
    log.info("after the restore: %d cases continue after the hub's seq, %d days' case numbers checked, "
             "%d cases taken after the backup rebuilt from the hub's copy, %d brought up to the hub's copy",
             raised, len(numbers), rebuilt, continued)
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


def _fetch_from_hub(client: HubClient, hooks: StationHooks, cases: dict[Any, Any]
                    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """What the lost PC wrote after the backup, from the hub's copy (asked before the write lock).

    Returns the events of each case this database has never seen, and of each case it has, the
    events after its own last ``seq``.
    """
    local_last = dict(OutboxEvent.select(OutboxEvent.case_id, fn.MAX(OutboxEvent.seq))
                      .group_by(OutboxEvent.case_id).tuples())
    lost: dict[str, list[dict[str, Any]]] = {}
    later: dict[str, list[dict[str, Any]]] = {}
    for case_id, hub_last in cases.items():
        if not isinstance(case_id, str) or not case_id.isalnum() or len(case_id) > 40:
            continue
        mine = local_last.get(case_id)
        hook = hooks.rebuild_case if mine is None else hooks.continue_case
        if hook is None or (mine is not None and not (isinstance(hub_last, int) and hub_last > mine)):
            continue
        status, answer = client.call("GET", f"/api/v1/station/cases/{case_id}/events")
        if status == 404:  # a hub from before this request: what the lost PC wrote stays at the county only
            log.warning("the hub does not give back case %s; it stays at the county only", case_id)
            continue
        refuse_unless_ok(status, answer, "恢复后的办件查询")
        events = answer.get("events")
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise BatchRefused("县级平台对恢复后办件查询的应答不完整，请稍后再同步。")
        events = [e for e in events if e.get("case_id") == case_id]
        if mine is None:
            lost[case_id] = events
        else:
            later[case_id] = [e for e in events if isinstance(e.get("seq"), int) and e["seq"] > mine]
    return lost, later


def _rebuild(case_id: str, events: list[dict[str, Any]], hooks: StationHooks) -> bool:
    """Rebuild one case at the station and keep its events as already acknowledged by the hub."""
    if not events or hooks.rebuild_case is None or not hooks.rebuild_case(case_id, events):
        return False
    _record_acknowledged(case_id, events)
    return True


def _continue(case_id: str, events: list[dict[str, Any]], hooks: StationHooks) -> bool:
    """Replay onto a case the backup held what the lost PC wrote after it; keep those events as acknowledged."""
    if not events or hooks.continue_case is None or not hooks.continue_case(case_id, events):
        return False
    _record_acknowledged(case_id, events)
    return True


def _record_acknowledged(case_id: str, events: list[dict[str, Any]]) -> None:
    """The hub's copies in the outbox as sent and accepted: never sent again, the next event takes the next seq."""
    stamp = now()
    for event in events:
        deadline = event.get("deadline")
        OutboxEvent.insert(
            event_id=str(event["event_id"]), case_id=case_id, seq=int(event["seq"]), kind=str(event["kind"]),
            payload=event.get("payload") or {}, occurred_at=str(event.get("occurred_at") or ""),
            catalog_version=str(event.get("catalog_version") or ""),
            deadline=dt.date.fromisoformat(deadline) if isinstance(deadline, str) and deadline else None,
            state="acked", result="accepted", acked_at=stamp, last_attempt_at=stamp,
        ).on_conflict_ignore().execute()
