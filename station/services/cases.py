"""Case queries and the changes made to a case after intake (county decisions, reprints, files).

Every change goes through here so the timeline and the outbox see it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, ModelSelect

from rules import events
from rules.labels import CASE_STATUSES, COUNTY_DECISIONS, RESULTS
from rules.privacy import typed_number
from station.extensions import db
from station.models import Case, CaseMaterial, ServiceItem, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import bundles, personal, station_info, timeline
from station.services.errors import DomainError, NotFound
from station.services.hanzi import has_han
from sync import protocol
from sync.outbox import enqueue
from sync.status import settle_conflict


def get_case(case_id: str) -> Case:
    case = (
        Case.select(Case, ServiceItem, User)
        .join(ServiceItem)
        .switch(Case)
        .join(User)
        .where(Case.id == case_id)
        .first()
    )
    if case is None:
        raise NotFound("没有找到这个办件。")
    return case


def materials(case: Case) -> list[CaseMaterial]:
    return list(CaseMaterial.select().where(CaseMaterial.case == case).order_by(CaseMaterial.position))


def material_rows(case: Case) -> list[dict[str, Any]]:
    """Every material of the case as it stands now, as the county files it (also sent after a 补正
    or a 容缺 arrival, so the county's table shows each material's current state)."""
    rows = []
    for m in materials(case):
        row: dict[str, Any] = {
            "key": m.key,
            "name": m.name,
            "form": m.form,
            "copies": m.copies,
            "essential": m.essential,
            "status": m.status,
            "due_date": m.due_date.isoformat() if m.due_date else None,
            "e_license_no": m.e_license_no or None,
        }
        if m.origin:  # 只提交一次: {"reused": the earlier verification} or {"licence": the county's licence}
            row.update(m.origin)
        if m.condition:  # a conditional material: the county sees when it applies
            row["condition"] = m.condition
        if m.status == "not_applicable" and not m.supplied_as:  # marked 不适用 at intake, with its reason
            row["supplied_note"] = m.supplied_note or None
        if m.supplied_as:  # only after intake: the intake snapshot keeps its old shape
            row.update(supplied_as=m.supplied_as, supplied_note=m.supplied_note or None,
                       received_at=m.received_at.astimezone().isoformat() if m.received_at else None)
        rows.append(row)
    return rows


def snapshot(case: Case) -> dict[str, Any]:
    """The full case as the county receives it in a `case.submitted` event."""
    item = case.item
    return {
        "case_no": case.case_no,
        "query_code": case.query_code,
        "item_code": item.item_code,
        "impl_code": item.impl_code,
        "item_name": item.name,
        "bundle_code": case.bundle_code or None,
        "bundle_group": case.bundle_group or None,
        "bundle": bundles.membership(case),
        "mode": case.mode,
        "decision": case.decision,
        "applicant": {
            "kind": case.applicant_kind,
            "name": case.applicant_name,
            "cert_type": case.applicant_cert_type,
            "id_number": personal.applicant_id_number(case),
            "phone": personal.applicant_phone(case),
            "address": personal.applicant_address(case),
            "area_code": case.applicant_area_code,
        },
        "proxy": (
            {
                "name": case.proxy_name,
                "cert_type": case.proxy_cert_type,
                "id_number": personal.proxy_id_number(case),
                "phone": personal.proxy_phone(case),
                "relation": case.proxy_relation,
                "authorization_signed": case.authorization_signed,
            }
            if case.mode == "proxy"
            else None
        ),
        "materials": material_rows(case),
        "form_values": case.form_values,
        "form_labels": {f["name"]: f["label"] for f in item.form_fields or [] if f["name"] in case.form_values},
        "pickup_method": case.pickup_method,
        "statutory_due": case.statutory_due.isoformat() if case.statutory_due else None,
        "committed_due": case.committed_due.isoformat() if case.committed_due else None,
        "deadline_provisional": case.deadline_provisional,
        "received_at": case.received_at.astimezone().isoformat(),  # with the station's offset
        "agent": {"username": case.agent.username, "name": case.agent.name},
        "attachments": [
            {"sha256": a.sha256, "filename": a.filename, "size": a.size, "content_type": a.content_type}
            for a in case.attachments
        ],
        **cross_area(item),
    }


def cross_area(item: Any) -> dict[str, str]:
    """跨域办: 收件地 (this station's area, name and code) and 办理地 for an item another county handles; else nothing.

    The name and code go too because the handling county knows this station only as the county that
    forwarded the case: its resident's page would otherwise send her to that county's platform, and its
    provincial export would name that county's platform as the 受理服务站.
    """
    if not item.handling_area:
        return {}
    profile = station_info.get_profile()
    return {"received_area": profile.area_code or None, "received_station_name": profile.name or None,
            "received_station_code": profile.code or None,
            "handling_area": item.handling_area, "handling_area_name": item.handling_area_name}


@dataclass
class CaseFilter:
    status: str = ""
    item_code: str = ""
    area_code: str = ""
    agent_id: int | None = None
    overdue: bool = False
    query: str = ""  # case number, query code or applicant name
    id_index: str = ""  # a resident ID number's blind index (the list's address never carries the number)


class CaseListQuery(ModelSelect):
    """The case list: rows come with their item and agent joined; the total is counted without them.

    Both joins follow NOT NULL foreign keys, so they never change how many cases match — but
    counting through them cost 20+ ms at 100,000 cases, more than fetching the page.
    """

    count_query: ModelSelect | None = None
    id_query: ModelSelect | None = None
    #: (received_at, id) of every match, for a filter no index can order (a name substring)
    match_query: ModelSelect | None = None
    _matched: list[str] | None = None

    def page_rows(self, page: int, per_page: int) -> list[Case]:
        """One page: pick the page's ids on the narrow index first, then fetch just those rows.

        OFFSET makes SQLite build every skipped row; walking ids on the (received_at, id) index
        keeps a deep page from reading thousands of wide case rows. A name search takes every
        match from one scan of its covering index and pages them here (migration 0004).
        """
        if self.match_query is not None:
            ids = self._matched_ids()[(page - 1) * per_page:page * per_page]
        else:
            ids = [row.id for row in self.id_query.paginate(page, per_page)]
        if not ids:
            return []
        return list(self.where(Case.id.in_(ids)))

    def count(self, database=None, clear_limit=False):  # noqa: ANN001, ANN201 - peewee's signature
        if self.match_query is not None:
            return len(self._matched_ids())
        if self.count_query is not None:
            return self.count_query.count(database, clear_limit=clear_limit)
        return super().count(database, clear_limit=clear_limit)

    def _matched_ids(self) -> list[str]:
        """Matching ids newest first, as ORDER BY received_at DESC, id DESC would give them.

        The stored text is compared as SQLite compares it (binary), without building a
        datetime per match.
        """
        if self._matched is None:
            rows = db.execute_sql(*self.match_query.sql()).fetchall()
            self._matched = [case_id for _received, case_id in sorted(rows, reverse=True)]
        return self._matched


_CASE_NO = re.compile(r"^\d{24}$")  # {area 12}{YYYYMMDD}{sequence 4}: no name contains such a run
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")  # a resident ID: found by its blind index, never stored in clear
_BLIND_INDEX = re.compile(r"^[0-9a-f]{64}$")


def search_address_args(form: Mapping[str, str]) -> dict[str, str]:
    """The case list's filters as its address carries them: a resident ID number typed into the search box
    goes as its blind index (``id``), so that neither the browser's history nor a proxy's log holds it."""
    args = {key: form.get(key, "").strip() for key in ("q", "status", "item", "area", "agent", "overdue")}
    if _ID_NUMBER.match(typed_number(args["q"])):  # typed full-width too: never into the address
        args["id"] = personal.id_index(typed_number(args.pop("q")))
    return {key: value for key, value in args.items() if value}


def id_index_arg(value: str) -> str:
    """An ``id`` argument of the case list if it is a blind index, else "" (nothing else is looked up by it)."""
    return value if _BLIND_INDEX.match(value or "") else ""


def filtered(f: CaseFilter, today: dt.date) -> CaseListQuery:
    """The case list query, newest first; migration 0003's indexes serve its order and filters."""
    conditions = []
    if f.status:
        if f.status not in CASE_STATUSES:
            raise DomainError("未知的办件状态。")
        conditions.append(Case.status == f.status)
    if f.item_code:
        # the ids first: "item_id = ?" lets SQLite read a page in order off (item_id, status,
        # received_at, id); behind "IN (SELECT …)" it walked every case of that status instead
        item_ids = [i for (i,) in ServiceItem.select(ServiceItem.id).where(ServiceItem.item_code == f.item_code).tuples()]
        conditions.append(Case.item == item_ids[0] if len(item_ids) == 1 else Case.item.in_(item_ids))
    if f.area_code:
        conditions.append(Case.applicant_area_code.startswith(f.area_code))
    if f.agent_id:
        conditions.append(Case.agent == f.agent_id)
    if f.overdue:
        conditions.append((Case.status.in_(OPEN_STATUSES)) & (Case.committed_due < today))
    name_only = False
    if f.id_index:
        conditions.append(Case.applicant_id_index == f.id_index)
    if f.query:
        text = f.query.strip()
        # a number typed with a Chinese input method arrives full-width (１１０１…Ｘ), as intake accepts it
        number = typed_number(text)
        if _CASE_NO.match(number):
            conditions.append(Case.case_no == number)  # the unique index, not a scan of every name
        elif _ID_NUMBER.match(number):
            conditions.append(Case.applicant_id_index.in_(personal.id_indexes(number)))
        elif has_han(text):  # case numbers and query codes have no Chinese: a name
            conditions.append(Case.applicant_name.contains(text))
            name_only = True
        else:
            conditions.append((Case.case_no == number) | (Case.query_code == number.upper())
                              | (Case.applicant_name.contains(text)))
    query = (CaseListQuery(Case, [Case, ServiceItem, User])
             .join(ServiceItem).switch(Case).join(User, JOIN.INNER))
    count_query = Case.select(Case.id)
    if conditions:
        query = query.where(*conditions)
        count_query = count_query.where(*conditions)
    order = (Case.received_at.desc(), Case.id.desc())
    query = query.order_by(*order)
    query.count_query = count_query
    query.id_query = count_query.clone().order_by(*order)
    if name_only:
        query.match_query = Case.select(Case.received_at, Case.id).where(*conditions)
    return query


def record_print(case: Case, user: User, document_title: str, reprint: bool) -> None:
    """Every print and reprint is on the timeline: paper handed out is part of the record."""
    action = "reprint" if reprint else "print"
    word = "补打" if reprint else "打印"
    timeline.record(case, timeline.actor_of(user), action, f"{word}《{document_title}》")


CONFLICT_RESOLUTIONS = {
    protocol.RESOLVE_KEEP_COUNTY: "保留县级记录，本站的这份记录不再上传",
    protocol.RESOLVE_TAKE_STATION: "采用本站记录",
    protocol.RESOLVE_MERGE: "合并两份记录",
}


NOTE_OPENS = "（说明："  # where the clerk's note starts in a settlement's line
NOTE_CLEARED = "（说明已于保存期满时清除）"


def county_person(payload: dict[str, Any], key: str) -> str:
    """Who at the county acted, as residents and staff should read it: the person's name the hub sends
    beside the login (``clerk_name`` beside ``clerk``); an older hub sends only the login, shown as it is."""
    return str(payload.get(f"{key}_name") or payload.get(key) or "").strip()


def conflict_decision(payload: dict[str, Any], held_back: str = "", by: str = "县级平台") -> str:
    """The county's settlement of a conflict as the station's staff read it: the decision, the clerk's
    note, and — when ``held_back`` names the record (“该办件”) — that its waiting events go out again.

    One wording for a case's timeline and a home visit's page (which has no actor column, so names the
    clerk in ``by``); an unknown decision raises DomainError.
    """
    resolution = payload.get("resolution")
    if resolution not in CONFLICT_RESOLUTIONS:
        raise DomainError(f"县级平台返回了未知的冲突处理方式：{resolution}")
    note = str(payload.get("note") or "")
    message = f"{by}核对了同步冲突：{CONFLICT_RESOLUTIONS[resolution]}" + (f"{NOTE_OPENS}{note}）" if note else "")
    return message + (f"。{held_back}暂停的后续记录已恢复上传。" if held_back else "。")


def conflict_decision_without_note(message: str) -> str:
    """A settlement as :func:`conflict_decision` worded it, with the clerk's note taken out (retention).

    The note is free text (it may name the resident); the decision and who settled it stay. Only the
    stored line is left for a home visit's settlement (no timeline holds its payload), so the note is
    cut between the marks this module wrote around it.
    """
    head, opened, rest = message.partition(NOTE_OPENS)
    if not opened:
        return message
    close = rest.rfind("）。")  # the note's own close: what follows it (the held-back sentence) has none
    return head + NOTE_CLEARED + (rest[close + 1:] if close >= 0 else "。")


def apply_conflict_resolution(case_id: str, payload: dict[str, Any]) -> Case | None:
    """The county settled a conflict over one of this case's events: settle it here and say so.

    The set-aside event is cleared (the hub holds what the county decided) and the case's later
    events, which waited behind it, go out with the next push; the case's timeline records the
    decision and the county's note. Not this station's case: nothing done, None (the caller tries
    a home visit's). Call inside the pull transaction.
    """
    message = conflict_decision(payload, "该办件")
    case = Case.get_or_none(Case.id == case_id)
    if case is None:
        return None
    settle_conflict(str(payload.get("event_id") or ""), str(payload["resolution"]), message,
                    decided_at(payload, "resolved_at"))
    timeline.record(case, f"县级平台 {county_person(payload, 'resolved_by')}".strip(), "county_conflict_resolved", message,
                    {"payload": payload})
    return case


def decided_at(payload: dict[str, Any], key: str = "decided_at") -> dt.datetime:
    """When the county decided (``payload[key]``), in station time: a station that pulls a week late still
    closes the case on the day the county did, so the actual time used (四条线) is the county's, not the link's."""
    try:
        when = dt.datetime.fromisoformat(str(payload.get(key) or "").replace("Z", "+00:00"))
    except ValueError:
        return now()
    if when.tzinfo is None:
        return now()
    return min(when.astimezone().replace(tzinfo=None, microsecond=0), now())


def apply_county_status(case_id: str, payload: dict[str, Any]) -> Case | None:
    """Apply a decision the county sent down the changes feed (call inside the pull transaction).

    A case this station does not have is ignored (returns None) rather than failing the pull:
    the cursor must move on, and the county's record stays authoritative.
    """
    case = Case.get_or_none(Case.id == case_id)
    if case is None:
        return None
    status = payload.get("status")
    if status not in COUNTY_DECISIONS:
        raise DomainError(f"县级平台返回了未知状态：{status}")
    # A result already handed over stays 已送达: a restored station pulls the county's decisions
    # anew (受理, 办结) after replaying the lost PC's handover, and they must not undo it.
    # A case the resident withdrew stays 已撤回 under a 受理/补正 the county took before her withdrawal
    # reached it (the hub then applies the withdrawal: services/withdrawal.py); a final decision
    # (办结, 不予受理) the county took first stands, and the hub keeps the late withdrawal as a note.
    was_withdrawn = case.status == "withdrawn"
    withdrawn_first = was_withdrawn and status not in FINAL_COUNTY_DECISIONS
    if case.status != "delivered" and not withdrawn_first:
        case.status = status
    case.hub_case_no = payload.get("hub_case_no") or case.hub_case_no
    if not withdrawn_first:  # her reason for withdrawing stays the case's reason
        case.status_reason = payload.get("reason") or ""
    if status == "supplement" and not withdrawn_first:
        entries = payload.get("supplement_items") or []
        case.supplement_items = _supplement_names(entries)
        case.supplement_keys = [str(entry["key"]) for entry in entries if isinstance(entry, dict) and entry.get("key")]
        case.supplemented_at = None  # a new request waits for a new answer
    if status == "completed":
        case.result = payload.get("result") or ""
        case.result_text = payload.get("result_text") or ""
        case.result_certificate_no = str(payload.get("certificate_no") or "")[:60]
        case.closed_at = decided_at(payload)
    if status == "rejected":
        case.closed_at = decided_at(payload)
    case.updated_at = now()
    case.save()
    message = county_status_message(status, payload)
    if withdrawn_first:
        message += WITHDRAWN_FIRST
    elif was_withdrawn:
        message += DECIDED_FIRST
    timeline.record(case, f"县级平台 {county_person(payload, 'clerk')}".strip(), f"county_{status}", message,
                    {"payload": payload})
    return case


#: The county's final decisions: taken before a withdrawal reached the county, they stand over it.
FINAL_COUNTY_DECISIONS = ("completed", "rejected")
#: Said after a county decision the station received for a case the resident had already withdrawn.
WITHDRAWN_FIRST = "（县级在收到撤回申请前作出；申请人已撤回申请，办件仍为已撤回）"
#: Said after a final county decision that arrived for a case the station had recorded as withdrawn.
DECIDED_FIRST = "（县级在收到撤回申请前已作出决定，撤回申请未生效，请告知申请人）"


def _supplement_names(entries: list[Any]) -> list[str]:
    """The materials a 补正 asks for, by name: the county names them as {"key", "name"}; older hubs send plain names."""
    return [str(entry.get("name") or entry.get("key")) if isinstance(entry, dict) else str(entry) for entry in entries]


def county_status_message(status: str, payload: dict[str, Any]) -> str:
    """A county decision's line on the timeline, from the change that carried it.

    One wording for the pull and for retention, which writes the line again from the payload with the
    county's free text (reason, result text) cleared.
    """
    message = f"县级平台：{COUNTY_DECISIONS.get(status, status)}"
    reason = payload.get("reason") or ""
    if reason:
        message += f"（{reason}）"
    items = _supplement_names(payload.get("supplement_items") or [])
    if status == "supplement" and items:
        message += "，需补正：" + "、".join(items)
    if status == "completed":
        result_text = payload.get("result_text") or ""
        message += "，结果：" + RESULTS.get(payload.get("result") or "", "不予") + (f"，{result_text}" if result_text else "")
    return message


def add_note(case: Case, user: User, text: str) -> None:
    """A free-text note by staff, synced to the county like every other change."""
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写备注内容。")
    if len(text) > 500:
        raise DomainError("备注最多500字。")
    actor = timeline.actor_of(user)
    with db.atomic("IMMEDIATE"):
        earlier = timeline.just_recorded(case, actor, "note", text)
        if earlier is not None:  # a second click on 保存备注: the county would get the note twice
            raise DomainError(f"这条备注已于 {earlier.at:%H:%M} 保存过，这次没有重复保存。")
        # stored sealed (TimelineEntry.message): free text may carry a phone number or an address
        timeline.record(case, actor, "note", text)
        enqueue(case.id, events.NOTE, {"text": text, "by": user.username}, catalog_version=case.catalog_version,
                deadline=case.committed_due)


def mark_authorization_signed(case: Case, user: User) -> None:
    """The resident signed the printed 代办委托书: record it and tell the county."""
    if case.mode != "proxy":
        raise DomainError("只有代办办件需要委托书。")
    if case.authorization_signed:
        raise DomainError("委托书已登记为签署。")
    with db.atomic("IMMEDIATE"):
        case.authorization_signed = True
        case.updated_at = now()
        case.save()
        timeline.record(case, timeline.actor_of(user), "authorization_signed", "申请人已签署代办委托书")
        enqueue(case.id, events.MATERIALS_UPDATED, {"authorization_signed": True},
                catalog_version=case.catalog_version, deadline=case.committed_due)
