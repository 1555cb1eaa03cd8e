"""Retention at the county: a finished booking's or home visit's resident leaves after N months.

The county kept every booking and every home visit forever, with the resident's name, phone and
address. Neither is a case file: cases are official records (办件档案), kept by archival rules, and
nothing here touches them. Past ``PERSONAL_RETENTION_MONTHS`` (config) a *finished* one keeps its
resident's name and phone masked (so a clerk can still tell records apart), loses the address and,
for a booking, its note (free text that may name or number someone) and the phone's blind index (the
number no longer finds it); ``personal_purged_at`` marks it and the hub's access log gets one line per
record. A home visit's stored event bodies (and any conflict copies of them) hold the same resident
and are cleared the same way.

Finished, as at the station (station/services/retention.py):

* a visit: made before the cutoff, every case taken during it closed at the county (a case not yet
  here counts as open: it may still need the resident);
* a booking: its slot before the cutoff and cancelled, not attended, turned into a case that is
  closed since, or — still "booked", as a station leaves it — answered by a home visit that is
  cleared or may be cleared now (the visit was prefilled from it), or answered by none at all
  (nobody marked it; its slot is a whole retention period past).

A station sending a record again later does not bring the resident back: a booking it sends again
changes only its state (services/appointments.py), a visit's ``visit.recorded`` is filed once, and a
clashing copy of a cleared visit's event is kept cleared (:func:`clashing_copy`, services/ingest.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rules import appointments as booking_rules
from rules import events
from rules.home_visits import OUTCOMES
from rules.periods import add_months
from rules.privacy import mask_name, mask_phone
from sync.hub.extensions import db, key_ring
from sync.hub.models import Appointment, Conflict, Event, HubCase, HubHomeVisit, Station, utcnow
from sync.hub.services import access_log, personal
from sync.hub.services.appointments import china_now
from sync.hub.services.tally import ENDED as CLOSED  # withdrawn cases are at their end too
from websec.audit import SYSTEM_ACTOR
from websec.erasure import zeroing_what_it_frees


def cutoff(months: int, today: dt.date | None = None) -> dt.date:
    """The first day kept: records from before it are past retention (today in China by default)."""
    return add_months(today or china_now().date(), -months)


# --- home visits ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitCandidate:
    """A visit a dry run lists: the resident's name masked."""

    visit_id: str
    station: str
    visited_on: dt.date
    staff: str
    masked_name: str
    outcome_name: str
    cases: int


def _case_numbers(visit: HubHomeVisit) -> list[str]:
    return [n for n in visit.case_numbers.split("、") if n]


def _finished_visits(months: int, today: dt.date | None) -> list[HubHomeVisit]:
    """Visits past retention, not yet cleared, whose every case is closed at the county."""
    if months <= 0:
        return []
    visits = list(HubHomeVisit.select(HubHomeVisit, Station).join(Station)
                  .where((HubHomeVisit.visited_on < cutoff(months, today))
                         & HubHomeVisit.personal_purged_at.is_null(True))
                  .order_by(HubHomeVisit.visited_on, HubHomeVisit.id))
    numbers = {n for v in visits for n in _case_numbers(v)}
    closed = {no for (no,) in HubCase.select(HubCase.case_no)
              .where(HubCase.case_no.in_(sorted(numbers)) & HubCase.status.in_(CLOSED)).tuples()} if numbers else set()
    return [v for v in visits
            if len(_case_numbers(v)) == v.cases_taken and all(n in closed for n in _case_numbers(v))]


def _visit_candidate(visit: HubHomeVisit) -> VisitCandidate:
    return VisitCandidate(visit.visit_id, visit.station.name, visit.visited_on, visit.staff,
                          mask_name(key_ring.unseal(visit.resident_name_stored)),
                          OUTCOMES.get(visit.outcome, visit.outcome), visit.cases_taken)


def visit_candidates(months: int, today: dt.date | None = None) -> list[VisitCandidate]:
    """The visits :func:`purge_visits` would clear now (the dry run): nothing is changed."""
    return [_visit_candidate(v) for v in _finished_visits(months, today)]


