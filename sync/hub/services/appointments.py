"""Appointments at the county: stations' offers, residents' bookings, and the bookings stations send up.

A station publishes its offer with each sync (``POST /api/v1/appointments``, with the bookings its
agents made or changed); a resident books on the public page (:func:`book`) and can cancel by
the booking's code. Every booking or cancellation made here reaches the station as an
``appointment.changed`` change; the change row holds only the booking's id, and the feed attaches
the booking (name, phone, address opened) when it serves it, so nothing personal lies in the
feed at rest. Refusals are :class:`ValidationError` with a Chinese message, and change nothing.

Capacity holds whoever books first: every booking for a station first bumps its offer row
(``AppointmentOffer.bookings``), which queues concurrent bookings on that row's lock on both
databases, then counts the slot. A booking an agent made offline is a fact (the caller was told)
and is stored even when the slot has filled meanwhile; the station checked it against what it knew.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError, fn

from rules import appointments as rules
from rules import query_codes
from rules.privacy import mask_name, mask_phone
from sync import protocol
from sync.hub.china_time import CHINA_OFFSET
from sync.hub.extensions import db, key_ring
from sync.hub.models import Appointment, AppointmentOffer, HubCase, Station, utcnow
from sync.hub.services import changes, workdays
from sync.hub.services.errors import NotFound, ValidationError

NOT_FOUND = "没有找到这个预约码，请核对后再输入（8位字母数字）。"


def china_now() -> dt.datetime:
    """Now in China, naive: slots are station wall-clock times."""
    return utcnow() + CHINA_OFFSET


# --- offers ---------------------------------------------------------------------------------------

def publish_offer(station: Station, raw: Any) -> dict[str, Any]:
    """Store a station's offer (sent with its sync); raise ValidationError for one that does not check."""
    try:
        offer = rules.normalise_offer(raw)
    except rules.OfferError as exc:
        raise ValidationError(str(exc)) from exc
    inserted = (AppointmentOffer.insert(station=station, body=offer, published_at=utcnow(), bookings=0)
                .on_conflict(conflict_target=[AppointmentOffer.station],
                             update={AppointmentOffer.body: offer, AppointmentOffer.published_at: utcnow()}))
    inserted.execute()
    return offer


def offer_of(station: Station) -> dict[str, Any] | None:
    """The station's published offer, or None; without a day the county's calendar knows is a rest day.

    A station counts its open days with its own table: one that has not yet received the year the county
    published (offline, or between syncs) offers 元旦 or a 春节 day as a Monday–Friday working day. The
    county knows better: a statutory holiday is not offered, and a booking for it is refused as for any
    rest day. (Weekends are the station's to open: some do, by their own rule.)
    """
    row = AppointmentOffer.get_or_none(AppointmentOffer.station == station)
    if row is None:
        return None
    calendar = workdays.calendar()

    def open_day(day: str) -> bool:  # a weekend the station opens on (its own rule) stays offered
        date = dt.date.fromisoformat(day)
        return calendar.is_workday(date) or not calendar.day_name(date)
    return {**row.body, "dates": [d for d in row.body.get("dates") or [] if open_day(d)]}


def provisional_days(days: list[str]) -> dict[str, str]:
    """The offered days in a year without holiday data, each with what the resident is told beside it."""
    calendar = workdays.calendar()
    return {day: f"{day[:4]}年节假日安排尚未公布，如遇放假以服务站通知为准" for day in days
            if not calendar.year_known(int(day[:4]))}


def open_stations() -> list[Station]:
    """Stations that take bookings now (an offer with open dates), by name."""
    rows = (Station.select(Station).join(AppointmentOffer).where(Station.active)
            .order_by(Station.name))
    today = china_now().date().isoformat()
    return [s for s in rows if any(d >= today for d in (offer_of(s) or {}).get("dates") or [])]


