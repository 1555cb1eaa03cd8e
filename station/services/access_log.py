"""The station's access log: record an access in the caller's transaction, search it, verify it,
and hand entries to sync for the county.

The chain itself (canonical form, hashes, the walk) is ``websec.audit``, shared with the hub.
Detail text is Chinese and passes through ``mask_numbers_in`` so no full number lands in it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask import current_app
from peewee import ModelSelect

from rules.privacy import mask_numbers_in
from station.models import AccessLog, AccessLogHead, User
from sync import state
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


#: sync_state key: JSON list of ``[after, upto, hash]`` — entries after+1..upto are kept by the county only.
HELD_AT_COUNTY = "access_log_held_at_county"


def verify() -> audit.Verification:
    """Walk the whole log: the first removed, altered or cut-off entry, or that it is whole."""
    return audit.verify_stored(AccessLog, AccessLogHead, _secret(), held_elsewhere=held_at_county())


def held_at_county() -> dict[int, tuple[int, str]]:
    """The stretches of the log written by a PC lost after a backup, which only the county keeps."""
    stretches = json.loads(state.get_value(HELD_AT_COUNTY, "[]") or "[]")
    return {int(after): (int(upto), str(digest)) for after, upto, digest in stretches}


def continue_after_restore(hub_seq: int, hub_hash: str) -> None:
    """After a restore: renumber the entries written since it after the county's last entry (sync's hook).

    The lost PC went on logging after the backup and sent those entries; the county keeps each
    ``(station, seq)`` once, so an entry the restored PC numbered the same would be dropped there
    as a repeat. The entries written since the restore (not yet sent: the catch-up runs before
    any push) move to ``hub_seq + 1 …`` and are chained again from the county's last ``hub_hash``,
    so the county's copy stays one unbroken chain. The skipped stretch is remembered, so that the
    station's own walk knows those entries are kept by the county, not removed.
    """
    backup_seq = int(state.get_value(state.RESTORED_ACCESS_LOG_SEQ, "0") or 0)
    if hub_seq <= backup_seq:  # the county holds nothing the backup lacks: no number was taken twice
        return
    later = list(AccessLog.select().where(AccessLog.seq > backup_seq).order_by(AccessLog.seq.desc()))
    shift = hub_seq - backup_seq
    for row in later:  # highest first, so no two rows share a seq on the way
        AccessLog.update(seq=AccessLog.seq + shift).where(AccessLog.id == row.id).execute()
    prev = hub_hash
    for row in reversed(later):
        row.seq += shift
        row.prev_hash = prev
        row.hash = prev = audit.entry_hash(audit.as_row(row), prev)
        row.save(only=[AccessLog.prev_hash, AccessLog.hash])
    head_seq = hub_seq + len(later)
    AccessLogHead.update(seq=head_seq, hash=prev, mac=audit.head_mac(_secret(), head_seq, prev)).where(
        AccessLogHead.id == audit.HEAD_ID).execute()
    stretches = json.loads(state.get_value(HELD_AT_COUNTY, "[]") or "[]")
    state.set_value(HELD_AT_COUNTY, json.dumps([*stretches, [backup_seq, hub_seq, hub_hash]]))
    state.set_value(state.RESTORED_ACCESS_LOG_SEQ, str(head_seq))


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
