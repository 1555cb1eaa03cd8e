"""The append-only case timeline: every state change of a case is written here by the services."""

from __future__ import annotations

from typing import Any

from station.models import Case, TimelineEntry, User


def actor_of(user: User | None) -> str:
    """How a person appears on the timeline: name and username, or the system that acted."""
    if user is None:
        return "系统"
    return f"{user.name}（{user.username}）"


def record(case: Case, actor: str, action: str, message: str, data: dict[str, Any] | None = None) -> TimelineEntry:
    """Append one entry; never deleted (retention only takes the free text out of its line)."""
    return TimelineEntry.create(case=case, actor=actor, action=action, message=message, data=data or {})


def entries(case: Case) -> list[TimelineEntry]:
    return list(TimelineEntry.select().where(TimelineEntry.case == case).order_by(TimelineEntry.id))
