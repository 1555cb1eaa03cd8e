"""A case after intake, to its end at the station (issue 19): the answer to a 补正, deferred
(容缺) materials arriving, and the result handed over (送达).

Each action checks the case's state, changes the case, writes the timeline and queues its one
event in the same transaction, so a refused action changes nothing and an accepted one always
reaches the county.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from rules import events
from rules.labels import COLLECTOR_KINDS, PICKUP_METHODS, SUPPLY_FORMS
from rules.privacy import mask_id_number
from rules.workdays import WorkCalendar
from station.extensions import db
from station.models import Attachment, Case, CaseMaterial, HomeVisit, TimelineEntry, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import home_visits, personal, time_lines, timeline
from station.services.calendar import deferral_late
from station.services.cases import decided_at, material_rows, materials
from station.services.errors import DomainError, ValidationFailed
from station.services.identity import CERTIFICATE_TYPES, IdentityError, check_certificate
from sync.outbox import enqueue

#: A deferred material due within this many working days is listed as due soon (issue 19).
DUE_SOON_WORKING_DAYS = 3

_NOTE_MAX = 200


def _enqueue(case: Case, kind: str, payload: dict[str, Any]) -> None:
    enqueue(case.id, kind, payload, catalog_version=case.catalog_version, deadline=case.committed_due)


# --- 补正 ---------------------------------------------------------------------------------------

def requested_materials(case: Case) -> list[CaseMaterial]:
    """The materials the county's 补正 names, in the case's order.

    Matched by key; an older hub sent names only, so a name matches too.
    """
    keys = set(case.supplement_keys or [])
    names = set(case.supplement_items or [])
    return [m for m in materials(case) if m.key in keys or m.name in names]


def awaiting_supplement(case: Case) -> bool:
    """The county asked for a 补正 and the station has not answered this request yet."""
    return case.status == "supplement" and case.supplemented_at is None


@dataclass(frozen=True)
class SuppliedMaterial:
    """What the resident brought for one requested material."""

    key: str
    supplied_as: str  # a key of rules.labels.SUPPLY_FORMS
    note: str = ""  # the reason, for 不适用


def submit_supplement(case: Case, user: User, answers: list[SuppliedMaterial], note: str = "") -> list[CaseMaterial]:
    """Record what the resident brought for a 补正 and send it as one ``case.supplemented`` event.

    Every requested material needs an answer; 不适用 needs a reason; 已上传扫描件 needs a scan on
    the case. A case not waiting for a 补正 answer is refused with nothing changed.
    """
    if case.status != "supplement":
        raise DomainError(f"办件当前状态为“{case.status_name}”，不在待补正状态，不能提交补正。")
    if case.supplemented_at is not None:
        raise DomainError("本次补正材料已提交，正等待县级审核，不能重复提交。")
    note = (note or "").strip()
    if len(note) > _NOTE_MAX:
        raise ValidationFailed({"note": f"补正说明最多{_NOTE_MAX}字。"})
    requested = requested_materials(case)
    given = {a.key: a for a in answers}
    has_scan = Attachment.select().where(Attachment.case == case).exists()
    errors: dict[str, str] = {}
    for m in requested:
        answer = given.get(m.key)
        name = f"supplied__{m.key}"
        if answer is None or answer.supplied_as not in SUPPLY_FORMS:
            errors[name] = f"请选择“{m.name}”的补正情况。"
        elif answer.supplied_as == "not_applicable" and not answer.note.strip():
            errors[f"{name}__note"] = f"“{m.name}”选择不适用时，请填写理由。"
        elif answer.supplied_as == "not_applicable" and len(answer.note.strip()) > _NOTE_MAX:
            errors[f"{name}__note"] = f"理由最多{_NOTE_MAX}字。"
        elif answer.supplied_as == "scan" and not has_scan:
            errors[name] = f"“{m.name}”选择已上传扫描件，但本办件还没有扫描件，请先上传。"
    if not requested and not note:
        errors["note"] = "县级未列出具体材料，请填写补正说明（补充了什么）。"
    if errors:
        raise ValidationFailed(errors)
    at = now()
    supplied = []
    with db.atomic("IMMEDIATE"):
        for m in requested:
            answer = given[m.key]
            m.status = "not_applicable" if answer.supplied_as == "not_applicable" else "provided"
            m.supplied_as = answer.supplied_as
            m.supplied_note = answer.note.strip() if answer.supplied_as == "not_applicable" else ""
            m.due_date = None
            m.received_at = at
            m.save()
            supplied.append({"key": m.key, "name": m.name, "supplied_as": m.supplied_as,
                             "note": m.supplied_note or None})
        case.supplemented_at = at
        case.updated_at = at
        time_lines.resume(case, supplement_requested_at(case), at)  # 补正 time is not counted (A.7)
        case.save()
        words = "、".join(f"{s['name']}（{SUPPLY_FORMS[s['supplied_as']]}）" for s in supplied)
        timeline.record(case, timeline.actor_of(user), "supplemented",
                        "提交补正材料" + (f"：{words}" if words else "") + (f"；说明：{note}" if note else ""),
                        {"supplied": supplied, "note": note})
        payload: dict[str, Any] = {"supplied": supplied, "materials": material_rows(case), "by": user.username,
                                   "supplied_at": at.astimezone().isoformat()}
        if note:
            payload["note"] = note
        _enqueue(case, events.SUPPLEMENTED, payload)
    return requested


# --- 容缺 ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueMaterial:
    """A deferred material on the 容缺 list: overdue, or due within DUE_SOON_WORKING_DAYS."""

    material: CaseMaterial
    case: Case
    overdue: bool
    working_days_left: int


def _deferred_due_query(today: dt.date, calendar: WorkCalendar, agent: User | None) -> Any:
    horizon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS).due
    query = (CaseMaterial.select(CaseMaterial, Case).join(Case)
             .where((CaseMaterial.status == "deferred") & (CaseMaterial.due_date <= horizon)
                    & (Case.status.in_(OPEN_STATUSES)))
             .order_by(CaseMaterial.due_date, Case.received_at))
    if agent is not None:
        query = query.where(Case.agent == agent)
    return query


def deferred_due(today: dt.date, calendar: WorkCalendar, agent: User | None = None,
                 limit: int | None = None) -> list[DueMaterial]:
    """Deferred materials of open cases that are overdue or due within 3 working days, soonest first.

    ``agent``: only that agent's cases (her to-do); None: the whole station's. ``limit``: only the
    soonest that many (the home page; the 容缺 page lists them all).
    """
    query = _deferred_due_query(today, calendar, agent)
    if limit is not None:
        query = query.limit(limit)
    return [DueMaterial(material=m, case=m.case, overdue=deferral_late(m.due_date, today, calendar),
                        working_days_left=calendar.working_days_between(today, m.due_date))
            for m in query]


def record_arrival(case: Case, user: User, material_id: int, supplied_as: str = "original_seen",
                   at: dt.datetime | None = None) -> CaseMaterial:
    """A deferred material was handed in: mark it provided and send the materials to the county.

    When the last deferred material of a 容缺收件 case arrives, the case is 已收件 like any other.
    """
    if supplied_as not in SUPPLY_FORMS or supplied_as == "not_applicable":
        raise DomainError("请选择补交材料的形式（原件已核验、复印件或已上传扫描件）。")
    material = CaseMaterial.get_or_none((CaseMaterial.id == material_id) & (CaseMaterial.case == case))
    if material is None:
        raise DomainError("该办件没有这项材料。")
    if material.status != "deferred":
        raise DomainError(f"“{material.name}”不是待补交的容缺材料（当前：{material.status_name}），不能登记补交。")
    if case.status not in OPEN_STATUSES:
        raise DomainError(f"办件当前状态为“{case.status_name}”，已不能登记补交材料。")
    if supplied_as == "scan" and not Attachment.select().where(Attachment.case == case).exists():
        raise DomainError("本办件还没有扫描件，请先上传扫描件再登记。")
    at = at or now()  # a later time only when entering an arrival recorded on paper (and the demo)
    with db.atomic("IMMEDIATE"):
        due = material.due_date
        material.status = "provided"
        material.supplied_as = supplied_as
        material.received_at = at
        material.save()
        message = f"容缺材料已补交：{material.name}（{SUPPLY_FORMS[supplied_as]}）"
        if due is not None and at.date() > due:
            message += f"，晚于约定日期 {due.isoformat()}"
        if case.status == "deferred" and not CaseMaterial.select().where(
                (CaseMaterial.case == case) & (CaseMaterial.status == "deferred")).exists():
            case.status = "collected"
            message += "；容缺材料已全部补齐"
        case.updated_at = at
        case.save()
        timeline.record(case, timeline.actor_of(user), "material_arrived", message,
                        {"key": material.key, "due_date": due.isoformat() if due else None})
        _enqueue(case, events.MATERIALS_UPDATED, {"materials": material_rows(case), "arrived": [material.key]})
    return material


# --- 送达 ---------------------------------------------------------------------------------------

_EMS = re.compile(r"^(?:[A-Z]{2}\d{9}[A-Z]{2}|\d{13})$")


@dataclass
class HandoverInput:
    """The handover form: which fields matter depends on ``method`` (a key of PICKUP_METHODS)."""

    method: str
    collector_kind: str = ""  # window: applicant / authorised
    collector_name: str = ""
    collector_cert_type: str = "111"
    collector_id_number: str = ""
    collector_relation: str = ""
    authorization_checked: bool = False
    ems_no: str = ""
    address: str = ""
    date: str = ""  # posted (post) or handed over (hand)
    receiver: str = ""
    errors: dict[str, str] = field(default_factory=dict)


_NAME_MAX = 40
_ADDRESS_MAX = 200


def _parse_day(raw: str, today: dt.date, name: str, errors: dict[str, str], what: str,
               decided: dt.date | None) -> dt.date | None:
    """The day typed on the handover form: not after today, and not before the county's decision —
    a result cannot leave the station before it exists, and the county counts its days from this one."""
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        errors[name] = f"请填写{what}（如 {today.isoformat()}）。"
        return None
    if day > today:
        errors[name] = f"{what}不能晚于今天。"
        return None
    if decided is not None and day < decided:
        errors[name] = f"{what}不能早于办结日期 {decided.isoformat()}。"
        return None
    return day


def _too_long(value: str, limit: int, name: str, errors: dict[str, str], what: str) -> None:
    """A name or address longer than its column is refused, not cut short on the 送达回证 unseen."""
    if len(value) > limit:
        errors.setdefault(name, f"{what}最多{limit}字（现有{len(value)}字）。")


def record_handover(case: Case, user: User, data: HandoverInput, today: dt.date | None = None) -> Case:
    """Record how the result reached the resident; the case becomes 已送达 and the county is told.

    A window pickup checks the collector's ID (the applicant's own number, or an authorised
    person with a checked 委托书); the number is stored sealed and sent to the county masked.
    """
    today = today or dt.date.today()
    decided = case.closed_at.date() if case.closed_at else None
    if case.status == "delivered":
        when = case.delivered_at.strftime("%Y-%m-%d") if case.delivered_at else ""
        raise DomainError(f"该办件的结果已于 {when} 送达，不能重复登记。")
    if case.status != "completed":
        raise DomainError(f"办件当前状态为“{case.status_name}”，尚无办理结果可送达。")
    if data.method not in PICKUP_METHODS:
        raise ValidationFailed({"method": "请选择送达方式。"})
    errors: dict[str, str] = {}
    record: dict[str, Any] = {"method": data.method}
    payload: dict[str, Any] = {"method": data.method, "by": user.username}
    sealed_id = ""
    if data.method == "window":
        day = today
        if data.collector_kind not in COLLECTOR_KINDS:
            errors["collector_kind"] = "请选择领取人是申请人本人还是受委托人。"
        name = (data.collector_name or "").strip()
        if data.collector_kind == "applicant":
            name = name or case.applicant_name
        if not name:
            errors["collector_name"] = "请填写领取人姓名。"
        _too_long((data.collector_name or "").strip(), _NAME_MAX, "collector_name", errors, "领取人姓名")
        _too_long((data.collector_relation or "").strip(), _NAME_MAX, "collector_relation", errors, "与申请人关系")
        number = ""
        try:
            number = check_certificate(data.collector_cert_type, data.collector_id_number).value
        except IdentityError as exc:
            errors["collector_id_number"] = f"领取人证件：{exc.message}"
        if number and data.collector_kind == "applicant" and number != personal.applicant_id_number(case):
            errors["collector_id_number"] = "领取人证件号码与申请人不一致；他人代领请选择“受委托人”并查验委托书。"
        if data.collector_kind == "authorised":
            if not (data.collector_relation or "").strip():
                errors["collector_relation"] = "请填写受委托人与申请人的关系。"
            if not data.authorization_checked:
                errors["authorization_checked"] = "受委托人领取须查验申请人签署的委托书。"
        if not errors:
            sealed_id = personal.seal(number)
            collector = {"kind": data.collector_kind, "name": name, "cert_type": data.collector_cert_type,
                         "relation": (data.collector_relation or "").strip() or None}
            record["collector"] = collector
            payload["collector"] = {**collector, "id_masked": mask_id_number(number)}
    elif data.method == "post":
        ems = (data.ems_no or "").strip().upper().replace(" ", "")
        if not _EMS.match(ems):
            errors["ems_no"] = "EMS 邮件号应为13位（如 EA123456789CN 或13位数字），请对照面单核对。"
        address = (data.address or "").strip() or personal.applicant_address(case)  # the column holds it sealed
        if not address:
            errors["address"] = "请填写邮寄地址。"
        _too_long(address, _ADDRESS_MAX, "address", errors, "邮寄地址")
        day = _parse_day(data.date, today, "date", errors, "寄出日期", decided)
        record.update(ems_no=ems, address=address)
        payload.update(ems_no=ems, address=address)
    else:  # hand
        receiver = (data.receiver or "").strip()
        if not receiver:
            errors["receiver"] = "请填写签收人姓名。"
        _too_long(receiver, _NAME_MAX, "receiver", errors, "签收人姓名")
        day = _parse_day(data.date, today, "date", errors, "送达日期", decided)
        record["receiver"] = receiver
        payload["receiver"] = receiver
    if errors:
        raise ValidationFailed(errors)
    record["delivered_on"] = payload["delivered_on"] = day.isoformat()
    at = now()
    with db.atomic("IMMEDIATE"):
        fresh = Case.get_by_id(case.id)  # re-read under the write lock: two desks, one result
        if fresh.status != "completed":
            raise DomainError("该办件的结果刚被登记为已送达，不能重复登记。")
        case.status = "delivered"
        case.delivered_at = at
        case.delivery = record
        case.collector_id_stored = sealed_id
        case.updated_at = at
        case.save()
        timeline.record(case, timeline.actor_of(user), "delivered", "办理结果已送达：" + handover_summary(case))
        _enqueue(case, events.DELIVERED, payload)
    return case


def last_supplement_note(case: Case) -> str:
    """The agent's note on the latest 补正 answer (kept on the timeline entry), for the receipt."""
    entry = (TimelineEntry.select().where((TimelineEntry.case == case) & (TimelineEntry.action == "supplemented"))
             .order_by(TimelineEntry.id.desc()).first())
    return str((entry.data or {}).get("note") or "") if entry else ""


