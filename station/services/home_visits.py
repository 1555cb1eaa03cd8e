"""Home visits (上门服务): the record of a visit, the cases taken during it, and its lines in the ledger.

An agent goes to the home of someone old, sick or disabled (often from a booking marked 上门), works
there — offline, perhaps on the station's laptop — and records who went, where, when, for whom,
what was done and how it ended. Cases taken during the visit are linked to it. The resident's
name, phone and address are sealed like a booking's and masked in lists and on paper.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from printouts.data import HomeVisitRow
from rules import events
from rules.labels import HOME_VISIT_OUTCOMES
from rules.privacy import mask_address, mask_name, mask_numbers_in, mask_phone
from station import keys
from station.extensions import db
from station.models import Case, CatalogVersion, HomeVisit, HomeVisitCase, User
from station.services import areas, villages
from station.services.cases import CONFLICT_RESOLUTIONS, conflict_decision, county_person, decided_at
from station.services.errors import DomainError, ValidationFailed
from station.services.identity import IdentityError, check_area_code, check_phone
from sync import protocol
from sync.outbox import OutboxEvent, enqueue
from sync.status import settle_conflict

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class VisitInput:
    """What the visit form holds."""

    visited_on: str
    started_at: str
    ended_at: str
    staff: str
    resident_name: str
    resident_phone: str
    address: str
    purpose: str
    outcome: str
    outcome_note: str = ""
    appointment_id: str = ""
    village_code: str = ""


def record(data: VisitInput, user: User) -> HomeVisit:
    """Record a visit; every problem in the form at once (ValidationFailed), nothing stored then."""
    errors: dict[str, str] = {}
    try:
        day = dt.date.fromisoformat(data.visited_on)
        if day > dt.date.today():
            errors["visited_on"] = "上门日期不能晚于今天（预约的上门请在“预约”中登记）。"
    except ValueError:
        errors["visited_on"] = "请填写上门日期。"
        day = dt.date.today()
    if not _TIME.match(data.started_at or ""):
        errors["started_at"] = "请填写开始时间（如 09:30）。"
    if data.ended_at and (not _TIME.match(data.ended_at) or data.ended_at <= data.started_at):
        errors["ended_at"] = "结束时间须晚于开始时间（如 10:30）。"
    for name, value, words, limit in (("staff", data.staff, "上门人员", 200), ("resident_name", data.resident_name, "服务对象姓名", 40),
                                      ("address", data.address, "上门地址", 200), ("purpose", data.purpose, "办理事项", 1000)):
        if not (value or "").strip():
            errors[name] = f"请填写{words}。"
        elif len(value.strip()) > limit:
            errors[name] = f"{words}不能超过 {limit} 个字。"
    if data.outcome not in HOME_VISIT_OUTCOMES:
        errors["outcome"] = "请选择上门结果。"
    village_code = _village(data.village_code, errors)
    phone = ""
    if (data.resident_phone or "").strip():  # optional; one that can be dialled, as at intake (it prefills the case)
        try:
            phone = check_phone(data.resident_phone)
        except IdentityError as exc:
            errors["resident_phone"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    ring = keys.ring()
    fields = {"visited_on": day.isoformat(), "started_at": data.started_at, "ended_at": data.ended_at or "",
              "staff": data.staff.strip(), "village_code": village_code, "purpose": data.purpose.strip(),
              "outcome": data.outcome, "outcome_note": (data.outcome_note or "").strip()[:1000],
              "appointment_id": data.appointment_id or ""}
    resident = {"name": data.resident_name.strip(), "phone": phone, "address": data.address.strip()}
    with db.atomic("IMMEDIATE"):  # the county hears of the visit exactly when it is saved
        _refuse_recorded_twice(day, data.started_at, resident["name"])
        # what was done and the outcome note are free text, like a staff note: they may name a relative
        free_text = {"purpose": ring.seal(fields["purpose"]),
                     "outcome_note": ring.seal(fields["outcome_note"]) if fields["outcome_note"] else ""}
        visit = HomeVisit.create(
            id=protocol.new_id(), **{**fields, "visited_on": day, **free_text},
            resident_name_stored=ring.seal(resident["name"]),
            resident_phone_stored=ring.seal(resident["phone"]) if resident["phone"] else "",
            address_stored=ring.seal(resident["address"]), created_by=user.name)
        enqueue(visit.id, events.VISIT_RECORDED, {**fields, "resident": resident, "by": user.name},
                catalog_version=_catalog_version())
    return visit


def _refuse_recorded_twice(day: dt.date, started_at: str, resident_name: str) -> None:
    """The same visit saved again (a second click on 保存, the form sent twice from a slow laptop) is
    refused: it would stand twice in the ledger and go to the county twice. One person cannot be
    visited twice starting the same minute, so day, start and resident name (sealed: compared opened) tell —
    whoever of the staff who went saves it."""
    ring = keys.ring()
    for earlier in HomeVisit.select().where((HomeVisit.visited_on == day) & (HomeVisit.started_at == started_at)):
        if ring.unseal(earlier.resident_name_stored) == resident_name:
            raise DomainError(f"{day:%Y-%m-%d} {started_at} 对{mask_name(resident_name)}的上门服务已登记，"
                              "请勿重复保存；请在“上门服务”列表中打开那条记录。")


def _catalog_version() -> str:
    """The envelope needs one; a visit is not taken under an item, so the station's current catalog."""
    catalog = CatalogVersion.current()
    return catalog.version if catalog is not None else "none"


