"""What the hub holds of one station: asked by a station restored from a backup.

A backup is older than the hub's view of the station. Before it numbers a new case or writes a
new event, a restored station asks for (a) each of its cases touched since ``since`` with the
last ``seq`` the hub stored, and (b) per day, the highest daily sequence among its case numbers
(``{area code 12}{YYYYMMDD}{4-digit seq}``, DOMAIN.md), and (c) the last access-log entry the
hub holds of it (``seq`` and ``hash``), and moves its own counters past them: an access-log entry
numbered again after the restore would be dropped here as a repeat, and the audit trail lost.
Its home visits count as cases here: a visit's events queue under the visit's id with their own ``seq``
(``HubHomeVisit.last_seq``), so a restored station must learn them, and may fetch them, the same way.
A second device of the station numbers with its own suffix ``-NN`` (docs/sync-protocol.md), so
only the numbers and the access-log chain of the device that asks count (the PC's: device 0).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules import case_numbers as case_numbers_rule
from sync.hub.models import Event, HubCase, HubHomeVisit, Station, StationAccessLog
from sync.hub.services.personal import open_body
from websec.audit import GENESIS


def state_of(station: Station, since: dt.date | None, *, device: int = 0) -> dict[str, Any]:
    """The station's cases touched since the day before ``since`` (all when None) and ``device``'s days' last case numbers."""
    query = HubCase.select(HubCase.case_id, HubCase.case_no, HubCase.last_seq).where(HubCase.station == station)
    if since is not None:  # a day's margin: the hub's clock is UTC, the station's local
        query = query.where(HubCase.updated_at >= dt.datetime.combine(since - dt.timedelta(days=1), dt.time()))
    cases: dict[str, int] = {}
    case_numbers: dict[str, int] = {}
    for row in query.tuples().iterator():
        case_id, case_no, last_seq = row
        cases[case_id] = int(last_seq or 0)
        minted = case_numbers_rule.day_and_sequence(case_no, device)
        if minted is not None:
            day, sequence = minted
            case_numbers[day] = max(case_numbers.get(day, 0), sequence)
    cases.update(_visits(station))
    last = (StationAccessLog.select(StationAccessLog.seq, StationAccessLog.hash)
            .where((StationAccessLog.station == station) & (StationAccessLog.device == device))
            .order_by(StationAccessLog.seq.desc()).first())
    access_log = {"seq": int(last.seq), "hash": last.hash} if last else {"seq": 0, "hash": GENESIS}
    return {"cases": cases, "case_numbers": case_numbers, "access_log": access_log}


def _visits(station: Station) -> dict[str, int]:
    """Every home visit of the station with the last ``seq`` stored.

    All of them, whatever ``since``: a visit has no ``updated_at`` (one added to later would be missed),
    and a station records a few a week, so the whole list stays small.
    """
    query = HubHomeVisit.select(HubHomeVisit.visit_id, HubHomeVisit.last_seq).where(HubHomeVisit.station == station)
    return {visit_id: int(last_seq or 0) for visit_id, last_seq in query.tuples().iterator()}


def case_events(station: Station, case_id: str) -> list[dict[str, Any]] | None:
    """Every event of one of the station's own cases or home visits, as the station sent it (None: not its own).

    Asked by a restored station for a case (or a visit) its lost PC took after the backup: it rebuilds
    it from them. The bodies are opened here and travel over the signed link as they came.
    """
    owned = (HubCase.select().where((HubCase.case_id == case_id) & (HubCase.station == station)).exists()
             or HubHomeVisit.select().where((HubHomeVisit.visit_id == case_id)
                                            & (HubHomeVisit.station == station)).exists())
    if not owned:
        return None
    rows = Event.select(Event.body).where((Event.case_id == case_id) & (Event.station == station)).order_by(Event.seq)
    return [open_body(body) for (body,) in rows.tuples().iterator()]
