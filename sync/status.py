"""What the sync page and the heartbeat report about the queue (station side, database only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import fn

from station.extensions import db
from station.models import Setting
from station.models.base import now
from station.services.errors import DomainError
from sync.outbox import OutboxEvent

KEY_LAST_SUCCESS = "sync.last_success"
KEY_LAST_ERROR = "sync.last_error"
KEY_LAST_ERROR_AT = "sync.last_error_at"
KEY_LINK_STATE = "sync.link_state"  # up / down / unknown / unlinked
KEY_INTERVAL = "sync.interval_seconds"  # how often the background job syncs
KEY_PROGRESS = "sync.progress"  # JSON written by the running job
KEY_PULL_PROBLEMS = "sync.pull_problems"  # county changes the station could not apply (JSON list)
MAX_PULL_PROBLEMS = 50


def queue_summary(now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue length, age of the oldest queued event and set-aside count."""
    now = now or dt.datetime.now()
    queued = OutboxEvent.select().where(OutboxEvent.state == "queued")
    oldest = queued.select(fn.MIN(OutboxEvent.created_at)).scalar()
    if isinstance(oldest, str):
        oldest = dt.datetime.fromisoformat(oldest)
    return {
        "queue_length": queued.count(),
        "queued_cases": queued.select(fn.COUNT(OutboxEvent.case_id.distinct())).scalar() or 0,
        "oldest_queued_at": oldest,
        "oldest_queued_age_s": int((now - oldest).total_seconds()) if oldest else 0,
        "set_aside_count": OutboxEvent.select().where(OutboxEvent.state == "set_aside").count(),
        "acked_count": OutboxEvent.select().where(OutboxEvent.state == "acked").count(),
        "last_success": Setting.get_value(KEY_LAST_SUCCESS),
        "last_error": Setting.get_value(KEY_LAST_ERROR),
        "last_error_at": Setting.get_value(KEY_LAST_ERROR_AT),
        "link_state": Setting.get_value(KEY_LINK_STATE, "unknown"),
    }


def set_aside_events() -> list[OutboxEvent]:
    return list(OutboxEvent.select().where(OutboxEvent.state == "set_aside").order_by(OutboxEvent.id))


def requeue(event_id: str) -> OutboxEvent:
    """A person looked at a set-aside event and sends it again (the hub de-duplicates by id)."""
    with db.atomic("IMMEDIATE"):
        event = OutboxEvent.get_or_none(OutboxEvent.event_id == event_id)
        if event is None:
            raise DomainError("没有找到这个同步事件。")
        if event.state != "set_aside":
            raise DomainError("只有被搁置的事件才能重新发送。")
        if event.result == "conflict":
            # the county holds a different event under this id: sending it again only conflicts again
            raise DomainError("该事件与县级平台已有记录内容冲突，原样重发会再次冲突；请联系县级平台在“冲突”页面核对处理。")
        event.state = "queued"
        event.result = ""
        event.result_code = ""
        event.save()
    return event


def record_pull_problem(change: dict[str, Any], message: str) -> None:
    """Keep a county change the station could not apply, newest first, for the sync page."""
    problems = pull_problems()
    problems.insert(0, {
        "change_id": change.get("change_id"), "kind": change.get("kind"), "case_id": change.get("case_id"),
        "message": message[:300], "at": now().isoformat(sep=" "),
    })
    Setting.set_value(KEY_PULL_PROBLEMS, json.dumps(problems[:MAX_PULL_PROBLEMS], ensure_ascii=False))


def pull_problems() -> list[dict[str, Any]]:
    raw = Setting.get_value(KEY_PULL_PROBLEMS)
    return json.loads(raw) if raw else []