def _village(code: str, errors: dict[str, str]) -> str:
    """The visited village: optional, a checked 12-digit code, one of the station's villages when listed."""
    code = (code or "").strip()
    if not code:
        return ""
    try:
        code = check_area_code(code).value
    except IdentityError as exc:
        errors["village_code"] = str(exc)
        return code
    problem = villages.check_listed(code, villages.station_villages())
    if problem:
        errors["village_code"] = problem
    return code


def get(visit_id: str) -> HomeVisit:
    visit = HomeVisit.get_or_none(HomeVisit.id == visit_id)
    if visit is None:
        raise DomainError("没有这次上门服务的记录。")
    return visit


PURGED = "此次上门服务已过保存期限，服务对象的姓名、电话和地址已清除，不能再在此次上门中收件。"


def check_open_for_cases(visit: HomeVisit) -> None:
    """A visit whose resident retention cleared takes no more cases (DomainError)."""
    if visit.personal_purged_at is not None:
        raise DomainError(PURGED)


def intake_values(visit: HomeVisit) -> dict[str, str]:
    """What the intake form is prefilled with for a case taken during this visit."""
    check_open_for_cases(visit)
    ring = keys.ring()
    return {"applicant_name": ring.unseal(visit.resident_name_stored),
            "applicant_phone": ring.unseal(visit.resident_phone_stored) if visit.resident_phone_stored else "",
            "applicant_address": ring.unseal(visit.address_stored)}


def carry(visit_id: str, case: Case) -> None:
    """Link a case taken during the visit to it, and tell the county (in the caller's transaction, if any)."""
    check_open_for_cases(get(visit_id))
    with db.atomic():
        if HomeVisitCase.select().where(HomeVisitCase.case_id == case.id).exists():
            return  # a case belongs to one visit, told once
        HomeVisitCase.create(visit_id=visit_id, case_id=case.id)
        enqueue(visit_id, events.VISIT_CASE_TAKEN, {"case_id": case.id, "case_no": case.case_no},
                catalog_version=case.catalog_version)


def cases_of(visit: HomeVisit) -> list[Case]:
    ids = [row.case_id for row in HomeVisitCase.select().where(HomeVisitCase.visit_id == visit.id)]
    return list(Case.select().where(Case.id.in_(ids)).order_by(Case.received_at)) if ids else []


def apply_conflict_resolution(visit_id: str, payload: dict[str, Any]) -> HomeVisit | None:
    """The county settled a conflict over one of a visit's events (they queue under the visit's id).

    A visit has no timeline of its own: the settled outbox event keeps the decision and the clerk's
    note (``settle_conflict``'s reason), and the visit's page lists it in its history — so the agent who
    recorded the visit sees whether the county kept its own copy or took the station's. An id that is
    neither a case nor a visit here is settled all the same, without a record to show it on.
    Call inside the pull transaction.
    """
    visit = HomeVisit.get_or_none(HomeVisit.id == visit_id)
    clerk = county_person(payload, "resolved_by")
    message = conflict_decision(payload, "此次上门服务" if visit is not None else "",
                                by=f"县级平台（{clerk}）" if clerk else "县级平台")
    # the county's time, not the pull's: a station restored from a backup, pulling it again, shows the same line
    settle_conflict(str(payload.get("event_id") or ""), str(payload["resolution"]), message,
                    decided_at(payload, "resolved_at"))
    return visit