def _taken(station: Station, day: dt.date, start: str) -> int:
    return (Appointment.select(fn.COUNT(Appointment.id))
            .where((Appointment.station == station) & (Appointment.slot_date == day)
                   & (Appointment.slot_start == start) & Appointment.status.in_(rules.HOLDING)).scalar() or 0)


@dataclass(frozen=True)
class SlotView:
    """One bookable time on one day, with the places left."""

    day: str
    start: str
    end: str
    left: int


def slots(station: Station, *, now: dt.datetime | None = None) -> list[SlotView]:
    """Every future slot of the station's offer with its places left (full ones too, shown as full)."""
    offer = offer_of(station) or {}
    now = now or china_now()
    counts: dict[tuple[str, str], int] = {}
    rows = (Appointment.select(Appointment.slot_date, Appointment.slot_start, fn.COUNT(Appointment.id))
            .where((Appointment.station == station) & (Appointment.slot_date >= now.date())
                   & Appointment.status.in_(rules.HOLDING))
            .group_by(Appointment.slot_date, Appointment.slot_start).tuples())
    for day, start, count in rows:
        counts[(str(day), start)] = count
    out = []
    for day in offer.get("dates") or []:
        for time in offer.get("times") or []:
            if dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time["start"])) <= now:
                continue
            out.append(SlotView(day, time["start"], time["end"],
                                max(0, int(time["capacity"]) - counts.get((day, time["start"]), 0))))
    return out


# --- booking --------------------------------------------------------------------------------------

def new_code() -> str:
    """A booking code a resident types back (the query-code alphabet: nothing read wrongly off paper)."""
    for _ in range(20):
        code = "".join(secrets.choice(query_codes.ALPHABET) for _ in range(rules.CODE_LENGTH))
        if not Appointment.select().where(Appointment.code == code).exists():
            return code
    raise ValidationError("预约码生成失败，请重试。")


@dataclass(frozen=True)
class BookingRequest:
    """What a resident typed on the public page."""

    station_code: str
    item_code: str
    day: str
    start: str
    name: str
    phone: str
    home_visit: bool
    address: str


def book(request: BookingRequest, *, now: dt.datetime | None = None) -> Appointment:
    """Book a slot for a resident; raise ValidationError (nothing stored) when it does not fit."""
    station = Station.by_code((request.station_code or "").strip())
    if station is None or not station.active:
        raise NotFound("没有这个服务站，或它暂未开放预约。")
    try:
        day = dt.date.fromisoformat(request.day or "")
    except ValueError as exc:
        raise ValidationError("请选择预约日期。") from exc
    try:
        name, phone, address = rules.check_person(request.name, request.phone, request.home_visit, request.address)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    now = now or china_now()
    with db.atomic():
        bumped = (AppointmentOffer.update(bookings=AppointmentOffer.bookings + 1)
                  .where(AppointmentOffer.station == station).execute())  # queue on the station's offer row
        offer = offer_of(station) if bumped else None
        item = rules.item_named(offer or {}, request.item_code)
        if offer and item is None:
            raise ValidationError("该服务站不接受这个事项的预约，请重新选择事项。")
        phone_index = key_ring.blind_index(phone)
        same_phone = (Appointment.select()
                      .where((Appointment.station == station) & (Appointment.slot_date == day)
                             & (Appointment.slot_start == request.start) & (Appointment.status == "booked")
                             & Appointment.phone_index.in_(key_ring.blind_indexes(phone))).exists())
        problem = rules.slot_problem(offer, day, request.start, now=now, taken=_taken(station, day, request.start),
                                     same_phone=same_phone, home_visit=request.home_visit)
        if problem:
            raise ValidationError(problem)
        time = rules.time_of(offer, request.start)
        appointment = Appointment.create(
            appointment_id=protocol.new_id(), station=station, code=new_code(), slot_date=day,
            slot_start=request.start, slot_end=time["end"], item_code=item["code"], item_name=item["name"],
            name_stored=key_ring.seal(name), phone_stored=key_ring.seal(phone), phone_index=phone_index,
            address_stored=key_ring.seal(address) if address else "", home_visit=request.home_visit,
            status="booked", source="public", created_at=utcnow(), updated_at=utcnow())
        _tell_station(appointment)
    return appointment


