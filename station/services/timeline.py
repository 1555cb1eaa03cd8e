"""The append-only case timeline: every state change of a case is written here by the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rules.privacy import mask_numbers_in
from station.models import Case, TimelineEntry, User


def actor_of(user: User | None) -> str:
    """How a person appears on the timeline: name and username, or the system that acted."""
    if user is None:
        return "系统"
    return f"{user.name}（{user.username}）"


def record(case: Case, actor: str, action: str, message: str, data: dict[str, Any] | None = None) -> TimelineEntry:
    """Append one entry; never deleted (retention only takes the free text out of its line)."""
    return TimelineEntry.create(case=case, actor=actor, action=action, message=message, data=data or {})


@dataclass(frozen=True)
class ShownEntry:
    """One line of the case page's 办理过程."""

    at: dt.datetime
    actor: str
    message: str


def entries(case: Case) -> list[ShownEntry]:
    """The timeline as the case page shows it: a number a note carries is masked, as the county masks it.

    Full numbers are shown only through the page's reveal, which is logged; a phone typed into a
    note would otherwise bypass it.
    """
    rows = TimelineEntry.select().where(TimelineEntry.case == case).order_by(TimelineEntry.id)
    return [ShownEntry(e.at, e.actor, mask_numbers_in(e.message or "")) for e in rows]