def purge_visits(months: int, today: dt.date | None = None, *, actor: str = SYSTEM_ACTOR) -> list[VisitCandidate]:
    """Clear the resident of every finished visit past retention; return what went (masked)."""
    return zeroing_what_it_frees(db, lambda: [c for c in (_purge_visit(v, actor) for v in _finished_visits(months, today)) if c])


def _purge_visit(visit: HubHomeVisit, actor: str) -> VisitCandidate | None:
    candidate = _visit_candidate(visit)
    phone = key_ring.unseal(visit.resident_phone_stored) if visit.resident_phone_stored else ""
    with db.atomic():
        cleared = (HubHomeVisit.update(resident_name_stored=key_ring.seal(candidate.masked_name),
                                       resident_phone_stored=key_ring.seal(mask_phone(phone)) if phone else "",
                                       address_stored="", personal_purged_at=utcnow())
                   .where((HubHomeVisit.id == visit.id) & HubHomeVisit.personal_purged_at.is_null(True)).execute())
        if not cleared:
            return None  # another run got there first
        for model in (Event, Conflict):  # the visit's events hold the same resident, sealed whole
            for row in model.select(model.id, model.body).where(model.case_id == visit.visit_id):
                model.update(body=personal.seal_body(scrub_visit_event(personal.open_body(row.body)))).where(
                    model.id == row.id).execute()
        access_log.record(None, "home_visit", actor_name=actor, obj=visit.visit_id,
                          detail=f"保存期满：已清除{visit.station.name} {visit.visited_on:%Y-%m-%d} 上门服务的"
                                 f"服务对象姓名、电话和地址（{candidate.masked_name}）")
    return candidate


def clashing_copy(event: dict[str, Any]) -> dict[str, Any]:
    """What the county keeps of a station's clashing copy of an event: its resident cleared if the visit is.

    A station may send a copy of a visit event after retention cleared the visit here (one it set
    aside, or a PC restored from an old backup); kept as sent, it would hold the resident in full again.
    """
    cleared = HubHomeVisit.select().where((HubHomeVisit.visit_id == event["case_id"])
                                          & HubHomeVisit.personal_purged_at.is_null(False)).exists()
    return scrub_visit_event(event) if cleared else event


def scrub_visit_event(body: Any) -> Any:
    """A stored visit event with the resident's name and phone masked and the address removed."""
    payload = body.get("payload") if isinstance(body, dict) else None
    resident = payload.get("resident") if isinstance(payload, dict) else None
    if not isinstance(resident, dict):
        return body
    cleared = {**resident, "name": mask_name(str(resident.get("name") or "")),
               "phone": mask_phone(str(resident.get("phone") or "")), "address": ""}
    return {**body, "payload": {**payload, "resident": cleared}}


# --- bookings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BookingCandidate:
    """A booking a dry run lists: the resident's name masked."""

    appointment_id: str
    code: str
    station: str
    slot_date: dt.date
    slot_start: str
    item_name: str
    masked_name: str
    status_name: str


def _visits_of_bookings(booking_ids: Iterable[str], stations: set[int], since: dt.date) -> dict[str, list[int]]:
    """Booking id → the visits prefilled from it (their ``visit.recorded`` names it; sealed, so opened).

    Only the stations' visits from ``since`` on: a visit is made after its booking was, and a booking
    is made at most MAX_DAYS_AHEAD before its slot.
    """
    wanted = set(booking_ids)
    if not wanted:
        return {}
    found: dict[str, list[int]] = {}
    recorded = (Event.select(Event.body, HubHomeVisit.id.alias("visit_pk"))
                .join(HubHomeVisit, on=(Event.case_id == HubHomeVisit.visit_id))
                .where((Event.kind == events.VISIT_RECORDED) & HubHomeVisit.station.in_(sorted(stations))
                       & (HubHomeVisit.visited_on >= since)))
    for body, visit_pk in recorded.tuples():
        body = personal.open_body(body)
        payload = body.get("payload") if isinstance(body, dict) else None
        booking = (payload.get("appointment_id") if isinstance(payload, dict) else None) or ""
        if booking in wanted:
            found.setdefault(booking, []).append(visit_pk)
    return found


