"""Appointments (预约) at the station: the offer it publishes, bookings for callers, the day plan.

The station decides what it offers (items or all, times of day with how many each, how many days
ahead, home visits or not); the open dates are its own working days (services/calendar.py), sent
with the offer at every sync (sync/appointments_push.py) so the county's public page offers
nothing on a holiday. Residents' bookings come down the changes feed (``appointment.changed``);
bookings an agent makes for a caller, no-shows, cancellations and turning a booking into a case
go up with the next sync. The checks are the county's (rules/appointments.py). The name, phone
and address are sealed with the station's key ring and masked in every list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from peewee import fn

from rules import appointments as rules
from rules import query_codes
from rules.privacy import mask_name, mask_phone
from station import keys
from station.extensions import db
from station.models import Appointment, Case, HomeVisit, Setting, User
from station.models.base import now
from station.services.calendar import load_calendar
from station.services.catalog import current_items, has_catalog
from station.services.errors import DomainError
from sync import protocol, state

OFFER_KEY = "appointment_offer"
SENT_OFFER_KEY = "appointment_offer_sent"  # digest of the offer the county last confirmed
DEFAULT_OFFER: dict[str, Any] = {
    "enabled": False, "items": rules.ANY_ITEM, "days_ahead": 14, "home_visit": True,
    "times": [{"start": "09:00", "end": "10:00", "capacity": 2}, {"start": "10:00", "end": "11:00", "capacity": 2},
              {"start": "14:30", "end": "15:30", "capacity": 2}, {"start": "15:30", "end": "16:30", "capacity": 2}],
}


# --- the offer ----------------------------------------------------------------------------------------

def offer_settings() -> dict[str, Any]:
    """The station's offer as its admin set it (not yet with dates)."""
    raw = Setting.get_value(OFFER_KEY)
    return {**DEFAULT_OFFER, **(json.loads(raw) if raw else {})}


def save_offer(enabled: bool, item_codes: list[str], times: list[dict[str, Any]], days_ahead: int,
               home_visit: bool) -> dict[str, Any]:
    """Store the offer after checking it as the county will; raise DomainError with the reason."""
    known = {i.item_code: i.name for i in current_items()}
    items: Any = rules.ANY_ITEM
    if item_codes:
        unknown = [c for c in item_codes if c not in known]
        if unknown:
            raise DomainError("所选事项不在当前事项目录中：" + "、".join(unknown))
        items = [{"code": c, "name": known[c]} for c in item_codes]
    if not 1 <= int(days_ahead) <= rules.MAX_DAYS_AHEAD:
        raise DomainError(f"可预约天数须在 1 到 {rules.MAX_DAYS_AHEAD} 天之间。")
    try:
        checked = rules.normalise_offer({"items": items, "times": times, "home_visit": home_visit})
    except rules.OfferError as exc:
        raise DomainError(str(exc)) from exc
    clash = rules.overlapping_times(checked["times"])
    if clash:
        raise DomainError(clash)
    offer = {"enabled": bool(enabled), "items": checked["items"], "times": checked["times"],
             "days_ahead": int(days_ahead), "home_visit": checked["home_visit"]}
    Setting.set_value(OFFER_KEY, json.dumps(offer, ensure_ascii=False))
    return offer


def published_offer(today: dt.date | None = None) -> dict[str, Any] | None:
    """The offer as the county receives it: open dates from the station's calendar; None when bookings are off."""
    settings = offer_settings()
    today = today or dt.date.today()
    calendar = load_calendar()
    dates = rules.open_dates(today, settings["days_ahead"], calendar.is_workday) if settings["enabled"] else []
    choices = ([{"code": i.item_code, "name": i.name} for i in current_items()]
               if settings["items"] == rules.ANY_ITEM else [])
    return rules.normalise_offer({**settings, "dates": dates, "choices": choices})


# --- bookings -----------------------------------------------------------------------------------------

def _phone_indexes(phone: str) -> list[str]:
    return keys.ring().blind_indexes(phone)


