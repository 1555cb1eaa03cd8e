"""What the sync page and the heartbeat report about the queue (station side, database only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import fn

from rules.events import VISIT_KINDS
from sync import state
from sync.errors import LINK_UNKNOWN, RequeueRefused, link_state_label
from sync.local_db import db, now
from sync.outbox import OutboxEvent

MAX_PULL_PROBLEMS = 50


def queue_summary(now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue length, age of the oldest queued event and set-aside count, and how the last round ended."""
    now = now or dt.datetime.now()
    queued = OutboxEvent.select().where(OutboxEvent.state == "queued")
    oldest = queued.select(fn.MIN(OutboxEvent.created_at)).scalar()
    if isinstance(oldest, str):
        oldest = dt.datetime.fromisoformat(oldest)
    link_state = state.get_value(state.LINK_STATE, LINK_UNKNOWN)
    last_success = state.get_value(state.LAST_SUCCESS)
    last_error = state.get_value(state.LAST_ERROR)
    last_error_at = state.get_value(state.LAST_ERROR_AT)
    error_now = _error_is_current(last_error, last_error_at, last_success)
    return {
        "queue_length": queued.count(),
        # a home visit's events queue under the visit's id: a visit is not a case (上门服务记录, not 办件)
        "queued_cases": queued.select(fn.COUNT(OutboxEvent.case_id.distinct()))
        .where(OutboxEvent.kind.not_in(VISIT_KINDS)).scalar() or 0,
        "queued_visits": queued.select(fn.COUNT(OutboxEvent.case_id.distinct()))
        .where(OutboxEvent.kind.in_(VISIT_KINDS)).scalar() or 0,
        "oldest_queued_at": oldest,
        "oldest_queued_age_s": int((now - oldest).total_seconds()) if oldest else 0,
        "set_aside_count": OutboxEvent.select().where(OutboxEvent.state == "set_aside").count(),
        "acked_count": OutboxEvent.select().where(OutboxEvent.state == "acked").count(),
        "last_success": last_success,
        # only a failure newer than the last success is the link's state now; an older one is history
        "last_error": last_error if error_now else "",
        "last_error_at": last_error_at if error_now else "",
        "recovered_error_at": "" if error_now else last_error_at,
        "link_state": link_state,
        "link_state_label": link_state_label(link_state),
    }


def _error_is_current(error: str | None, error_at: str | None, success_at: str | None) -> bool:
    """Whether the last failure came after the last success (both are ISO times, so they compare as text)."""
    if not error:
        return False
    return not success_at or (error_at or "") >= success_at


def queued_by_case(limit: int | None = None) -> list[dict[str, Any]]:
    """Each case with events still to go to the county, oldest first: how many, which kinds, since when.

    Grouped in SQL without reading payloads (sealed, and a month offline is many of them); only
    ``limit`` cases come back when a page shows a few. The station joins these to its cases
    (number, item, masked applicant); sync itself knows only ids.
    """
    cursor = db.execute_sql(
        "SELECT case_id, COUNT(*), GROUP_CONCAT(DISTINCT kind), MIN(created_at), MIN(id) FROM outbox_event "
        "WHERE state = 'queued' GROUP BY case_id ORDER BY MIN(created_at), MIN(id)"
        + (" LIMIT ?" if limit is not None else ""), (limit,) if limit is not None else ())
    rows = []
    for case_id, count, kinds, oldest, _first in cursor.fetchall():
        if isinstance(oldest, str):
            oldest = dt.datetime.fromisoformat(oldest)
        rows.append({"case_id": case_id, "events": count, "kinds": sorted((kinds or "").split(",")), "oldest": oldest})
    return rows


def set_aside_case_ids() -> list[str]:
    """The cases held back by a set-aside event (ids only: no payload is read or opened)."""
    return [case_id for (case_id,) in db.execute_sql(
        "SELECT DISTINCT case_id FROM outbox_event WHERE state = 'set_aside' ORDER BY case_id").fetchall()]


def set_aside_events() -> list[OutboxEvent]:
    return list(OutboxEvent.select().where(OutboxEvent.state == "set_aside").order_by(OutboxEvent.id))


def requeue(event_id: str) -> OutboxEvent:
    """A person looked at a set-aside event and sends it again (the hub de-duplicates by id)."""
    with db.atomic("IMMEDIATE"):
        event = OutboxEvent.get_or_none(OutboxEvent.event_id == event_id)
        if event is None:
            raise RequeueRefused("没有找到这个同步事件。")
        if event.state != "set_aside":
            raise RequeueRefused("只有被搁置的事件才能重新发送。")
        if event.result == "conflict":
            # the county holds a different event under this id: sending it again only conflicts again
            raise RequeueRefused("该事件与县级平台已有记录内容冲突，原样重发会再次冲突；请联系县级平台在“冲突”页面核对处理。")
        event.state = "queued"
        event.result = ""
        event.result_code = ""
        event.save()
    return event


def settle_conflict(event_id: str, resolution: str, reason: str = "", at: dt.datetime | None = None
                    ) -> OutboxEvent | None:
    """The county resolved the conflict over this event: it is no longer this station's to send.

    Whatever the county chose — its copy, this station's, or a merge — the hub now holds what it
    decided, so the set-aside event counts as delivered (result ``resolved``) and the case's later
    events, held behind it, go out in the next push. ``reason`` (the decision and the county's note,
    as a person reads it) replaces the conflict's reason and ``acked_at`` says when it came: a record
    without a timeline of its own (a home visit) shows the decision from here. Call inside the pull's
    transaction.

    An event a restore took back from the county's copy is held as delivered (sync/restore.py records it
    accepted) though the county had it in conflict: the settlement, which the restored station's pull
    brings down again, is recorded on it all the same. One already settled is left as it is (the feed
    may repeat). ``at``: when the county decided (default: now).
    """
    event = OutboxEvent.get_or_none(OutboxEvent.event_id == event_id)
    if event is None or (event.state == "acked" and event.result == "resolved"):
        return event
    event.state = "acked"
    event.result = "resolved"
    event.result_code = resolution[:32]
    event.reason = reason or event.reason
    event.acked_at = at or now()
    event.save()
    return event


def record_pull_problem(change: dict[str, Any], message: str) -> None:
    """Keep a county change the station could not apply, newest first, for the sync page."""
    problems = pull_problems()
    problems.insert(0, {
        "change_id": change.get("change_id"), "kind": change.get("kind"), "case_id": change.get("case_id"),
        "message": message[:300], "at": now().isoformat(sep=" "),
    })
    state.set_value(state.PULL_PROBLEMS, json.dumps(problems[:MAX_PULL_PROBLEMS], ensure_ascii=False))


def pull_problems() -> list[dict[str, Any]]:
    raw = state.get_value(state.PULL_PROBLEMS)
    return json.loads(raw) if raw else []