def _tell_station(appointment: Appointment, origin_device: int | None = None) -> None:
    """Send the booking down the station's feed; ``origin_device`` (which of its devices sent it) is skipped."""
    payload: dict[str, Any] = {"appointment_id": appointment.appointment_id}
    if origin_device is not None:
        payload["origin_device"] = origin_device
    changes.emit(protocol.CHANGE_APPOINTMENT, payload, station=appointment.station)


def by_code(code: str) -> Appointment:
    """The booking with this code (as typed: look-alike letters read as digits)."""
    appointment = Appointment.get_or_none(Appointment.code == query_codes.normalise(code))
    if appointment is None:
        raise NotFound(NOT_FOUND)
    return appointment


def cancel(code: str, *, now: dt.datetime | None = None) -> Appointment:
    """The resident cancels by the booking's code; only a booking still waiting, before its slot."""
    appointment = by_code(code)
    if appointment.status != "booked":
        raise ValidationError(f"这个预约{rules.STATUSES.get(appointment.status, '')}，不能再取消。")
    now = now or china_now()
    if dt.datetime.combine(appointment.slot_date, dt.time.fromisoformat(appointment.slot_start)) <= now:
        raise ValidationError("预约时段已开始或已过，不能在网上取消；请直接联系服务站。")
    with db.atomic():
        changed = (Appointment.update(status="cancelled", note="居民网上取消", updated_at=utcnow())
                   .where((Appointment.id == appointment.id) & (Appointment.status == "booked")).execute())
        if not changed:
            raise ValidationError("这个预约已有变化，请刷新后再看。")
        _tell_station(appointment)
    return Appointment.get_by_id(appointment.id)


@dataclass(frozen=True)
class BookingView:
    """What the resident's booking page shows: masked, and the case once the station made one."""

    code: str
    station_name: str
    item_name: str
    day: str
    start: str
    end: str
    name: str
    phone: str
    home_visit: bool
    status: str
    status_word: str
    can_cancel: bool
    case_no: str
    case_query_code: str
    case_status: str
    purged: bool = False  # past retention: name and phone stored masked, no address (services/retention.py)


def view(appointment: Appointment, *, now: dt.datetime | None = None) -> BookingView:
    """The booking as its page shows it (name and phone masked, no address; a cleared one as stored)."""
    now = now or china_now()
    case_status = ""
    if appointment.case_id:
        case = HubCase.get_or_none(HubCase.case_id == appointment.case_id)
        case_status = case.status if case is not None else ""
    starts = dt.datetime.combine(appointment.slot_date, dt.time.fromisoformat(appointment.slot_start))
    return BookingView(
        appointment.code, appointment.station.name, appointment.item_name, f"{appointment.slot_date:%Y年%m月%d日}",
        appointment.slot_start, appointment.slot_end, *_masked_person(appointment), appointment.home_visit,
        appointment.status,
        rules.STATUSES.get(appointment.status, appointment.status),
        appointment.status == "booked" and starts > now, appointment.case_no or "",
        appointment.case_query_code or "", case_status, appointment.personal_purged_at is not None)


def _masked_person(appointment: Appointment) -> tuple[str, str]:
    """Name and phone masked; a booking cleared by retention holds them masked already (masking twice blurs them)."""
    name = key_ring.unseal(appointment.name_stored)
    phone = key_ring.unseal(appointment.phone_stored) if appointment.phone_stored else ""
    if appointment.personal_purged_at is not None:
        return name, phone
    return mask_name(name), mask_phone(phone)


# --- the station's side ---------------------------------------------------------------------------