def _taken(day: dt.date, start: str) -> int:
    return (Appointment.select(fn.COUNT(Appointment.id))
            .where((Appointment.slot_date == day) & (Appointment.slot_start == start)
                   & Appointment.status.in_(rules.HOLDING)).scalar() or 0)


def _new_code() -> str:
    for _ in range(20):
        code = "".join(secrets.choice(query_codes.ALPHABET) for _ in range(rules.CODE_LENGTH))
        if not Appointment.select().where(Appointment.code == code).exists():
            return code
    raise DomainError("预约码生成失败，请重试。")


def book_for_caller(user: User, *, item_code: str, day: str, start: str, name: str, phone: str,
                    home_visit: bool, address: str, at: dt.datetime | None = None) -> Appointment:
    """An agent books a slot for a caller (by phone or at the window); refused like the county refuses."""
    try:
        slot_day = dt.date.fromisoformat(day or "")
    except ValueError as exc:
        raise DomainError("请选择预约日期。") from exc
    try:
        name, phone, address = rules.check_person(name, phone, home_visit, address)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    offer = published_offer()
    if not offer_settings()["enabled"]:
        if state.device_number():  # a laptop checks against its own copy of the times; the PC's never comes down
            raise DomainError("本机尚未开放预约：请站长在本机的“预约设置”中按站点主机的设置开放后，再代为预约。")
        raise DomainError("本站尚未开放预约，请站长先在“预约设置”中开放。")
    item = rules.item_named(offer, item_code)
    if item is None:
        raise DomainError("本站不接受这个事项的预约，请重新选择事项。")
    with db.atomic("IMMEDIATE"):  # the write lock first: two agents booking the last place queue here
        same_phone = (Appointment.select()
                      .where((Appointment.slot_date == slot_day) & (Appointment.slot_start == start)
                             & (Appointment.status == "booked") & Appointment.phone_index.in_(_phone_indexes(phone)))
                      .exists())
        problem = rules.slot_problem(offer, slot_day, start, now=at or dt.datetime.now(), taken=_taken(slot_day, start),
                                     same_phone=same_phone, home_visit=home_visit)
        if problem:
            raise DomainError(problem)
        ring = keys.ring()
        return Appointment.create(
            id=protocol.new_id(), code=_new_code(), slot_date=slot_day, slot_start=start,
            slot_end=rules.time_of(offer, start)["end"], item_code=item["code"], item_name=item["name"],
            name_stored=ring.seal(name), phone_stored=ring.seal(phone), phone_index=ring.blind_index(phone),
            address_stored=ring.seal(address) if address else "", home_visit=home_visit, status="booked",
            source="station", booked_by=user.name, created_at=now(), updated_at=now(), version=1)


def apply_from_hub(payload: dict[str, Any]) -> Appointment | None:
    """A booking made or cancelled at the county (inside the pull transaction); idempotent.

    The county's state is the booking's (its first final state stands there), except that a booking
    this station turned into a case stays converted: that goes up with the next sync and wins.
    """
    appointment_id = str(payload.get("appointment_id") or "")
    if not protocol.is_client_id(appointment_id):
        raise DomainError("县级平台发来的预约缺少编号。")
    try:
        slot_day = dt.date.fromisoformat(str(payload.get("slot_date")))
    except ValueError as exc:
        raise DomainError("县级平台发来的预约日期不正确。") from exc
    ring = keys.ring()
    phone = str(payload.get("phone") or "")
    status = payload.get("status") if payload.get("status") in rules.STATUSES else "booked"
    existing = Appointment.get_or_none(Appointment.id == appointment_id)
    if existing is not None:
        if existing.status == "converted" and status != "converted":
            return existing
        note = "" if existing.personal_purged_at is not None else str(payload.get("note") or "")[:200]  # cleared stays
        Appointment.update(status=status, note=note, updated_at=now()).where(Appointment.id == appointment_id).execute()
        return Appointment.get_by_id(appointment_id)
    address = str(payload.get("address") or "")
    return Appointment.create(
        id=appointment_id, code=str(payload.get("code") or "")[:16], slot_date=slot_day,
        slot_start=str(payload.get("slot_start") or "")[:5], slot_end=str(payload.get("slot_end") or "")[:5],
        item_code=str(payload.get("item_code") or "")[:64], item_name=str(payload.get("item_name") or "")[:200],
        name_stored=ring.seal(str(payload.get("name") or "")), phone_stored=ring.seal(phone),
        phone_index=ring.blind_index(phone), address_stored=ring.seal(address) if address else "",
        home_visit=bool(payload.get("home_visit")), status=status, source=str(payload.get("source") or "public")[:16],
        note=str(payload.get("note") or "")[:200], created_at=now(), updated_at=now(), version=0, sent_version=0)