def _finished_bookings(months: int, today: dt.date | None, *, visits_cleared: set[int]) -> list[Appointment]:
    """Bookings past retention, not yet cleared and finished; ``visits_cleared``: visits clearable now.

    Finished: cancelled, not attended, converted into a case closed since, or still "booked" —
    answered by visits all cleared (now or before), or with no visit at all (nobody marked it).
    """
    if months <= 0:
        return []
    closed = HubCase.select(HubCase.case_id).where(HubCase.status.in_(CLOSED))
    rows = list(Appointment.select(Appointment, Station).join(Station)
                .where((Appointment.slot_date < cutoff(months, today))
                       & Appointment.personal_purged_at.is_null(True)
                       & (Appointment.case_id.is_null(True) | Appointment.case_id.in_(closed)))
                .order_by(Appointment.slot_date, Appointment.slot_start, Appointment.id))
    waiting = [a for a in rows if a.status == "booked"]
    linked = _visits_of_bookings(
        (a.appointment_id for a in waiting), {a.station_id for a in waiting},
        min((a.slot_date for a in waiting), default=dt.date.today()) - dt.timedelta(days=booking_rules.MAX_DAYS_AHEAD))
    purged = {v.id for v in HubHomeVisit.select(HubHomeVisit.id).where(
        HubHomeVisit.id.in_(sorted({i for ids in linked.values() for i in ids}))
        & HubHomeVisit.personal_purged_at.is_null(False))} if linked else set()
    # still "booked" with no visit: a slot a whole retention period past that nobody marked is over
    return [a for a in rows if a.status != "booked" or a.appointment_id not in linked
            or all(i in purged or i in visits_cleared for i in linked[a.appointment_id])]


def _booking_candidate(booking: Appointment) -> BookingCandidate:
    return BookingCandidate(booking.appointment_id, booking.code, booking.station.name, booking.slot_date,
                            booking.slot_start, booking.item_name, mask_name(key_ring.unseal(booking.name_stored)),
                            booking_rules.STATUSES.get(booking.status, booking.status))


def booking_candidates(months: int, today: dt.date | None = None) -> list[BookingCandidate]:
    """The bookings :func:`purge_bookings` would clear now (the dry run): nothing is changed."""
    clearable = {v.id for v in _finished_visits(months, today)}
    return [_booking_candidate(a) for a in _finished_bookings(months, today, visits_cleared=clearable)]


def purge_bookings(months: int, today: dt.date | None = None, *, actor: str = SYSTEM_ACTOR) -> list[BookingCandidate]:
    """Clear the resident of every finished booking past retention; return what went (masked).

    Run after :func:`purge_visits`: a booking answered by a visit waits for that visit.
    """
    clearable = {v.id for v in _finished_visits(months, today)}
    found = _finished_bookings(months, today, visits_cleared=clearable)
    return zeroing_what_it_frees(db, lambda: [c for c in (_purge_booking(a, actor) for a in found) if c])


def _purge_booking(booking: Appointment, actor: str) -> BookingCandidate | None:
    candidate = _booking_candidate(booking)
    phone = key_ring.unseal(booking.phone_stored) if booking.phone_stored else ""
    with db.atomic():
        cleared = (Appointment.update(name_stored=key_ring.seal(candidate.masked_name),
                                      phone_stored=key_ring.seal(mask_phone(phone)) if phone else "",
                                      phone_index="",  # no longer found by the number
                                      address_stored="", note="",  # free text: it may name or number someone
                                      personal_purged_at=utcnow())
                   .where((Appointment.id == booking.id) & Appointment.personal_purged_at.is_null(True)).execute())
        if not cleared:
            return None
        access_log.record(None, "appointment_change", actor_name=actor, obj=booking.code,
                          detail=f"保存期满：已清除{booking.station.name} {booking.slot_date:%Y-%m-%d} {booking.slot_start} "
                                 f"预约的预约人姓名、电话、住址和备注（{candidate.masked_name}）")
    return candidate


