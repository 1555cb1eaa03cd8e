"""Retention: a closed case's scans and full personal numbers leave the station after N months.

Only a case that is closed (completed, rejected or delivered) more than ``RETENTION_MONTHS``
ago *and* whose every outbox event the county has acknowledged: the county holds the record
then, and the station never loses anything it has not handed over. What goes: the scans (files
and their rows), the ID numbers and phones (kept in their masked form, so a person can still
tell which case is which; the result's collector's too), the address and the form values (which may
hold addresses) and a postal handover's address, an e-licence's number masked (it may be the ID
number), and the same in the case's sent outbox payloads. Free text goes too (services/free_text.py): staff notes, the
county's reasons, result texts and settlement notes, a material's 不适用 reason, a rating's words, a
整改's conversation — in the rows, on the timeline (each line rewritten without the words) and in the sent
payloads; and once every case of a paper batch is purged, its handover notes and the name of a
resident who signed for papers given back (kept masked). Each purge is written on the case's timeline
(a batch's in the access log). The
connection zeroes freed space (``secure_delete``) and the WAL is truncated afterwards, so the old
bytes do not linger in the file.

Home visits (上门服务) go the same way, with the same months: a visit made before the cutoff, every
case taken during it closed, and every one of its outbox events acknowledged (at least one). Its
resident's name and phone are kept masked, its address and the outcome note (free text) are removed and
any number in what was done is masked — in the row and in its sent outbox payloads — as is the county
clerk's note in a settled conflict kept on its outbox event (the decision stays on its page); the purge is written on the visit's page (``personal_purged_at``) and in the
access log.

Bookings (预约) too: a slot before the cutoff, the booking finished (cancelled, not attended,
turned into a case closed since, or answered by a home visit clearable as well), and its last change
confirmed by the county. Its resident's name and phone are kept masked, the address and the note
(free text, which may hold a name or a number) removed, the phone's blind index emptied (a purged booking is no longer found by the number), the purge marked
(``personal_purged_at``) and written in the access log. The county keeps its own copy.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from peewee import ModelSelect

from rules import appointments as booking_rules
from rules.labels import HOME_VISIT_OUTCOMES
from rules.periods import add_months
from rules.privacy import mask_id_number, mask_licence_number, mask_name, mask_numbers_in, mask_phone
from station import keys
from station.extensions import db
from station.models import (
    Appointment,
    Attachment,
    Case,
    CaseMaterial,
    HomeVisit,
    HomeVisitCase,
    KeptMaterial,
    LicenceCheck,
    ServiceItem,
)
from station.services import access_log, free_text, material_library, personal, timeline
from station.services.attachments import blob_path
from station.services.cases import conflict_decision_without_note
from sync.local_db import now
from sync.outbox import OutboxEvent
from websec.audit import SYSTEM_ACTOR
from websec.erasure import zeroing_what_it_frees

#: Cases at their end at the station: decided for good by the county, handed over, or withdrawn by the applicant.
CLOSED_STATUSES = ("completed", "rejected", "delivered", "withdrawn")


@dataclass(frozen=True)
class PurgeCandidate:
    """What a dry run lists: nothing in it is a full number."""

    case_id: str
    case_no: str
    item_name: str
    status_name: str
    closed_at: dt.datetime
    masked_id: str
    scans: int


def cutoff(months: int, today: dt.date | None = None) -> dt.datetime:
    """The moment `months` calendar months before today (a 31st falls back to the month's last day)."""
    return dt.datetime.combine(add_months(today or dt.date.today(), -months), dt.time())


def candidates(months: int, today: dt.date | None = None) -> list[PurgeCandidate]:
    """Cases whose personal data may go now: closed before the cutoff, every event acknowledged."""
    if months <= 0:
        return []
    unacked = OutboxEvent.select(OutboxEvent.case_id).where(OutboxEvent.state != "acked")
    acked = OutboxEvent.select(OutboxEvent.case_id).where(OutboxEvent.state == "acked")
    rows = (
        Case.select(Case, ServiceItem)
        .join(ServiceItem)
        .where(
            Case.status.in_(CLOSED_STATUSES)
            & Case.closed_at.is_null(False)
            & (Case.closed_at < cutoff(months, today))
            & Case.personal_purged_at.is_null(True)
            & Case.id.in_(acked)  # synced at all…
            & Case.id.not_in(unacked)  # …and nothing still waiting or set aside
        )
        .order_by(Case.closed_at, Case.id)
    )
    return [
        PurgeCandidate(case.id, case.case_no, case.item.name, case.status_name, case.closed_at,
                       mask_id_number(personal.applicant_id_number(case)),
                       Attachment.select().where(Attachment.case == case).count())
        for case in rows
    ]


def purge(months: int, attachment_dir: str, today: dt.date | None = None, *,
          actor: str = SYSTEM_ACTOR) -> list[PurgeCandidate]:
    """Purge every candidate; return what went (as a dry run would have listed it)."""
    done = candidates(months, today)
    if not done:
        return []
    return zeroing_what_it_frees(db, lambda: [candidate for candidate in done
                                              if _purge_case(candidate, attachment_dir, actor)])




def _purge_case(candidate: PurgeCandidate, attachment_dir: str, actor: str) -> bool:
    with db.atomic("IMMEDIATE"):
        case = Case.get_by_id(candidate.case_id)
        if OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.state != "acked")).exists():
            return False  # something changed since the list was made: never purge what is not synced
        files = list(Attachment.select().where(Attachment.case == case))
        columns = personal.sealed_columns(
            mask_id_number(personal.applicant_id_number(case)), mask_phone(personal.applicant_phone(case)), "",
            mask_id_number(personal.proxy_id_number(case)), mask_phone(personal.proxy_phone(case)))
        columns["applicant_id_index"] = ""  # a purged case is no longer found by the number
        collector = personal.collector_id_number(case)  # who collected the result: a full number too
        columns["collector_id_stored"] = personal.seal(mask_id_number(collector)) if collector else ""
        columns["delivery"] = scrub(case.delivery)  # a postal handover holds the address
        Case.update(**columns, form_values={}, personal_purged_at=now()).where(Case.id == case.id).execute()
        free_text.clear_case_text(case)
        for material in CaseMaterial.select().where(CaseMaterial.case == case):
            if material.e_license_no or material.origin:  # a licence number may be the ID number (a 残疾人证's is)
                CaseMaterial.update(e_license_no=mask_licence_number(material.e_license_no),
                                    origin=scrub(material.origin)).where(CaseMaterial.id == material.id).execute()
        _scrub_events(case.id, scrub)
        free_text.clear_batches_of(case, actor)
        Attachment.delete().where(Attachment.case == case).execute()
        timeline.record(case, "系统", "personal_data_purged",
                        f"保存期满：已删除扫描件 {len(files)} 份、住址和完整证件号码、电话，以及备注、县级平台说明等文字说明"
                        "（县级平台已确认接收）", {"scans": len(files)})
    for attachment in files:  # after the commit; a file still used by another case stays
        if not Attachment.select().where(Attachment.sha256 == attachment.sha256).exists():
            try:
                os.remove(blob_path(attachment_dir, attachment.sha256))
            except FileNotFoundError:
                pass
    return True