def supplement_requested_at(case: Case) -> dt.datetime | None:
    """When the county asked for the latest 补正 (its own decision time, carried on the timeline entry), for the
    补正通知 to say when the department asked; None if it never did."""
    entry = (TimelineEntry.select().where((TimelineEntry.case == case) & (TimelineEntry.action == "county_supplement"))
             .order_by(TimelineEntry.id.desc()).first())
    if entry is None:
        return None
    payload = (entry.data or {}).get("payload") or {}
    return decided_at(payload) if payload.get("decided_at") else entry.at


def handover_summary(case: Case) -> str:
    """One line saying how the result was handed over, for the timeline and the case page."""
    d = case.delivery or {}
    method = PICKUP_METHODS.get(d.get("method", ""), "")
    if d.get("method") == "window":
        c = d.get("collector") or {}
        who = f"{COLLECTOR_KINDS.get(c.get('kind', ''), '')}{c.get('name', '')}"
        if c.get("relation"):
            who += f"（{c['relation']}）"
        number = personal.collector_id_number(case)
        cert = CERTIFICATE_TYPES.get(c.get("cert_type", ""), "证件")
        return f"{method}，{d.get('delivered_on', '')} 由{who}领取，已核验{cert} {mask_id_number(number)}"
    if d.get("method") == "post":
        return f"{method}，{d.get('delivered_on', '')} 寄出，EMS {d.get('ems_no', '')}，寄至 {d.get('address', '')}"
    if d.get("method") == "hand":
        return f"{method}，{d.get('delivered_on', '')} 由{d.get('receiver', '')}签收"
    return ""


