"""Retention of the copies this PC holds of cases another device of the station took (SharedCase).

A copy carries the case as sent — full ID numbers, phones, address, form values, notes — sealed in its
snapshot, and nothing cleared it: the device that took the case purges its own record after the
retention period (services/retention.py), the copy here stayed whole. The same rule reaches it: a
copy whose case the county closed (its last change, the closing, before the cutoff) keeps the numbers
masked and loses the address, form values and free text, as a purged case's sent payloads do. It is a
read-only copy the county sent down: nothing of it waits to be sent. The purge is marked inside the
snapshot (``personal_purged_at``), so it is listed once, and written in the access log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rules.privacy import mask_id_number
from station.extensions import db
from station.models import SharedCase
from station.services import access_log
from station.services.retention import CLOSED_STATUSES, cutoff, scrub
from sync.local_db import now
from websec.audit import SYSTEM_ACTOR
from websec.erasure import zeroing_what_it_frees

PURGED_MARK = "personal_purged_at"


@dataclass(frozen=True)
class CopyPurgeCandidate:
    """A copy a dry run lists: nothing in it is a full number."""

    case_id: str
    case_no: str
    item_name: str
    masked_id: str


def candidates(months: int, today: dt.date | None = None) -> list[CopyPurgeCandidate]:
    """Copies of cases the county closed before the cutoff (by their last change) and not yet cleared."""
    if months <= 0:
        return []
    rows = (SharedCase.select().where(SharedCase.status.in_(CLOSED_STATUSES)
                                      & (SharedCase.updated_at < cutoff(months, today)))
            .order_by(SharedCase.updated_at, SharedCase.id))
    return [CopyPurgeCandidate(c.id, c.case_no, c.item_name,
                               mask_id_number(((c.snapshot or {}).get("applicant") or {}).get("id_number")))
            for c in rows if PURGED_MARK not in (c.snapshot or {})]


def purge(months: int, today: dt.date | None = None, *, actor: str = SYSTEM_ACTOR) -> list[CopyPurgeCandidate]:
    """Clear every candidate copy; return what went (as a dry run would have listed it)."""
    done = candidates(months, today)
    if not done:
        return []
    return zeroing_what_it_frees(db, lambda: [candidate for candidate in done if _purge_copy(candidate, actor)])


def cleared(snapshot: dict) -> dict:
    """A copy's snapshot as retention leaves it (also what a copy sent again after the purge is stored as)."""
    return {**scrub(snapshot), PURGED_MARK: snapshot.get(PURGED_MARK) or now().isoformat(sep=" ")}


def _purge_copy(candidate: CopyPurgeCandidate, actor: str) -> bool:
    with db.atomic("IMMEDIATE"):
        copy = SharedCase.get_or_none(SharedCase.id == candidate.case_id)
        if copy is None or PURGED_MARK in (copy.snapshot or {}):
            return False
        SharedCase.update(snapshot=cleared(copy.snapshot or {})).where(SharedCase.id == copy.id).execute()
        access_log.record("shared_case_purge", actor_name=actor, case_id=copy.id, obj=copy.case_no,
                          detail=f"保存期满：已清除其他设备办件 {copy.case_no} 副本中的完整证件号码、电话、住址和文字说明"
                                 "（该办件已由县级平台办结）")
    return True