def _scrub_events(record_id: str, scrubbed: Any) -> None:
    """A purged record's sent events: each payload through `scrubbed`, a county settlement's note taken out.

    Only acknowledged events are ever here (the purge checks it in the same transaction): the county has
    them, nothing will send them again.
    """
    for event in OutboxEvent.select(OutboxEvent.id, OutboxEvent.payload, OutboxEvent.result, OutboxEvent.reason).where(
            OutboxEvent.case_id == record_id):
        reason = conflict_decision_without_note(event.reason) if event.result == "resolved" else event.reason
        OutboxEvent.update(payload=scrubbed(event.payload), reason=reason).where(OutboxEvent.id == event.id).execute()


def scrub(value: Any, key: str = "") -> Any:
    """A payload with numbers masked, addresses, form values and free text removed (for a purged case's sent events)."""
    if isinstance(value, dict):
        if key == "licence" and isinstance(value.get("number"), str):  # the county's licence a material relied on
            value = {**value, "number": mask_licence_number(value["number"])}
        return {k: ({} if k == "form_values" else scrub(v, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, key) for v in value]
    if isinstance(value, str):
        if key.endswith("id_number"):
            return mask_id_number(value)
        if key == "e_license_no":
            return mask_licence_number(value)
        if key.endswith("phone"):
            return mask_phone(value)
        if "address" in key or key in free_text.FREE_TEXT_KEYS:
            return ""
    return value


# --- home visits (上门服务) ------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitPurgeCandidate:
    """A visit a dry run lists: the resident's name masked."""

    visit_id: str
    visited_on: dt.date
    staff: str
    masked_name: str
    outcome_name: str
    cases: int


def visit_candidates(months: int, today: dt.date | None = None) -> list[VisitPurgeCandidate]:
    """Visits whose resident may be cleared now: made before the cutoff, finished, every event acknowledged.

    Finished: every case taken during the visit is closed (an open one may still need to reach the
    resident the visit recorded).
    """
    if months <= 0:
        return []
    ring = keys.ring()
    return [VisitPurgeCandidate(visit.id, visit.visited_on, visit.staff, mask_name(ring.unseal(visit.resident_name_stored)),
                                HOME_VISIT_OUTCOMES.get(visit.outcome, visit.outcome),
                                HomeVisitCase.select().where(HomeVisitCase.visit_id == visit.id).count())
            for visit in _purgeable_visits(months, today).order_by(HomeVisit.visited_on, HomeVisit.id)]


def _purgeable_visits(months: int, today: dt.date | None) -> ModelSelect:
    """The visits :func:`visit_candidates` lists, as a query (a booking waits for the visit it led to)."""
    unacked = OutboxEvent.select(OutboxEvent.case_id).where(OutboxEvent.state != "acked")
    acked = OutboxEvent.select(OutboxEvent.case_id).where(OutboxEvent.state == "acked")
    open_cases = (HomeVisitCase.select(HomeVisitCase.visit_id)
                  .join(Case, on=(HomeVisitCase.case_id == Case.id))
                  .where(Case.status.not_in(CLOSED_STATUSES)))
    return HomeVisit.select().where((HomeVisit.visited_on < cutoff(months, today).date())
                                    & HomeVisit.personal_purged_at.is_null(True)
                                    & HomeVisit.id.in_(acked)  # synced at all…
                                    & HomeVisit.id.not_in(unacked)  # …and nothing still waiting or set aside
                                    & HomeVisit.id.not_in(open_cases))


def purge_visits(months: int, today: dt.date | None = None, *, actor: str = SYSTEM_ACTOR) -> list[VisitPurgeCandidate]:
    """Clear the resident of every visit candidate; return what went (as a dry run would have listed it)."""
    done = visit_candidates(months, today)
    if not done:
        return []
    return zeroing_what_it_frees(db, lambda: [candidate for candidate in done if _purge_visit(candidate, actor)])


def _purge_visit(candidate: VisitPurgeCandidate, actor: str) -> bool:
    ring = keys.ring()
    with db.atomic("IMMEDIATE"):
        visit = HomeVisit.get_by_id(candidate.visit_id)
        if OutboxEvent.select().where((OutboxEvent.case_id == visit.id) & (OutboxEvent.state != "acked")).exists():
            return False  # something changed since the list was made: never purge what is not synced
        phone = ring.unseal(visit.resident_phone_stored) if visit.resident_phone_stored else ""
        HomeVisit.update(resident_name_stored=ring.seal(candidate.masked_name),
                         resident_phone_stored=ring.seal(mask_phone(phone)) if phone else "",
                         address_stored=ring.seal(""), outcome_note="", purpose=ring.seal(mask_numbers_in(visit.purpose)),
                         personal_purged_at=now()).where(HomeVisit.id == visit.id).execute()
        _scrub_events(visit.id, scrub_visit)
        access_log.record("home_visit", actor_name=actor, obj=visit.id,
                          detail=f"保存期满：已清除 {visit.visited_on:%Y-%m-%d} 上门服务的服务对象姓名、电话和地址，"
                                 "以及结果说明和县级平台的处理说明（县级平台已确认接收）")
    return True


def scrub_visit(payload: Any) -> Any:
    """A visit's sent payload with the resident's name and phone masked, the address and the outcome note
    removed, and any number in what was done masked."""
    payload = scrub(payload)
    if isinstance(payload, dict) and isinstance(payload.get("purpose"), str):
        payload["purpose"] = mask_numbers_in(payload["purpose"])
    resident = payload.get("resident") if isinstance(payload, dict) else None
    if isinstance(resident, dict) and isinstance(resident.get("name"), str):
        payload["resident"] = {**resident, "name": mask_name(resident["name"])}
    return payload


# --- bookings (预约) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class BookingPurgeCandidate:
    """A booking a dry run lists: the resident's name masked."""

    appointment_id: str
    code: str
    slot_date: dt.date
    slot_start: str
    item_name: str
    masked_name: str
    status_name: str


def booking_candidates(months: int, today: dt.date | None = None) -> list[BookingPurgeCandidate]:
    """Bookings whose resident may be cleared now: slot before the cutoff, finished, every change confirmed.

    Finished: cancelled, not attended, turned into a case that is closed since, answered by a
    home visit (recording one leaves the booking "booked") that may be cleared too — the visit was
    prefilled from it, so a booking never outlives the visit's resident in full — or still
    "booked" with no visit at all: a slot a whole retention period past that nobody marked is over
    by any reading, and keeping its resident forever for want of a click is what retention is for.
    Confirmed: the county acknowledged the booking's last change (``sent_version == version``).
    """
    if months <= 0:
        return []
    closed = Case.select(Case.id).where(Case.status.in_(CLOSED_STATUSES))
    visited = HomeVisit.select(HomeVisit.appointment_id).where(HomeVisit.appointment_id != "")
    waiting_visits = visited.where(HomeVisit.personal_purged_at.is_null(True)
                                   & HomeVisit.id.not_in(_purgeable_visits(months, today).select(HomeVisit.id)))
    rows = (Appointment.select()
            .where((Appointment.slot_date < cutoff(months, today).date())
                   & (Appointment.sent_version == Appointment.version)
                   & Appointment.personal_purged_at.is_null(True)
                   & ((Appointment.case_id == "") | Appointment.case_id.in_(closed))
                   & Appointment.id.not_in(waiting_visits))
            .order_by(Appointment.slot_date, Appointment.slot_start, Appointment.id))
    ring = keys.ring()
    return [BookingPurgeCandidate(a.id, a.code, a.slot_date, a.slot_start, a.item_name,
                                  mask_name(ring.unseal(a.name_stored)), booking_rules.STATUSES.get(a.status, a.status))
            for a in rows]


def purge_bookings(months: int, today: dt.date | None = None, *, actor: str = SYSTEM_ACTOR) -> list[BookingPurgeCandidate]:
    """Clear the resident of every booking candidate; return what went (as a dry run would have listed it)."""
    done = booking_candidates(months, today)
    if not done:
        return []
    return zeroing_what_it_frees(db, lambda: [candidate for candidate in done if _purge_booking(candidate, actor)])


def _purge_booking(candidate: BookingPurgeCandidate, actor: str) -> bool:
    ring = keys.ring()
    with db.atomic("IMMEDIATE"):
        booking = Appointment.get_by_id(candidate.appointment_id)
        if booking.version != booking.sent_version:
            return False  # changed since the list was made: never clear what the county has not got
        phone = ring.unseal(booking.phone_stored) if booking.phone_stored else ""
        Appointment.update(name_stored=ring.seal(candidate.masked_name),
                           phone_stored=ring.seal(mask_phone(phone)) if phone else "",
                           phone_index="",  # no longer found by the number
                           address_stored="", note="",  # free text: it may name a relative or give a number
                           personal_purged_at=now()).where(Appointment.id == booking.id).execute()
        access_log.record("appointment_change", actor_name=actor, obj=booking.code,
                          detail=f"保存期满：已清除 {booking.slot_date:%Y-%m-%d} {booking.slot_start} 预约的预约人"
                                 "姓名、电话、住址和备注（县级平台已确认接收）")
    return True


# --- the material library (只提交一次) ------------------------------------------------------------
LICENCE_CHECK_DAYS = 30  # a licence answer serves the intake it was asked for; the access log keeps the record


@dataclass(frozen=True)
class LibraryPurge:
    """What left the material library: kept materials past their validity, old licence answers."""

    kept: int
    checks: int


def purge_library(attachment_dir: str, today: dt.date | None = None, *, dry_run: bool = False,
                  actor: str = SYSTEM_ACTOR) -> LibraryPurge:
    """Delete kept materials past their validity (rows and sealed copies) and licence answers over 30 days old.

    A kept material is only worth keeping while it may be reused; past its validity it is
    personal data with no purpose. The cases that used it keep their own records.
    """
    today = today or dt.date.today()
    expired = KeptMaterial.select().where(KeptMaterial.valid_until.is_null(True) | (KeptMaterial.valid_until < today))
    old_checks = LicenceCheck.select().where(
        LicenceCheck.asked_at < dt.datetime.combine(today - dt.timedelta(days=LICENCE_CHECK_DAYS), dt.time()))
    if dry_run:
        return LibraryPurge(expired.count(), old_checks.count())
    with db.atomic("IMMEDIATE"):
        gone = list(expired)
        KeptMaterial.delete().where(KeptMaterial.id.in_([k.id for k in gone] or [""])).execute()
        checks = LicenceCheck.delete().where(LicenceCheck.id.in_(old_checks.select(LicenceCheck.id))).execute()
        if gone or checks:
            access_log.record("library_purge", actor_name=actor,
                              detail=f"保存期满：删除过期的已核验材料 {len(gone)} 份、电子证照查询结果 {checks} 条")
    for kept in gone:
        material_library.kept_file(attachment_dir, kept.id).unlink(missing_ok=True)
    return LibraryPurge(len(gone), checks)