# --- 待办 ---------------------------------------------------------------------------------------

#: How many entries of each to-do list the home page shows; the heading gives the full count and
#: links to the whole list. A station with years of cases may hold tens of thousands of results
#: waiting for handover: building every one of them for the home page cost ~50 MB and seconds.
TODO_SHOWN = 20


@dataclass
class ToDo:
    """What is waiting on the station (or on one agent): the home page's lists, the first TODO_SHOWN of each."""

    supplements: list[Case]  # 补正 to answer
    deferred: list[DueMaterial]  # 容缺 due soon or overdue
    handovers: list[Case]  # results to hand over
    set_aside: list[Case]  # cases sync set aside (an event the county refused)
    # the station's home visits sync set aside (the station's to-do only: a visit is no one agent's case);
    # the "set_aside" count holds both, as the home page's 同步被退回 figure does
    set_aside_visits: list[home_visits.VisitLine] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # each list's full length (the lists are cut)

    def count(self, name: str) -> int:
        """How many entries the list ``name`` has in all (its shown part when no count was given)."""
        return self.counts.get(name, len(getattr(self, name)))

    @property
    def total(self) -> int:
        return sum(self.count(name) for name in ("supplements", "deferred", "handovers", "set_aside"))


def todo(today: dt.date, calendar: WorkCalendar, agent: User | None, set_aside_case_ids: list[str],
         shown: int | None = None) -> ToDo:
    """The to-do lists; ``agent`` narrows them to her own cases, None gives the station's.

    Each list holds at most ``shown`` entries (the oldest first) and ``counts`` the full numbers:
    the home page never builds every case of a long list. ``shown`` defaults to TODO_SHOWN.
    """
    shown = shown or TODO_SHOWN
    def mine(query):  # noqa: ANN001, ANN202 - a Case query
        return query.where(Case.agent == agent) if agent is not None else query

    supplements = mine(Case.select().where((Case.status == "supplement") & Case.supplemented_at.is_null())
                       .order_by(Case.updated_at))
    handovers = mine(Case.select().where(Case.status == "completed").order_by(Case.closed_at))
    set_aside = mine(Case.select().where(Case.id.in_(set_aside_case_ids)).order_by(Case.received_at)) \
        if set_aside_case_ids else None
    visits = _held_back_visits(set_aside_case_ids) if agent is None and set_aside_case_ids else None
    counts = {"supplements": supplements.count(), "handovers": handovers.count(),
              "deferred": _deferred_due_query(today, calendar, agent).count(),
              "set_aside": (set_aside.count() if set_aside is not None else 0)
              + (visits.count() if visits is not None else 0)}
    return ToDo(supplements=list(supplements.limit(shown)), deferred=deferred_due(today, calendar, agent, shown),
                handovers=list(handovers.limit(shown)),
                set_aside=list(set_aside.limit(shown)) if set_aside is not None else [],
                set_aside_visits=[home_visits.line(v) for v in visits.limit(shown)] if visits is not None else [],
                counts=counts)


def _held_back_visits(set_aside_case_ids: list[str]):  # noqa: ANN202 - a HomeVisit query
    # a home visit's events queue under the visit's id, beside the cases' (rules/events.py VISIT_KINDS)
    return (HomeVisit.select().where(HomeVisit.id.in_(set_aside_case_ids))
            .order_by(HomeVisit.visited_on, HomeVisit.started_at))


def held_back_count(set_aside_case_ids: list[str]) -> int:
    """How many cases and home visits sync holds back (a set-aside event each): the home page's 同步被退回,
    the same records the station's to-do lists — not the events, which one case may have several of."""
    if not set_aside_case_ids:
        return 0
    return (Case.select().where(Case.id.in_(set_aside_case_ids)).count()
            + _held_back_visits(set_aside_case_ids).count())
