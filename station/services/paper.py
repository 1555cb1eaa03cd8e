"""The one adapter from station models to the printout contract, and what may be printed when.

Builders in `printouts/` stay pure; this module reads the case, hands them full numbers (they
mask), and records every print on the case timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from printouts.bundle_receipt import TITLE as BUNDLE_RECEIPT_TITLE
from printouts.data import (
    BundleDoc,
    BundleItemLine,
    CaseDoc,
    DeliveryDoc,
    LedgerRow,
    MaterialLine,
    StationInfo,
    SuppliedLine,
)
from printouts.fonts import cjk_font
from printouts.layout import Layout, with_margin
from printouts.registry import PRINTABLE_DOCUMENTS
from printouts.registry import applicable_documents as _applicable
from printouts.text import fmt_date, hand_write_line, undrawable
from rules.labels import CASE_STATUSES, NOT_HANDED_IN, WITHDRAW_REQUESTERS
from station.extensions import db
from station.models import Case, CaseMaterial, ServiceItem, TimelineEntry, User
from station.models.base import now
from station.services import (
    access_log,
    areas,
    bundles,
    cases,
    follow_up,
    personal,
    shared_cases,
    station_settings,
)
from station.services.calendar import load_calendar
from station.services.errors import DomainError, NotFound
from station.services.identity import CERTIFICATE_TYPES
from station.services.station_info import get_profile, hub_public_url
from sync.outbox import case_sync_states


@dataclass(frozen=True)
class DocumentLink:
    key: str
    title: str


def station_info() -> StationInfo:
    p = get_profile()
    return StationInfo(
        name=p.name or "便民服务站", code=p.code, area_code=p.area_code, address=p.address, phone=p.phone,
        supervise_phone=p.supervise_phone, query_url_base=p.query_url_base, public_url=hub_public_url(),
    )


def hand_write_notice(*texts: str | None) -> str:
    """What the case page says when paper will mark characters of ``texts`` with 〓 (empty when none).

    The same line the paper carries, so the agent reads it before printing, not only after.
    """
    font = cjk_font()
    marked = list(dict.fromkeys(ch for text in texts if text for ch in undrawable(text, font)))
    return hand_write_line(marked) if marked else ""


FORWARD_WORKING_DAYS = 3  # a collected case reaches its department within this, unless its legal limit is shorter


def forward_within(item: ServiceItem) -> str:
    """How soon the receipt promises to forward a collected case: 3 working days, or its 法定时限 if shorter.

    An 即办件 with a 1-working-day legal limit must not be promised to the department in three.
    """
    if item.statutory_unit == "hours" or item.statutory_value <= 0:
        return "当日"
    days = min(FORWARD_WORKING_DAYS, item.statutory_value)
    unit = "个工作日" if item.statutory_unit == "working_days" else "日"
    return f"{days}{unit}内"


def _material_lines(case: Case) -> list[MaterialLine]:
    catalog_materials = {m.key: m for m in case.item.materials}
    calendar = load_calendar()
    lines = []
    for m in cases.materials(case):
        spec = catalog_materials.get(m.key)
        rest = calendar.rest_day_name(m.due_date) if m.due_date else ""
        lines.append(MaterialLine(
            name=m.name, form=m.form, copies=m.copies, status=m.status, due_date=m.due_date,
            due_rest_day=rest, due_moved_to=calendar.period_end(m.due_date) if rest else None,
            e_license_no=m.e_license_no, source=m.source, description=spec.description if spec else "",
            returned=bool(spec and spec.e_license),  # a certificate: its original goes back to the resident
            note=m.supplied_note if m.status == "not_applicable" else "",
            # record_arrival keeps the 容缺 due date on the material it marks provided (a 补正 answer clears it)
            arrived_at=m.received_at if m.status == "provided" and m.due_date and m.supplied_as else None,
            **_reuse(m),
        ))
    return lines


def _reuse(material: CaseMaterial) -> dict[str, Any]:
    """Where and when a material reused from her library (只提交一次) was verified, for the paper to say so."""
    reused = (material.origin or {}).get("reused") if material.status == "provided" else None
    if not reused:
        return {}
    when = dt.date.fromisoformat(str(reused.get("verified_at") or "")[:10]) if reused.get("verified_at") else None
    where = f"{fmt_date(when) if when else ''}{reused.get('station_name') or ''}"
    return {"reused_from": where or "材料库中", "rechecked": bool(reused.get("rechecked"))}


def _bundle_doc(case: Case) -> tuple[BundleDoc | None, str]:
    """The bundle of the case for paper, and the query code to print (the bundle's one code)."""
    view = bundles.bundle_of(case)
    if view is None or len(view.cases) < 2:
        return None, case.query_code
    merged: dict[str, MaterialLine] = {}
    for member in view.cases:
        for line in _material_lines(member):
            kept = merged.get(line.name)
            if kept is None or (kept.status in NOT_HANDED_IN and line.status not in NOT_HANDED_IN):
                merged[line.name] = line  # handed in for one item: received, once
    items = tuple(BundleItemLine(item_name=c.item.name, case_no=c.case_no, decision=c.decision, item_code=c.item.item_code,
                                 committed_due=c.committed_due, committed_provisional=c.committed_provisional,
                                 committed_limit_text=c.item.committed_text, statutory_due=c.statutory_due,
                                 statutory_provisional=c.statutory_provisional) for c in view.cases)
    return BundleDoc(name=view.name, state=view.state, items=items, materials=tuple(merged.values())), view.query_code


def case_doc(case: Case) -> CaseDoc:
    """Everything a paper about this case may print, read from the case as it is now."""
    item = case.item
    lines = _material_lines(case)
    bundle, query_code = _bundle_doc(case)
    labels = {f["name"]: f["label"] for f in item.form_fields or []}
    cert_name = "统一社会信用代码" if case.applicant_cert_type == "uscc" else CERTIFICATE_TYPES.get(
        case.applicant_cert_type, case.applicant_cert_type)
    return CaseDoc(
        case_no=case.case_no, query_code=query_code, item_name=item.name, item_code=item.item_code,
        received_at=case.received_at, case_id=case.id, impl_code=item.impl_code, department=item.department,
        kind=item.kind, mode=case.mode, decision=case.decision, applicant_name=case.applicant_name,
        applicant_cert_type_name=cert_name, applicant_id_number=personal.applicant_id_number(case),
        applicant_phone=personal.applicant_phone(case), applicant_address=personal.applicant_address(case),
        agent_name=case.agent.name, agent_phone=case.agent.phone, proxy_name=case.proxy_name,
        proxy_id_number=personal.proxy_id_number(case), proxy_relation=case.proxy_relation,
        statutory_due=case.statutory_due, committed_due=case.committed_due,
        statutory_provisional=case.statutory_provisional, committed_provisional=case.committed_provisional,
        deadline_warning=case.deadline_warning,
        forward_within=forward_within(item), statutory_limit_text=item.statutory_text, committed_limit_text=item.committed_text,
        pickup_method=case.pickup_method, consult_phone=item.consult_phone, supervise_phone=item.supervise_phone,
        handling_area_name=item.handling_area_name,
        fee=item.fee, materials=tuple(lines),
        form_values=tuple((labels.get(k, k), str(v)) for k, v in (case.form_values or {}).items()),
        supplement_items=tuple(case.supplement_items or ()),
        supplement_reason=case.status_reason if case.status == "supplement" else "",
        supplement_at=follow_up.supplement_requested_at(case) if case.supplement_items or case.status == "supplement" else None,
        rejected_at=case.closed_at if case.status == "rejected" else None,
        rejected_reason=case.status_reason if case.status == "rejected" else "",
        **_withdrawal_doc(case),
        result=case.result or None, result_text=case.result_text,
        completed_at=case.closed_at if case.status in ("completed", "delivered") else None,
        issued_at=now(),
        supplied=tuple(SuppliedLine(name=m.name, supplied_as=m.supplied_as, note=m.supplied_note)
                       for m in follow_up.requested_materials(case) if m.supplied_as)
        if case.supplemented_at else (),
        supplied_at=case.supplemented_at, supplied_note=follow_up.last_supplement_note(case) if case.supplemented_at else "",
        result_certificate_no=case.result_certificate_no, delivery=_delivery_doc(case), bundle=bundle,
    )


def _withdrawal_doc(case: Case) -> dict[str, Any]:
    """The 撤回申请确认单's fields of a withdrawn case (who asked: the timeline entry services/withdrawal wrote)."""
    if case.status != "withdrawn":
        return {}
    entry = (TimelineEntry.select().where((TimelineEntry.case == case) & (TimelineEntry.action == "withdrawn"))
             .order_by(TimelineEntry.id.desc()).first())
    requested_by = str(((entry.data or {}) if entry else {}).get("requested_by") or "")
    return {"withdrawn_at": case.closed_at, "withdrawn_reason": case.status_reason,
            "withdrawn_by": WITHDRAW_REQUESTERS.get(requested_by, "")}


def _delivery_doc(case: Case) -> DeliveryDoc | None:
    d = case.delivery or {}
    if case.status != "delivered" or not d.get("method"):
        return None
    collector = d.get("collector") or {}
    return DeliveryDoc(
        method=d["method"], delivered_on=dt.date.fromisoformat(d["delivered_on"]),
        collector_kind=collector.get("kind") or "", collector_name=collector.get("name") or "",
        collector_cert_name=CERTIFICATE_TYPES.get(collector.get("cert_type") or "", "证件号码"),
        collector_id_number=personal.collector_id_number(case), collector_relation=collector.get("relation") or "",
        ems_no=d.get("ems_no") or "", address=d.get("address") or "", receiver=d.get("receiver") or "",
    )


def applicable_documents(case: Case) -> list[DocumentLink]:
    """The documents that apply to the case's state, one button each on the case page."""
    return [DocumentLink(key, title) for key, title in _applicable(case_doc(case))]


def render(case: Case, key: str, user: User, address: str | None = None) -> tuple[bytes, str]:
    """Build a document for the case and record the print (or reprint) on its timeline and in the
    access log (``address``: where the request came from), in one transaction.

    The PDF is built before the write lock is taken: tens of milliseconds of layout must not
    hold up intake and sync at the other desk. Only the reprint check and its record are locked.
    """
    doc = PRINTABLE_DOCUMENTS.get(key)
    if doc is None:
        raise NotFound("没有这种文书。")
    data = case_doc(case)
    titles = dict(_applicable(data))
    if key not in titles:
        raise DomainError(f"该办件当前状态不需要打印《{doc.title}》。")
    paper_key, margin_mm = station_settings.paper_for(key)
    layout = with_margin(paper_key, margin_mm)
    pdf = _build(key, station_info(), data, layout)
    title = titles[key]
    with db.atomic("IMMEDIATE"):  # reads then writes: take the write lock first
        printed_before = was_printed(case, title)
        cases.record_print(case, user, title, reprint=printed_before)
        access_log.record("print", user=user, address=address, case_id=case.id, obj=case.case_no,
                          detail=f"{'重印' if printed_before else '打印'}《{title}》（{case.case_no}）")
    return pdf, title


def was_printed(case: Case, title: str) -> bool:
    """Whether 《title》 was ever printed for the case (its timeline records every print)."""
    # the lines are sealed (TimelineEntry.message): SQL cannot look into them, so each is read opened
    return any(f"《{title}》" in entry.message for entry in TimelineEntry.select().where(
        (TimelineEntry.case == case) & (TimelineEntry.action.in_(("print", "reprint")))))


def missing_told(case: Case) -> bool:
    """Whether the resident of a 不予收件 case was handed what to bring: its 一次性告知书, or for an item of a
    一件事 the one bundle receipt that lists it. The page said 已一次性告知 before anything was printed."""
    if was_printed(case, PRINTABLE_DOCUMENTS["notice_missing"].title):
        return True
    view = bundles.bundle_of(case)
    return view is not None and any(was_printed(member, BUNDLE_RECEIPT_TITLE) for member in view.cases)


def _build(key: str, info: StationInfo, data: CaseDoc, layout: Layout) -> bytes:
    """Build ``key`` on the station's paper: the 80 mm receipt button keeps its roll, with the margins."""
    builder = PRINTABLE_DOCUMENTS[key].build
    if isinstance(builder, partial):  # receipt_roll: its paper is fixed, only the margin is the station's
        return builder.func(info, data, layout=layout)
    return builder(info, data, layout=layout)


def ledger_rows(day: dt.date, end: dt.date | None = None) -> list[LedgerRow]:
    """The cases received on `day` (or `day`–`end`) for the 台账, oldest first, villages by name.

    Item and agent are joined and the sync states read in one query, so a month of 3,000 cases
    is one pass. The cases the station took on its other devices (a laptop on a home visit) are
    in it too, from their copies: the 同步 column names the device that holds them.
    """
    start = dt.datetime.combine(day, dt.time())
    stop = dt.datetime.combine((end or day) + dt.timedelta(days=1), dt.time())
    columns = (Case.id, Case.received_at, Case.case_no, Case.applicant_name, Case.applicant_id_stored,
               Case.applicant_area_code, Case.mode, Case.status, Case.statutory_due, Case.committed_due,
               Case.statutory_provisional, Case.committed_provisional, Case.closed_at)
    day_cases = list(  # only the columns printed: the sealed JSON columns are not opened for a ledger
        Case.select(*columns, ServiceItem.name, User.name).join(ServiceItem).switch(Case).join(User)
        .where((Case.received_at >= start) & (Case.received_at < stop))
        .order_by(Case.received_at, Case.id)
    )
    states = case_sync_states([c.id for c in day_cases])
    villages = areas.names()
    own = [
        LedgerRow(
            received_at=c.received_at, case_no=c.case_no, item_name=c.item.name, applicant_name=c.applicant_name,
            applicant_id_number=personal.applicant_id_number(c), village=areas.name_of(c.applicant_area_code, villages),
            agent_name=c.agent.name, mode=c.mode, status_text=c.status_name, statutory_due=c.statutory_due,
            committed_due=c.committed_due, statutory_provisional=c.statutory_provisional,
            committed_provisional=c.committed_provisional,
            sync_state=states[c.id]["label"], closed_at=c.closed_at,
        )
        for c in day_cases
    ]
    copies = [_copy_row(r, villages) for r in shared_cases.received_between(start, stop)]
    return sorted([*own, *copies], key=lambda r: r.received_at) if copies else own


def _copy_row(received: shared_cases.Received, villages: dict[str, str]) -> LedgerRow:
    """A case another device of the station took, as a ledger line (the builders mask its number)."""
    snapshot, copy = received.snapshot, received.copy
    applicant = snapshot.get("applicant") if isinstance(snapshot.get("applicant"), dict) else {}
    agent = snapshot.get("agent") if isinstance(snapshot.get("agent"), dict) else {}
    return LedgerRow(
        received_at=received.received_at, case_no=copy.case_no, item_name=copy.item_name,
        applicant_name=copy.applicant_name or str(applicant.get("name") or ""),
        applicant_id_number=str(applicant.get("id_number") or ""),
        village=areas.name_of(str(applicant.get("area_code") or ""), villages), agent_name=str(agent.get("name") or ""),
        mode=str(snapshot.get("mode") or ""), status_text=CASE_STATUSES.get(received.status, received.status),
        statutory_due=received.due("statutory_due"), committed_due=received.due("committed_due"),
        statutory_provisional=received.provisional("statutory"), committed_provisional=received.provisional("committed"),
        sync_state=shared_cases.device_label(copy.origin_device),
    )