def get(appointment_id: str) -> Appointment:
    """One booking, or DomainError."""
    appointment = Appointment.get_or_none(Appointment.id == appointment_id)
    if appointment is None:
        raise DomainError("没有这个预约。")
    return appointment


def set_status(appointment_id: str, status: str, note: str = "") -> Appointment:
    """Record a no-show or a cancellation (the caller phoned); only a booking still waiting."""
    if status not in ("no_show", "cancelled"):
        raise DomainError("只能登记“未到”或“取消”。")
    with db.atomic("IMMEDIATE"):
        appointment = get(appointment_id)
        check_not_purged(appointment)  # a masked name and phone would go to the county, which refuses them
        if appointment.status != "booked":
            raise DomainError(f"这个预约{rules.STATUSES[appointment.status]}，不能再更改。")
        if _visits_for([appointment.id]):  # the agent went: the resident neither failed to come nor called off
            raise DomainError("这个预约已登记上门服务，不能再登记为“未到”或“取消”。")
        if status == "no_show" and dt.datetime.combine(appointment.slot_date,
                                                       dt.time.fromisoformat(appointment.slot_start)) > dt.datetime.now():
            raise DomainError("预约时间还没到，不能登记为未到。")
        Appointment.update(status=status, note=(note or rules.STATUSES[status])[:200], updated_at=now(),
                           version=Appointment.version + 1).where(Appointment.id == appointment_id).execute()
    return get(appointment_id)


PURGED = "这个预约已过保存期限，预约人的姓名、电话和住址已清除，不能再更改、转为办件或登记上门。"


def check_not_purged(appointment: Appointment) -> None:
    """A booking whose resident retention cleared prefills, becomes and changes nothing (DomainError)."""
    if appointment.personal_purged_at is not None:
        raise DomainError(PURGED)


def intake_values(appointment: Appointment) -> dict[str, str]:
    """What the intake form is prefilled with when a booking becomes a case."""
    check_not_purged(appointment)
    ring = keys.ring()
    return {"applicant_name": ring.unseal(appointment.name_stored), "applicant_phone": ring.unseal(appointment.phone_stored),
            "applicant_address": ring.unseal(appointment.address_stored) if appointment.address_stored else ""}


def mark_converted(appointment_id: str, case: Case) -> None:
    """The booking became this case (the resident's booking page then shows the case)."""
    with db.atomic("IMMEDIATE"):
        appointment = get(appointment_id)
        check_not_purged(appointment)  # its version would go up with the masked name, which the county refuses
        if appointment.status not in ("booked", "no_show"):
            raise DomainError(f"这个预约{rules.STATUSES[appointment.status]}，不能再转为办件。")
        Appointment.update(status="converted", case_id=case.id, case_no=case.case_no, case_query_code=case.query_code,
                           note=f"已转为办件 {case.case_no}", updated_at=now(),
                           version=Appointment.version + 1).where(Appointment.id == appointment_id).execute()


