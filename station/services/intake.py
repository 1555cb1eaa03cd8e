"""Intake (帮办 / 代办): checking what the agent typed and deciding what happens to the application.

The decision follows DESIGN.md "Intake": every essential material present → collected (or
accepted where the station holds the power); an essential material missing → not collected,
with everything missing listed at once; a deferrable material missing → 容缺 with a due date
no later than the committed limit; a commitment or an electronic licence stands in for a proof.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

from rules import events, form_fields
from rules.labels import INTAKE_MATERIAL_STATUSES, PICKUP_METHODS
from rules.workdays import WEEKDAY_NAMES, Deadline, WorkCalendar
from station.extensions import db
from station.models import Case, CaseMaterial, CatalogVersion, ServiceItem, TimelineEntry, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import (
    appointments,
    case_deadlines,
    home_visits,
    identity,
    licence_checks,
    material_library,
    numbering,
    personal,
    time_lines,
    timeline,
    villages,
)
from station.services.calendar import load_calendar
from station.services.cases import snapshot
from station.services.catalog import (
    MergedMaterial,
    bundle_products,
    materials_of,
    merge_materials,
    station_can_accept,
)
from station.services.errors import DomainError, ValidationFailed
from station.services.station_info import get_profile
from sync.outbox import enqueue
from sync.restore import restore_pending

RESTORE_PENDING_MESSAGE = "恢复备份后需先与县级平台同步一次，才能受理新的办件：请到“同步”页点“立即同步”。"

DECISIONS = {
    "collected": "材料齐全，予以收件",
    "accepted": "材料齐全，予以受理",
    "deferred": "容缺收件，后补材料",
    "not_collected": "缺少必要材料，不予收件，一次性告知",
}
MAX_TEXT = 200


@dataclass
class MaterialChoice:
    key: str
    status: str
    due_date: dt.date | None = None
    e_license_no: str = ""
    # 只提交一次 (services.material_library): the kept material reused and what the line relied on
    reused_from: str = ""
    origin: dict[str, Any] = field(default_factory=dict)
    valid_until: dt.date | None = None
    reason: str = ""  # why 不适用 (a conditional material that does not apply to this resident)


@dataclass
class IntakeDraft:
    """What the agent typed, checked and normalised; ready to be saved."""

    mode: str
    applicant_kind: str
    applicant_name: str
    applicant_cert_type: str
    applicant_id_number: str
    applicant_phone: str
    applicant_address: str
    applicant_area_code: str
    proxy_name: str = ""
    proxy_cert_type: str = ""
    proxy_id_number: str = ""
    proxy_phone: str = ""
    proxy_relation: str = ""
    authorization_signed: bool = False
    pickup_method: str = "window"
    form_values: dict[str, str] = field(default_factory=dict)
    materials: dict[str, MaterialChoice] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    library_consent: bool = False  # she consents to keep her verified materials (material_library)


class DuplicateSuspected(DomainError):
    """The same applicant already has an open case for the same item."""

    def __init__(self, cases: list[Case]) -> None:
        super().__init__("该申请人已有同一事项的在办办件，可能重复申请。")
        self.cases = cases


def _text(raw: Mapping[str, str], key: str) -> str:
    return (raw.get(key) or "").strip()


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def deferral_limit(items: list[ServiceItem], today: dt.date, calendar: WorkCalendar) -> dt.date | None:
    """The latest due date a deferred material may get: the earliest committed deadline of `items`.

    DOMAIN.md: a 容缺 due date may not exceed the item's committed limit. An item with no
    committed days (即办件) leaves no room for 容缺, so the answer is None.
    """
    deadline = deferral_deadline(items, today, calendar)
    return deadline.due if deadline else None


def deferral_deadline(items: list[ServiceItem], today: dt.date, calendar: WorkCalendar) -> Deadline | None:
    """The 容缺 limit as a Deadline, so the form can mark it 暂定 like every provisional date."""
    limits = []
    for item in items:
        if not item.committed_value:
            return None
        limits.append(calendar.deadline_for(today, item.committed_value, item.committed_unit))
    return min(limits, key=lambda d: d.due) if limits else None


def rest_day_words(name: str, due: dt.date, calendar: WorkCalendar) -> str:
    """Tell the agent a 容缺 date she picked is a rest day; not refused (民法典 §203 moves it on), but the
    resident told "by Saturday" would come to a closed station."""
    end = calendar.period_end(due)
    return (f"“{name}”的补交日期 {due.isoformat()} 是{calendar.rest_day_name(due)}，站点不办公；"
            f"按民法典第二百零三条顺延至 {end.isoformat()}（{WEEKDAY_NAMES[end.weekday()]}），请告知申请人在工作日来站补交。")


def rest_days_until(today: dt.date, last: dt.date, calendar: WorkCalendar) -> dict[str, str]:
    """The rest days a 容缺 date input may be set to, each with what the form says if it is picked."""
    days = {}
    day = today
    while day <= last:
        if not calendar.is_workday(day):
            end = calendar.period_end(day)
            days[day.isoformat()] = (f"该日是{calendar.rest_day_name(day)}，站点不办公；按民法典第二百零三条顺延至 "
                                     f"{end.isoformat()}（{WEEKDAY_NAMES[end.weekday()]}）。")
        day += dt.timedelta(days=1)
    return days


def provisional_deferral_limits(materials: list[MergedMaterial], today: dt.date, calendar: WorkCalendar) -> set[str]:
    """The merged materials whose latest 容缺 date was counted through a year without holiday data."""
    provisional = set()
    for m in materials:
        if m.deferrable:
            deadline = deferral_deadline(m.items, today, calendar)
            if deadline and deadline.provisional:
                provisional.add(m.key)
    return provisional


def material_deferral_limits(materials: list[MergedMaterial], today: dt.date,
                             calendar: WorkCalendar) -> dict[str, dt.date | None]:
    """Per merged material, the latest 容缺 date (None where 容缺 does not apply)."""
    return {m.key: deferral_limit(m.items, today, calendar) for m in materials if m.deferrable}


def check_input(
    items: list[ServiceItem], raw: Mapping[str, str], today: dt.date, calendar: WorkCalendar | None = None
) -> IntakeDraft:
    """Check the whole form at once and return every fault in one go (a slow typist fixes all at once)."""
    calendar = calendar or load_calendar()
    errors: dict[str, str] = {}
    warnings: list[str] = []

    mode = _text(raw, "mode")
    if mode not in ("assisted", "proxy"):
        errors["mode"] = "请选择办理方式：帮办或代办。"
    if mode == "proxy":
        refused = [item.name for item in items if not item.proxy_allowed]
        if refused:
            errors["mode"] = "以下事项须本人到场办理，不能代办：" + "、".join(refused)

    kind = _text(raw, "applicant_kind") or "person"
    if kind not in ("person", "enterprise"):
        errors["applicant_kind"] = "申请人类型只能是个人或单位。"
    name = _text(raw, "applicant_name")
    if not name:
        errors["applicant_name"] = "请填写申请人姓名（单位名称）。"
    elif len(name) > 100:
        errors["applicant_name"] = "姓名（名称）最多100个字。"

    cert_type = _text(raw, "applicant_cert_type") or ("uscc" if kind == "enterprise" else "111")
    number = ""
    try:
        if kind == "enterprise":
            cert_type = "uscc"
            checked = identity.check_uscc(_text(raw, "applicant_id_number"))
        else:
            if cert_type not in identity.CERTIFICATE_TYPES:
                raise identity.IdentityError("请选择证件类型。")
            checked = identity.check_certificate(cert_type, _text(raw, "applicant_id_number"))
        number = checked.value
        warnings.extend(checked.warnings)
    except identity.IdentityError as exc:
        errors["applicant_id_number"] = str(exc)

    phone = ""
    try:
        phone = identity.check_phone(_text(raw, "applicant_phone"))
    except identity.IdentityError as exc:
        errors["applicant_phone"] = str(exc)

    address = _text(raw, "applicant_address")
    if not address:
        errors["applicant_address"] = "请填写住址（到村、组、门牌）。"
    elif len(address) > MAX_TEXT:
        errors["applicant_address"] = f"住址最多{MAX_TEXT}个字。"

    area_code = _check_village(_text(raw, "applicant_area_code"), warnings, errors)

    draft = IntakeDraft(
        mode=mode, applicant_kind=kind, applicant_name=name, applicant_cert_type=cert_type,
        applicant_id_number=number, applicant_phone=phone, applicant_address=address,
        applicant_area_code=area_code,
    )

    if mode == "proxy":
        draft.proxy_name = _text(raw, "proxy_name")
        if not draft.proxy_name:
            errors["proxy_name"] = "代办须填写代办人姓名。"
        draft.proxy_cert_type = "111"
        try:
            draft.proxy_id_number = identity.check_resident_id(_text(raw, "proxy_id_number")).value
        except identity.IdentityError as exc:
            errors["proxy_id_number"] = "代办人" + str(exc)
        try:
            draft.proxy_phone = identity.check_phone(_text(raw, "proxy_phone"))
        except identity.IdentityError as exc:
            errors["proxy_phone"] = "代办人" + str(exc)
        draft.proxy_relation = _text(raw, "proxy_relation")[:40] or "村代办员"
        authorization = _text(raw, "authorization")
        if authorization not in ("signed", "print"):
            errors["authorization"] = "代办须有申请人签署的委托书：请选择“已签署”或“保存后打印签署”。"
        draft.authorization_signed = authorization == "signed"
        if draft.proxy_id_number and draft.proxy_id_number == number:
            errors["proxy_id_number"] = "代办人不能是申请人本人；本人办理请选择“帮办”。"

    pickup = _text(raw, "pickup_method") or "window"
    if pickup not in PICKUP_METHODS:
        errors["pickup_method"] = "请选择结果领取方式。"
    draft.pickup_method = pickup

    field_lists = [item.form_fields or [] for item in items]
    answers = {spec["name"]: _text(raw, f"field__{spec['name']}") for fields in field_lists for spec in fields}
    draft.form_values, field_errors = form_fields.check_answers(field_lists, answers, today)
    errors.update({f"field__{name}": message for name, message in field_errors.items()})

    merged = merge_materials(items)
    limits = material_deferral_limits(merged, today, calendar)  # only the items asking for a material bound it
    for m in merged:
        if m.produced_by is not None:
            draft.materials[m.key] = MaterialChoice(key=m.key, status="in_bundle")
            continue
        draft.materials[m.key] = _material_choice(m, raw, number, today, limits.get(m.key), errors)
        due = draft.materials[m.key].due_date
        if due is not None and not calendar.is_workday(due):
            warnings.append(rest_day_words(m.name, due, calendar))
    draft.library_consent = material_library.consent_ticked(raw)

    if errors:
        raise ValidationFailed(errors)
    draft.warnings = warnings
    return draft


def _check_village(area_code: str, warnings: list[str], errors: dict[str, str]) -> str:
    """The applicant's village: a checked 12-digit code, and one of the station's villages when the
    admin set a list (the form then offers only those, so another code is a tampered form)."""
    try:
        checked_area = identity.check_area_code(area_code)
    except identity.IdentityError as exc:
        errors["applicant_area_code"] = str(exc)
        return area_code
    problem = villages.check_listed(checked_area.value, villages.station_villages())
    if problem:
        errors["applicant_area_code"] = problem
    warnings.extend(checked_area.warnings)
    return checked_area.value


def _material_choice(m: MergedMaterial, raw: Mapping[str, str], id_number: str, today: dt.date,
                     limit: dt.date | None, errors: dict[str, str]) -> MaterialChoice:
    """One checklist line: reused from her material library, satisfied by a county licence, or checked here."""
    status = _text(raw, f"mat__{m.key}__status")
    if status == material_library.REUSED:
        reuse = material_library.reuse_choice(m.key, m.name, raw, id_number, today, errors)
        if reuse is None:
            return MaterialChoice(key=m.key, status="missing")
        return MaterialChoice(key=m.key, status="provided", **reuse)
    if status == licence_checks.LICENSED:
        licence = licence_checks.licence_choice(m.key, m.name, m.e_license, raw, id_number, today, errors)
        if licence is None:
            return MaterialChoice(key=m.key, status="missing")
        return MaterialChoice(key=m.key, status="e_license", **licence)
    choice = _check_material(m, raw, today, limit, errors)
    if choice.status == "provided":
        choice.valid_until = material_library.typed_validity(m.key, m.name, raw, today, errors)
    return choice


def _check_material(
    m: MergedMaterial, raw: Mapping[str, str], today: dt.date, limit: dt.date | None, errors: dict[str, str]
) -> MaterialChoice:
    prefix = f"mat__{m.key}"
    status = _text(raw, f"{prefix}__status")
    choice = MaterialChoice(key=m.key, status=status)
    if status not in INTAKE_MATERIAL_STATUSES:
        errors[f"{prefix}__status"] = f"请选择“{m.name}”的情况。"
    elif status == "deferred":
        if not m.deferrable:
            errors[f"{prefix}__status"] = f"“{m.name}”不在容缺受理范围内。"
        else:
            due = _parse_date(_text(raw, f"{prefix}__due"))
            if limit is None:
                errors[f"{prefix}__status"] = f"“{m.name}”用于即办件，即办件不适用容缺受理。"
            elif due is None:
                errors[f"{prefix}__due"] = f"请填写“{m.name}”的补交日期。"
            elif due < today:
                errors[f"{prefix}__due"] = f"“{m.name}”的补交日期不能早于今天。"
            elif due > limit:
                errors[f"{prefix}__due"] = f"“{m.name}”的补交日期不能晚于承诺办结期限（{limit.isoformat()}）。"
            choice.due_date = due
    elif status == "not_applicable":
        _check_not_applicable(m, raw, choice, errors)
    elif status == "commitment" and not m.commitment:
        errors[f"{prefix}__status"] = f"“{m.name}”不适用告知承诺。"
    elif status == "e_license":
        if not m.e_license:
            errors[f"{prefix}__status"] = f"“{m.name}”不能以电子证照代替。"
        else:
            choice.e_license_no = _text(raw, f"{prefix}__elicense")[:60]
            if not choice.e_license_no:
                errors[f"{prefix}__elicense"] = f"请填写已核验的“{m.e_license}”电子证照编号。"
    return choice


def _check_not_applicable(m: MergedMaterial, raw: Mapping[str, str], choice: MaterialChoice,
                          errors: dict[str, str]) -> None:
    """不适用 is open only to a material the catalog marks conditional, and always with a reason.

    The reason is what the county reads when it wonders why a 残疾人证 is absent, so it is
    required and short, like every reason the agent types.
    """
    prefix = f"mat__{m.key}"
    if not m.condition:
        errors[f"{prefix}__status"] = f"“{m.name}”是本事项的必备材料，不能选择不适用。"
        return
    choice.reason = _text(raw, f"{prefix}__reason")
    if not choice.reason:
        errors[f"{prefix}__reason"] = f"“{m.name}”选择不适用时，请填写理由（适用条件：{m.condition}）。"
    elif len(choice.reason) > MAX_TEXT:
        errors[f"{prefix}__reason"] = f"“{m.name}”不适用的理由最多{MAX_TEXT}个字。"


def decide(item: ServiceItem, choices: Mapping[str, MaterialChoice], can_accept: bool) -> str:
    """The intake decision for one item, from what was handed in for its materials."""
    statuses = [(m, choices[m.key].status) for m in materials_of(item) if m.key in choices]
    if any(m.essential and status == "missing" for m, status in statuses):
        return "not_collected"
    if any(status == "deferred" for _m, status in statuses):
        return "deferred"
    return "accepted" if can_accept else "collected"


def find_open_duplicates(items: list[ServiceItem], id_number: str) -> list[Case]:
    """Open cases of the same applicant for the same items (by national item code, any catalog version)."""
    if not id_number:
        return []
    codes = [item.item_code for item in items]
    return list(
        Case.select(Case, ServiceItem)
        .join(ServiceItem)
        .where(
            (Case.applicant_id_index.in_(personal.id_indexes(id_number)))
            & (ServiceItem.item_code.in_(codes))
            & (Case.status.in_(OPEN_STATUSES))
        )
        .order_by(Case.received_at.desc())
    )


def create_cases(
    items: list[ServiceItem],
    draft: IntakeDraft,
    agent: User,
    *,
    bundle_code: str = "",
    allow_duplicate: bool = False,
    seen_duplicates: Collection[str] | None = None,
    received_at: dt.datetime | None = None,
    resumes: Case | None = None,
    appointment_id: str = "",
    home_visit_id: str = "",
) -> list[Case]:
    """Save one case per item (a bundle gives several, grouped), with materials, timeline and outbox events.

    ``resumes`` is the 不予收件 case of the resident's first visit: both cases' timelines then
    name each other, so the second visit is seen as the same application taken up again.
    ``appointment_id``: the booking this case answers, marked converted; ``home_visit_id``: the
    visit the cases were taken during, linked to them.

    ``allow_duplicate``: the agent confirmed that the resident's open cases for these items are not the
    same application. ``seen_duplicates`` (the ids the warning listed, when the confirmation comes from that
    page): only those are allowed; a duplicate made since — the same confirmed form sent twice by a
    double-click, a slow link or the back button — is warned about again instead of saved a second time. Both in the same transaction as the cases,
    so a crash or a refusal (a booking cancelled meanwhile) leaves neither a case with its booking
    still open nor a booking converted into no case.
    """
    if not items:
        raise DomainError("请先选择事项。")
    if restore_pending():  # numbers used after the backup are known only to the hub
        raise DomainError(RESTORE_PENDING_MESSAGE)
    profile = get_profile()
    if not profile.area_code:
        raise DomainError("本站尚未设置行政区划代码，请站长在“站点设置”中填写。")
    received_at = received_at or now()
    calendar = load_calendar()
    group = str(ULID()) if bundle_code or len(items) > 1 else ""
    actor = timeline.actor_of(agent)
    created: list[Case] = []
    with db.atomic("IMMEDIATE"):
        if resumes is not None and not can_resume(resumes):
            raise DomainError(not_resumable_message(resumes))
        # checked under the write lock, so a double-click cannot slip a second case past it
        if not allow_duplicate or seen_duplicates is not None:
            duplicates = find_open_duplicates(items, draft.applicant_id_number)
            confirmed = set(seen_duplicates or ()) if allow_duplicate else set()
            if any(c.id not in confirmed for c in duplicates):
                raise DuplicateSuspected(duplicates)
        decisions: dict[int, str] = {}
        for item in items:
            choices = bundle_choices(item, items, draft.materials, decisions)
            decision = decisions[item.id] = decide(item, choices, station_can_accept(item))
            case = _new_case(item, draft, agent, decision, received_at, calendar, profile.area_code, bundle_code, group)
            _store_materials(case, item, choices, received_at)
            material_library.link_reused(case, agent)
            message = f"{case.mode_name}收件：{DECISIONS[decision]}"
            timeline.record(case, actor, "intake", message, {"decision": decision, "warnings": draft.warnings})
            if draft.mode == "proxy" and not draft.authorization_signed:
                timeline.record(case, actor, "authorization_pending", "代办委托书待打印签署")
            created.append(case)
        for case in created:  # once every item exists, so each event names the whole bundle
            enqueue(case.id, events.SUBMITTED, snapshot(case), catalog_version=case.catalog_version,
                    deadline=case.committed_due)
        if resumes is not None:
            _link_resumed(resumes, created, actor)
        if draft.library_consent:
            material_library.record_consent(draft.applicant_id_number, agent)
        if appointment_id:
            appointments.mark_converted(appointment_id, created[0])  # the resident's booking page shows the case
        for case in created if home_visit_id else ():
            home_visits.carry(home_visit_id, case)  # taken during the visit: on its record and the ledger
    return created


#: The statuses a case may be taken up again from, and what the first visit ended in (issue 19 item 4):
#: turned away at the station (不予收件), or refused by the county (不予受理) and applied for again.
RESUMABLE: dict[str, str] = {"not_collected": "不予收件", "rejected": "不予受理"}


def not_resumable_message(case: Case) -> str:
    """Why ``case`` cannot be taken up again, for the agent."""
    return f"办件 {case.case_no} 不是“不予收件”或“不予受理”的办件，或已再次受理过，不能再次受理。"


def can_resume(case: Case) -> bool:
    """A 不予收件 or 不予受理 case not yet taken up again (a second visit is linked once, on the timeline)."""
    if case.status not in RESUMABLE:
        return False
    return not TimelineEntry.select().where((TimelineEntry.case == case.id)
                                            & (TimelineEntry.action == "resumed")).exists()


def _link_resumed(first: Case, created: list[Case], actor: str) -> None:
    """Name each visit on the other's timeline (the first case keeps its status: the county files it as is)."""
    ended = RESUMABLE.get(first.status, first.status_name)
    for case in created:
        timeline.record(case, actor, "resumed_from", f"再次受理：首次来访为办件 {first.case_no}（{ended}）",
                        {"first_case_id": first.id})
    numbers = "、".join(c.case_no for c in created)
    timeline.record(first, actor, "resumed", f"申请人再次来访，已重新受理为办件 {numbers}",
                    {"case_ids": [c.id for c in created]})


