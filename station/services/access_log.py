"""The station's access log: record an access in the caller's transaction, search it, verify it,
and hand entries to sync for the county.

The chain itself (canonical form, hashes, the walk) is ``websec.audit``, shared with the hub.
Detail text is Chinese and passes through ``mask_numbers_in`` so no full number lands in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from peewee import ModelSelect

from rules.privacy import mask_numbers_in
from station.models import AccessLog, AccessLogHead, User
from websec import audit

#: How many entries one sync request carries to the county.
SYNC_PAGE = 500


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def record(action: str, *, user: User | None = None, actor_name: str = "", address: str | None = "",
           case_id: str = "", obj: str = "", detail: str = "") -> AccessLog:
    """Append one entry; inside a transaction it commits or rolls back with what it records.

    ``user`` is who acted (None for a failed login or the command line, named by ``actor_name``).
    """
    return audit.append(
        AccessLog, AccessLogHead, _secret(), at=dt.datetime.now(),  # the station's wall clock, as on paper
        actor_id=user.id if user is not None else None,
        actor_name=(user.name if user is not None else actor_name)[:100],
        role=user.role if user is not None else "",
        address=(address or "")[:64], action=action, case_id=case_id or "",
        object=mask_numbers_in(obj)[:200], detail=mask_numbers_in(detail),
    )


def verify() -> audit.Verification:
    """Walk the whole log: the first removed, altered or cut-off entry, or that it is whole."""
    return audit.verify_stored(AccessLog, AccessLogHead, _secret())


@dataclass(frozen=True)
class LogFilter:
    """What the admin's search page asks for; empty fields do not filter."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    case_id: str = ""


def search(f: LogFilter) -> ModelSelect:
    """Entries matching ``f``, newest first."""
    query = AccessLog.select()
    if f.date_from:
        query = query.where(AccessLog.at >= dt.datetime.combine(f.date_from, dt.time()))
    if f.date_to:
        query = query.where(AccessLog.at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()))
    if f.actor:
        query = query.where(AccessLog.actor_name.contains(f.actor) | (AccessLog.actor_id.in_(
            User.select(User.id).where(User.username == f.actor))))
    if f.action:
        query = query.where(AccessLog.action == f.action)
    if f.case_id:
        query = query.where(AccessLog.case_id == f.case_id)
    return query.order_by(AccessLog.seq.desc())


def entries_after(seq: int, limit: int = SYNC_PAGE) -> list[dict[str, Any]]:
    """Entries after ``seq`` as the county receives them (JSON-ready, in order): sync's hook."""
    rows = AccessLog.select().where(AccessLog.seq > seq).order_by(AccessLog.seq).limit(limit)
    out = []
    for row in rows:
        entry = audit.as_row(row)
        entry["at"] = row.at.isoformat(sep=" ", timespec="microseconds")
        out.append(entry)
    return out
