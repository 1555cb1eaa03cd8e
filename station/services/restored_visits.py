"""Home visits the lost PC recorded, or took cases during, after the backup: rebuilt from the county's copy.

A visit's events queue under the visit's id like a case's (services/home_visits.py), and a restored
station gets them back the same way (sync/restore.py asks the hub, services/restored_cases.py does it
for cases): the visit is filed again from its ``visit.recorded`` event — the resident sealed again,
as on the lost PC — and each ``visit.case_taken`` links its case again. The events go into the outbox
as acknowledged, so a conflict the county settled over one of them, which the next pull brings down
again, finds its event and the visit's page shows the county's decision as the lost PC did.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rules import events as event_kinds
from station import keys
from station.models import HomeVisit, HomeVisitCase
from station.services.restored_cases import ACTOR, local_time

log = logging.getLogger(__name__)


def is_visit(events: list[dict[str, Any]]) -> bool:
    """Whether the events are a home visit's stream (not a case's)."""
    return any(e.get("kind") in event_kinds.VISIT_KINDS for e in events)


def rebuild_visit(visit_id: str, events: list[dict[str, Any]]) -> bool:
    """File a visit the backup does not hold from its events at the county; False when it cannot be (logged)."""
    if HomeVisit.get_or_none(HomeVisit.id == visit_id) is not None:
        return False
    first = next((e for e in events if e.get("kind") == event_kinds.VISIT_RECORDED), None)
    body = (first or {}).get("payload") or {}
    try:
        visited_on = dt.date.fromisoformat(str(body.get("visited_on")))
    except ValueError:
        log.warning("visit %s recorded after the backup not rebuilt: no visit.recorded at the county", visit_id)
        return False
    ring = keys.ring()
    resident = body.get("resident") or {}
    phone, purpose, note = (str(resident.get("phone") or ""), str(body.get("purpose") or ""),
                            str(body.get("outcome_note") or ""))
    HomeVisit.create(
        id=visit_id, visited_on=visited_on, started_at=str(body.get("started_at") or ""),
        ended_at=str(body.get("ended_at") or ""), staff=str(body.get("staff") or ""),
        village_code=str(body.get("village_code") or ""), outcome=str(body.get("outcome") or ""),
        appointment_id=str(body.get("appointment_id") or ""), created_by=str(body.get("by") or ACTOR),
        created_at=local_time(first.get("occurred_at")) or dt.datetime.now(),
        resident_name_stored=ring.seal(str(resident.get("name") or "")),
        resident_phone_stored=ring.seal(phone) if phone else "",
        address_stored=ring.seal(str(resident.get("address") or "")),
        purpose=ring.seal(purpose), outcome_note=ring.seal(note) if note else "")
    _link_cases(visit_id, events)
    return True


def continue_visit(visit_id: str, events: list[dict[str, Any]]) -> bool:
    """Link to a visit the backup holds the cases the lost PC took during it after the backup; False if not here."""
    if HomeVisit.get_or_none(HomeVisit.id == visit_id) is None:
        return False
    _link_cases(visit_id, events)
    return True


def _link_cases(visit_id: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        case_id = str((event.get("payload") or {}).get("case_id") or "")
        if event.get("kind") == event_kinds.VISIT_CASE_TAKEN and case_id:
            HomeVisitCase.insert(visit_id=visit_id, case_id=case_id).on_conflict_ignore().execute()