def resume_item(case: Case) -> ServiceItem | None:
    """The current catalog's version of the case's item: a refused case may predate a catalog refresh."""
    current = CatalogVersion.current()
    if current is None:
        return None
    return ServiceItem.get_or_none((ServiceItem.catalog == current) & (ServiceItem.item_code == case.item.item_code))


def resume_values(case: Case) -> dict[str, str]:
    """The intake form as the first visit left it, for a resident who comes back with what was missing.

    Personal numbers are read through services.personal (the caller logs the access); a material
    that was missing stays unanswered, so the agent looks at it again.
    """
    values = {
        "mode": case.mode, "applicant_kind": case.applicant_kind, "applicant_cert_type": case.applicant_cert_type,
        "applicant_name": case.applicant_name, "applicant_id_number": personal.applicant_id_number(case),
        "applicant_phone": personal.applicant_phone(case), "applicant_address": personal.applicant_address(case),
        "applicant_area_code": case.applicant_area_code, "pickup_method": case.pickup_method,
        "proxy_name": case.proxy_name, "proxy_id_number": personal.proxy_id_number(case),
        "proxy_phone": personal.proxy_phone(case), "proxy_relation": case.proxy_relation,
    }
    for name, value in (case.form_values or {}).items():
        values[f"field__{name}"] = str(value)
    for m in CaseMaterial.select().where(CaseMaterial.case == case):
        if m.status not in ("missing", "deferred", "in_bundle", "unkept"):
            values[f"mat__{m.key}__status"] = m.status
        if m.status == "not_applicable":
            values[f"mat__{m.key}__reason"] = m.supplied_note
    return values