@dataclass(frozen=True)
class PlanRow:
    """One booking on the day plan: masked, as in every list."""

    id: str
    code: str
    start: str
    end: str
    item_code: str
    item_name: str
    name: str
    phone: str
    home_visit: bool
    status: str
    status_word: str
    source_word: str
    case_id: str
    case_no: str
    purged: bool  # retention cleared the resident: name and phone are kept masked only
    visit_id: str = ""  # the home visit recorded for this booking, if one was


def _visits_for(appointment_ids: list[str]) -> dict[str, str]:
    """Booking id -> the home visit recorded from it (the visit form carries the booking)."""
    if not appointment_ids:
        return {}
    return {appointment_id: visit_id for visit_id, appointment_id in
            HomeVisit.select(HomeVisit.id, HomeVisit.appointment_id)
            .where(HomeVisit.appointment_id.in_(appointment_ids)).order_by(HomeVisit.created_at).tuples()}


def day_plan(day: dt.date) -> list[PlanRow]:
    """The day's bookings by time: home visits marked, names and phones masked (a purged one's are stored masked)."""
    ring = keys.ring()
    rows = list(Appointment.select().where(Appointment.slot_date == day)
                .order_by(Appointment.slot_start, Appointment.created_at))
    visited = _visits_for([a.id for a in rows])
    return [PlanRow(a.id, a.code, a.slot_start, a.slot_end, a.item_code, a.item_name, *_masked(a, ring), a.home_visit,
                    a.status, rules.STATUSES.get(a.status, a.status), rules.SOURCES.get(a.source, a.source),
                    a.case_id, a.case_no, a.personal_purged_at is not None, visited.get(a.id, "")) for a in rows]


def _masked(a: Appointment, ring: Any) -> tuple[str, str]:
    name, phone = ring.unseal(a.name_stored), ring.unseal(a.phone_stored) if a.phone_stored else ""
    if a.personal_purged_at is not None:
        return name, phone  # masked when purged; masking again would hide more of the same digits
    return mask_name(name), mask_phone(phone)


# --- what goes up with the sync -----------------------------------------------------------------------

def _digest(offer: dict[str, Any] | None) -> str:
    return hashlib.sha256(json.dumps(offer, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def pending_push() -> dict[str, Any] | None:
    """The offer (when it changed since the county confirmed it) and the bookings changed here; None if nothing.

    A fresh station has no catalog before its first pull, so no items to offer: the offer waits for
    the catalog (the round that brings it goes on), and the next round sends it.
    """
    offer = published_offer() if has_catalog() else None
    # only the station PC publishes the offer: a second device (a laptop) would overwrite it with its own
    send_offer = (offer is not None and state.device_number() == 0
                  and _digest(offer) != Setting.get_value(SENT_OFFER_KEY))
    ring = keys.ring()
    bookings = []
    for a in Appointment.select().where(Appointment.version > Appointment.sent_version).order_by(Appointment.updated_at).limit(200):
        bookings.append({
            "appointment_id": a.id, "code": a.code, "slot_date": a.slot_date.isoformat(), "slot_start": a.slot_start,
            "slot_end": a.slot_end, "item_code": a.item_code, "item_name": a.item_name,
            "name": ring.unseal(a.name_stored), "phone": ring.unseal(a.phone_stored),
            "address": ring.unseal(a.address_stored) if a.address_stored else "", "home_visit": a.home_visit,
            "status": a.status, "note": a.note, "case_id": a.case_id or None, "case_no": a.case_no or None,
            "case_query_code": a.case_query_code or None, "version": a.version})
    if not send_offer and not bookings:
        return None
    return {"offer": offer if send_offer else None, "bookings": bookings}


def push_confirmed(body: dict[str, Any]) -> None:
    """The county confirmed ``body``: remember the offer's digest and each booking's version sent."""
    with db.atomic("IMMEDIATE"):
        if body.get("offer") is not None:
            Setting.set_value(SENT_OFFER_KEY, _digest(body["offer"]))
        for booking in body.get("bookings") or []:
            (Appointment.update(sent_version=booking["version"])
             .where((Appointment.id == booking["appointment_id"]) & (Appointment.sent_version < booking["version"]))
             .execute())
