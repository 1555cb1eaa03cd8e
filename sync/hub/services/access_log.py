"""The hub's access log: its own users' accesses (hash-chained with ``websec.audit``), the stations'
logs as they arrive over the signed API, search, and verification of both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from peewee import ModelSelect

from rules.privacy import mask_numbers_in
from sync.hub.china_time import CHINA_OFFSET
from sync.hub.extensions import db
from sync.hub.models import HubAccessLog, HubAccessLogHead, HubUser, Station, StationAccessLog
from websec import audit

#: The most entries one station request may carry.
MAX_ENTRIES = 1000
_TEXT_LIMITS = {"actor_name": 100, "role": 16, "address": 64, "action": 32, "case_id": 40, "object": 200,
                "prev_hash": 64, "hash": 64}


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def record(user: HubUser | None, action: str, *, address: str | None = "", case_id: str = "", obj: str = "",
           detail: str = "", actor_name: str = "") -> HubAccessLog:
    """Append one entry, in the caller's transaction when there is one.

    ``user`` None: a failed login (``actor_name`` is the name typed) or the command line.
    """
    return audit.append(
        HubAccessLog, HubAccessLogHead, _secret(),
        actor_id=user.id if user is not None else None,
        actor_name=((user.name or user.username) if user is not None else actor_name)[:100],
        role=user.role if user is not None else "", address=(address or "")[:64], action=action,
        case_id=case_id or "", object=mask_numbers_in(obj)[:200], detail=mask_numbers_in(detail),
    )


def verify() -> audit.Verification:
    """Walk the hub's own log: the first removed, altered or cut-off entry, or that it is whole."""
    return audit.verify_stored(HubAccessLog, HubAccessLogHead, _secret())


def verify_station(station: Station, device: int = 0) -> audit.Verification:
    """Walk one station's log as the county holds it (its chain; the station keeps its own head).

    Each device of the station has its own chain; ``device`` 0 is the station PC's.
    """
    rows = (StationAccessLog.select()
            .where((StationAccessLog.station == station) & (StationAccessLog.device == device))
            .order_by(StationAccessLog.seq))
    return audit.verify(audit.as_row(r) for r in rows.iterator())


class EntryRefused(ValueError):
    """A station's entry the hub cannot store; the message is Chinese."""


def _entry(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise EntryRefused("访问日志记录须为对象。")
    try:
        entry: dict[str, Any] = {"seq": int(raw["seq"]), "at": dt.datetime.fromisoformat(str(raw["at"]))}
    except (KeyError, TypeError, ValueError) as exc:
        raise EntryRefused("访问日志记录缺少序号或时间。") from exc
    if entry["seq"] < 1 or entry["at"].tzinfo is not None:
        raise EntryRefused("访问日志记录的序号或时间有误。")
    actor_id = raw.get("actor_id")
    entry["actor_id"] = actor_id if isinstance(actor_id, int) and not isinstance(actor_id, bool) else None
    for name, limit in _TEXT_LIMITS.items():
        value = str(raw.get(name) or "")
        if len(value) > limit:
            raise EntryRefused(f"访问日志记录的 {name} 过长。")
        entry[name] = value
    entry["detail"] = str(raw.get("detail") or "")[:2000]
    return entry


def receive(station: Station, entries: Iterable[Any], *, device: int = 0) -> dict[str, int]:
    """Store a station's entries once each (by station, device and seq); a repeat delivery changes nothing.

    Each device of a station chains its own log from seq 1, so ``device`` keeps the chains apart.

    The entries are kept exactly as the station chained them, so a later walk over them finds
    what was changed on the way or at the county.
    """
    rows = [_entry(raw) | {"station": station.id, "device": device} for raw in entries]
    if not rows:
        return {"accepted": 0, "duplicate": 0, "last_seq": 0}
    with db.atomic():
        seqs = [r["seq"] for r in rows]
        known = {s for (s,) in StationAccessLog.select(StationAccessLog.seq).where(
            (StationAccessLog.station == station) & (StationAccessLog.device == device)
            & StationAccessLog.seq.in_(seqs)).tuples()}
        fresh = {r["seq"]: r for r in rows if r["seq"] not in known}
        if fresh:
            StationAccessLog.insert_many(list(fresh.values())).on_conflict_ignore().execute()
    return {"accepted": len(fresh), "duplicate": len(rows) - len(fresh), "last_seq": max(seqs)}


@dataclass(frozen=True)
class LogFilter:
    """The county admin's search; ``station`` chooses a station's log instead of the hub's own."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    case_id: str = ""
    station: str = ""


def search(f: LogFilter) -> ModelSelect:
    """The hub's own entries, or one station's (``f.station``), matching ``f``, newest first."""
    offset = dt.timedelta(0)  # a station's times are its own wall clock
    if f.station:
        model = StationAccessLog
        query = model.select(model, Station).join(Station).where(Station.code == f.station)
    else:
        model = HubAccessLog
        query = model.select()
        offset = CHINA_OFFSET  # the hub's own are UTC; the days asked for are China's
    if f.date_from:
        query = query.where(model.at >= dt.datetime.combine(f.date_from, dt.time()) - offset)
    if f.date_to:
        query = query.where(model.at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()) - offset)
    if f.actor:
        query = query.where(model.actor_name.contains(f.actor))
    if f.action:
        query = query.where(model.action == f.action)
    if f.case_id:
        query = query.where(model.case_id == f.case_id)
    return query.order_by(model.seq.desc())