@dataclass(frozen=True)
class CountyDecision:
    """A conflict over one of the visit's events, as the county settled it."""

    at: dt.datetime | None
    message: str


def county_decisions(visit: HomeVisit) -> list[CountyDecision]:
    """The county's settlements of this visit's conflicts, oldest first (for the visit's history).

    One settled before this release kept only the decision (its reason is still the conflict's, and no
    ``acked_at``): the label is shown from the decision, and the note said missing rather than guessed.
    """
    settled = (OutboxEvent.select().where((OutboxEvent.case_id == visit.id) & (OutboxEvent.result == "resolved"))
               .order_by(OutboxEvent.seq))
    return [CountyDecision(event.acked_at, event.reason) if event.acked_at is not None else _settled_earlier(event)
            for event in settled]


def _settled_earlier(event: OutboxEvent) -> CountyDecision:
    label = CONFLICT_RESOLUTIONS.get(event.result_code, "已处理")
    return CountyDecision(None, f"县级平台核对了同步冲突：{label}（县级的处理说明未在本站保存）。")


@dataclass(frozen=True)
class VisitLine:
    """A visit as a list shows it: masked."""

    id: str
    visited_on: dt.date
    time: str
    staff: str
    resident: str
    phone: str
    address: str
    purpose: str
    outcome: str
    case_numbers: tuple[str, ...]
    village: str = ""
    outcome_note: str = ""


def _line(visit: HomeVisit) -> VisitLine:
    ring = keys.ring()
    return VisitLine(visit.id, visit.visited_on, visit.started_at + (f"–{visit.ended_at}" if visit.ended_at else ""),
                     visit.staff, mask_name(ring.unseal(visit.resident_name_stored)),
                     mask_phone(ring.unseal(visit.resident_phone_stored)) if visit.resident_phone_stored else "",
                     mask_address(ring.unseal(visit.address_stored)), mask_numbers_in(visit.purpose),
                     HOME_VISIT_OUTCOMES.get(visit.outcome, visit.outcome), tuple(c.case_no for c in cases_of(visit)),
                     areas.name_of(visit.village_code) if visit.village_code else "",
                     mask_numbers_in(visit.outcome_note or ""))  # free text may carry a relative's phone


def recent(limit: int = 100) -> list[VisitLine]:
    """The newest visits first, masked."""
    return [_line(v) for v in HomeVisit.select().order_by(HomeVisit.visited_on.desc(), HomeVisit.started_at.desc())
            .limit(limit)]


def line(visit: HomeVisit) -> VisitLine:
    return _line(visit)


def ledger_rows(day: dt.date, end: dt.date | None = None) -> list[HomeVisitRow]:
    """The visits of `day` (or `day`–`end`) for the 台账, oldest first, villages by name.

    Full name, phone and address: the builders mask them (the printout, the .xlsx and the CSV alike).
    """
    ring = keys.ring()
    known = areas.names()
    visits = (HomeVisit.select().where(HomeVisit.visited_on.between(day, end or day))
              .order_by(HomeVisit.visited_on, HomeVisit.started_at, HomeVisit.id))
    return [HomeVisitRow(time=v.started_at + (f"–{v.ended_at}" if v.ended_at else ""), staff=v.staff,
                         resident_name=ring.unseal(v.resident_name_stored), address=ring.unseal(v.address_stored),
                         purpose=v.purpose, outcome=HOME_VISIT_OUTCOMES.get(v.outcome, v.outcome),
                         case_numbers=tuple(c.case_no for c in cases_of(v)), visited_on=v.visited_on,
                         village=areas.name_of(v.village_code, known) if v.village_code else "",
                         resident_phone=ring.unseal(v.resident_phone_stored) if v.resident_phone_stored else "")
            for v in visits]