def _new_case(
    item: ServiceItem, draft: IntakeDraft, agent: User, decision: str, received_at: dt.datetime,
    calendar: WorkCalendar, area_code: str, bundle_code: str, group: str,
) -> Case:
    return Case.create(
        id=str(ULID()),
        case_no=numbering.next_case_no(area_code, received_at.date()),
        query_code=numbering.new_query_code(),
        item=item,
        catalog_version=item.catalog.version,
        bundle_code=bundle_code,
        bundle_group=group,
        mode=draft.mode,
        decision=decision,
        status=decision,
        applicant_kind=draft.applicant_kind,
        applicant_name=draft.applicant_name,
        applicant_cert_type=draft.applicant_cert_type,
        **personal.sealed_columns(draft.applicant_id_number, draft.applicant_phone, draft.applicant_address,
                                  draft.proxy_id_number, draft.proxy_phone),
        applicant_area_code=draft.applicant_area_code,
        proxy_name=draft.proxy_name,
        proxy_cert_type=draft.proxy_cert_type,
        proxy_relation=draft.proxy_relation,
        authorization_signed=draft.authorization_signed,
        form_values={k: v for k, v in draft.form_values.items() if k in {f["name"] for f in item.form_fields or []}},
        pickup_method=draft.pickup_method,
        agent=agent,
        received_at=received_at,
        **case_deadlines.counted(item, decision, received_at.date(), calendar),
        closed_at=received_at if decision == "not_collected" else None,
        assessed_days=time_lines.assessed_days().get(item.item_code),  # the 考核时限 it is taken under
    )


