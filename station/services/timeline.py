"""The append-only case timeline: every state change of a case is written here by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from station.models import Case, TimelineEntry, User
from station.models.base import now

#: How soon after a record the same one again is taken for a second click (or a form sent twice by a
#: slow link), not for a new record: a person does not tell the same resident the same thing, or write
#: the same note, twice within it.
REPEAT_WINDOW = dt.timedelta(minutes=2)


def actor_of(user: User | None) -> str:
    """How a person appears on the timeline: name and username, or the system that acted."""
    if user is None:
        return "系统"
    return f"{user.name}（{user.username}）"


def record(case: Case, actor: str, action: str, message: str, data: dict[str, Any] | None = None) -> TimelineEntry:
    """Append one entry; never deleted (retention only takes the free text out of its line)."""
    return TimelineEntry.create(case=case, actor=actor, action=action, message=message, data=data or {})


def just_recorded(case: Case, actor: str, action: str, message: str) -> TimelineEntry | None:
    """The same entry (same person, action and words) written on this case within :data:`REPEAT_WINDOW`, if any.

    A second click on a form's button would otherwise write it, and send it to the county, twice.
    The messages are sealed, so the few recent ones are compared opened.
    """
    recent = (TimelineEntry.select().where((TimelineEntry.case == case) & (TimelineEntry.actor == actor)
                                           & (TimelineEntry.action == action)
                                           & (TimelineEntry.at >= now() - REPEAT_WINDOW))
              .order_by(TimelineEntry.id.desc()))
    return next((entry for entry in recent if entry.message == message), None)


def entries(case: Case) -> list[TimelineEntry]:
    return list(TimelineEntry.select().where(TimelineEntry.case == case).order_by(TimelineEntry.id))
