"""Cases the lost PC took after the backup, rebuilt at the restored station from the county's copy.

A backup is older than the hub's view of the station: the cases taken between the backup and the
PC's loss went to the county and exist nowhere else. After a restore the first sync round asks
the hub for their events (sync/restore.py) and hands them here, inside its transaction: the case
is rebuilt from its ``case.submitted`` snapshot, the later events are replayed onto it, and the
timeline says it was restored from the county's copy. A case the backup held is brought up to
the county's copy the same way: what the lost PC wrote to it after the backup (notes, materials
brought, a status, the handover, a withdrawal) is replayed onto it (:func:`continue_case`). The scans stay at the county (the hub
keeps the files, the station cannot fetch them back); the case says so. The events themselves
go into the outbox as already acknowledged, so none is sent twice and the next one takes the
next seq.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rules.labels import CASE_STATUSES, EVENT_KINDS
from station.models import Case, CaseMaterial, ServiceItem, User
from station.services import personal, timeline

log = logging.getLogger(__name__)

ACTOR = "县级平台副本"


def rebuild_case(case_id: str, events: list[dict[str, Any]]) -> bool:
    """Rebuild one case from its events as the county holds them; False when it cannot be (logged).

    A case already at the station is left alone. One whose service item is not in this station's
    catalog cannot be rebuilt (its form and materials come from the item): the caller still
    records its events, so nothing is sent twice, and the county keeps the case.
    """
    if Case.get_or_none(Case.id == case_id) is not None:
        return False
    events = sorted(events, key=lambda e: int(e.get("seq") or 0))
    first = next((e for e in events if e.get("kind") == "case.submitted"), None)
    snap = (first or {}).get("payload") or {}
    item = (ServiceItem.select().where(ServiceItem.item_code == str(snap.get("item_code") or ""))
            .order_by(ServiceItem.id.desc()).first())
    if first is None or item is None:
        log.warning("case %s taken after the backup not rebuilt: %s", case_id,
                    "no case.submitted at the county" if first is None else f"item {snap.get('item_code')} unknown")
        return False
    case = _create(case_id, first, snap, item)
    _store_materials(case, snap.get("materials") or [])
    scans = len(snap.get("attachments") or [])
    timeline.record(case, ACTOR, "restored_from_county",
                    "本办件由原电脑在备份之后受理，已于恢复备份后按县级平台保存的记录重建"
                    + (f"；{scans} 份扫描件原件保存在县级平台，本站无副本" if scans else ""),
                    {"events": len(events), "scans_at_county": scans})
    for event in events:
        _replay(case, event)
    case.save()
    return True


def continue_case(case_id: str, events: list[dict[str, Any]]) -> bool:
    """Replay onto a case the backup held the events the lost PC wrote after the backup; False if it is not here."""
    case = Case.get_or_none(Case.id == case_id)
    if case is None or not events:
        return False
    events = sorted(events, key=lambda e: int(e.get("seq") or 0))
    timeline.record(case, ACTOR, "continued_from_county",
                    f"原电脑在备份之后对本办件的 {len(events)} 项记录已按县级平台保存的副本补回",
                    {"events": len(events), "seqs": [e.get("seq") for e in events]})
    for event in events:
        _replay(case, event)
    case.save()
    return True


def _create(case_id: str, first: dict[str, Any], snap: dict[str, Any], item: ServiceItem) -> Case:
    applicant = snap.get("applicant") or {}
    proxy = snap.get("proxy") or {}
    agent_info = snap.get("agent") or {}
    agent = (User.get_or_none(User.username == str(agent_info.get("username") or ""))
             or User.select().order_by(User.id).first())
    received_at = local_time(snap.get("received_at")) or dt.datetime.now()
    decision = str(snap.get("decision") or "collected")
    fields = {f["name"] for f in item.form_fields or []}
    return Case.create(
        id=case_id, case_no=str(snap.get("case_no") or ""), query_code=str(snap.get("query_code") or ""),
        item=item, catalog_version=str(first.get("catalog_version") or item.catalog.version),
        bundle_code=str(snap.get("bundle_code") or ""), bundle_group=str(snap.get("bundle_group") or ""),
        mode=str(snap.get("mode") or "assisted"), decision=decision, status=decision,
        applicant_kind=str(applicant.get("kind") or "person"), applicant_name=str(applicant.get("name") or ""),
        applicant_cert_type=str(applicant.get("cert_type") or ""),
        **personal.sealed_columns(str(applicant.get("id_number") or ""), str(applicant.get("phone") or ""),
                                  str(applicant.get("address") or ""), str(proxy.get("id_number") or ""),
                                  str(proxy.get("phone") or "")),
        applicant_area_code=str(applicant.get("area_code") or ""),
        proxy_name=str(proxy.get("name") or ""), proxy_cert_type=str(proxy.get("cert_type") or ""),
        proxy_relation=str(proxy.get("relation") or ""),
        authorization_signed=bool(proxy.get("authorization_signed")),
        form_values={k: v for k, v in (snap.get("form_values") or {}).items() if k in fields},
        pickup_method=str(snap.get("pickup_method") or "window"), agent=agent, received_at=received_at,
        statutory_due=_date(snap.get("statutory_due")), committed_due=_date(snap.get("committed_due")),
        deadline_provisional=bool(snap.get("deadline_provisional")),
        closed_at=received_at if decision == "not_collected" else None,
    )


def _store_materials(case: Case, rows: list[dict[str, Any]]) -> None:
    CaseMaterial.delete().where(CaseMaterial.case == case).execute()
    for position, m in enumerate(rows):
        if not isinstance(m, dict) or not m.get("key"):
            continue
        CaseMaterial.create(
            case=case, position=position, key=str(m["key"]), name=str(m.get("name") or m["key"]),
            form=str(m.get("form") or ""), copies=int(m.get("copies") or 1), essential=bool(m.get("essential", True)),
            status=str(m.get("status") or "missing"), due_date=_date(m.get("due_date")),
            e_license_no=str(m.get("e_license_no") or ""), received_at=local_time(m.get("received_at")),
            supplied_as=str(m.get("supplied_as") or ""), supplied_note=str(m.get("supplied_note") or ""))


def _replay(case: Case, event: dict[str, Any]) -> None:
    """One event onto the rebuilt case and its timeline (what the county's copy tells of it)."""
    kind, payload = str(event.get("kind") or ""), event.get("payload") or {}
    label = EVENT_KINDS.get(kind, kind)
    message = f"{label}（县级平台副本，原记录时间 {event.get('occurred_at') or '未知'}）"
    if kind in ("case.materials_updated", "case.supplemented") and isinstance(payload.get("materials"), list):
        _store_materials(case, payload["materials"])
    elif kind == "case.status_changed" and payload.get("status") in CASE_STATUSES:
        case.status = payload["status"]
    elif kind == "case.delivered":
        # the county's copy names the collector masked; the sealed number stayed on the lost PC
        case.status = "delivered"
        case.delivered_at = local_time(event.get("occurred_at")) or case.delivered_at
        case.delivery = {k: v for k, v in payload.items() if k != "by"}
    elif kind == "case.withdrawn":
        # her reason comes back from the county's copy (stored sealed again: Case.status_reason)
        case.status = "withdrawn"
        case.status_reason = str(payload.get("reason") or "")
        case.closed_at = local_time(payload.get("withdrawn_at")) or local_time(event.get("occurred_at")) or case.closed_at
    elif kind == "case.note":
        # stored sealed, as every timeline line (TimelineEntry.message): free text may carry a phone number
        timeline.record(case, ACTOR, "note", str(payload.get("text") or ""), {"seq": event.get("seq")})
        return
    timeline.record(case, ACTOR, "restored_event", message, {"seq": event.get("seq"), "kind": kind})


def local_time(value: Any) -> dt.datetime | None:
    """An ISO time with offset as the station's naive local time (how the station stores times)."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