def bundle_choices(item: ServiceItem, items: list[ServiceItem], choices: Mapping[str, MaterialChoice],
                   decisions: Mapping[int, str]) -> dict[str, MaterialChoice]:
    """The material choices for one item of a submission, with the bundle's own products settled.

    A material an earlier item of the bundle issues (出生医学证明) is 由本件事前项出具 for the
    items after it — unless that earlier item was itself not collected: then nothing will issue
    it, and it is missing like any material the resident did not bring.
    """
    products = bundle_products(items)
    settled = dict(choices)
    for key, choice in choices.items():
        if choice.status != "in_bundle":
            continue
        producer = products.get(key)
        if producer is None or producer is item or decisions.get(producer.id) == "not_collected":
            settled[key] = MaterialChoice(key=key, status="missing")
    return settled


def _store_materials(case: Case, item: ServiceItem, choices: Mapping[str, MaterialChoice],
                     received_at: dt.datetime) -> None:
    rows: list[dict[str, Any]] = []
    for position, m in enumerate(materials_of(item)):
        choice = choices.get(m.key) or MaterialChoice(key=m.key, status="missing")
        rows.append({
            "case": case, "position": position, "key": m.key, "name": m.name, "form": m.form,
            "copies": m.copies, "essential": m.essential, "source": m.source, "status": choice.status,
            "due_date": choice.due_date, "e_license_no": choice.e_license_no,
            "reused_from": choice.reused_from, "origin": choice.origin, "valid_until": choice.valid_until,
            "received_at": received_at if choice.status == "provided" else None,
            "supplied_note": choice.reason if choice.status == "not_applicable" else "",
            "condition": m.condition or "",
        })
    if rows:
        CaseMaterial.insert_many(rows).execute()