def day_list(station: Station, day: dt.date, *, now: dt.datetime | None = None) -> list[BookingView]:
    """A station's bookings for one day, by time, masked (the county's page of a station's bookings)."""
    return [view(a, now=now) for a in Appointment.select().where((Appointment.station == station)
                                                                 & (Appointment.slot_date == day))
            .order_by(Appointment.slot_start, Appointment.created_at)]


def receive_from_station(station: Station, body: Any, *, device: int = 0) -> dict[str, Any]:
    """Store a station's offer and its bookings (made or changed by its agents); idempotent by id.

    A booking's final state is kept once set, except ``converted`` (the resident came and a case
    exists), which always wins; when the station's copy loses, the station is told the hub's.
    A booking stored or changed is announced to the station's other devices (``device`` sent it).
    """
    if not isinstance(body, dict):
        raise ValidationError("预约数据须为对象。")
    stored = 0
    refused: list[dict[str, str]] = []
    with db.atomic():
        if body.get("offer") is not None:
            publish_offer(station, body["offer"])
        for raw in body.get("bookings") or []:
            try:
                with db.atomic():  # a savepoint: one bad booking sinks nothing else
                    stored += _store_station_booking(station, raw, device)
            except ValidationError as exc:
                refused.append({"appointment_id": str((raw or {}).get("appointment_id") if isinstance(raw, dict)
                                                      else "")[:36], "reason": exc.message})
    return {"stored": stored, "refused": refused}


def _store_station_booking(station: Station, raw: Any, device: int) -> int:
    if not isinstance(raw, dict) or not protocol.is_client_id(raw.get("appointment_id")):
        raise ValidationError("预约记录缺少编号。")
    try:
        day = dt.date.fromisoformat(str(raw.get("slot_date")))
        name, phone, address = rules.check_person(raw.get("name"), raw.get("phone"), bool(raw.get("home_visit")),
                                                  raw.get("address"))
    except ValueError as exc:
        raise ValidationError(f"预约记录不完整：{exc}") from exc
    status = raw.get("status") if raw.get("status") in rules.STATUSES else "booked"
    fields = {"status": status, "note": str(raw.get("note") or "")[:200], "updated_at": utcnow(),
              "case_id": raw.get("case_id") or None, "case_no": raw.get("case_no") or None,
              "case_query_code": raw.get("case_query_code") or None}
    existing = Appointment.get_or_none(Appointment.appointment_id == raw["appointment_id"])
    if existing is not None:
        if existing.station_id != station.id:
            raise ValidationError("预约记录属于其他站点。")
        if existing.status == status and existing.case_id == fields["case_id"]:
            return 0
        if existing.status in rules.FINAL and status != "converted":
            _tell_station(existing)  # the county's state stands; the station learns it
            return 0
        if existing.personal_purged_at is not None:
            fields["note"] = ""  # retention cleared it: the state may move, the note does not come back
        Appointment.update(**fields).where(Appointment.id == existing.id).execute()
        _tell_station(existing, origin_device=device)
        return 1
    code = query_codes.normalise(str(raw.get("code") or "")) or new_code()
    try:
        with db.atomic():
            created = Appointment.create(
                appointment_id=raw["appointment_id"], station=station, code=code, slot_date=day,
                slot_start=str(raw.get("slot_start") or "")[:5], slot_end=str(raw.get("slot_end") or "")[:5],
                item_code=str(raw.get("item_code") or "")[:64], item_name=str(raw.get("item_name") or "")[:200],
                name_stored=key_ring.seal(name), phone_stored=key_ring.seal(phone),
                phone_index=key_ring.blind_index(phone), address_stored=key_ring.seal(address) if address else "",
                home_visit=bool(raw.get("home_visit")), source="station", created_at=utcnow(), **fields)
            _tell_station(created, origin_device=device)
    except IntegrityError as exc:
        raise ValidationError("预约码与已有预约重复，请在服务站重新生成。") from exc
    return 1
