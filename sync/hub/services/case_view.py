"""What each event kind does to the county's view of a case (HubCase), once the event is accepted.

Each function takes the case (a stored row, or one first seen in this batch) and the event, and
returns the columns to change; writes besides the case's own (attachment links) go through
:func:`write`, now or held for the batch's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_app_context

from rules import events
from rules.statistics import deferred_outcome
from sync import protocol
from sync.hub.china_time import china_naive
from sync.hub.models import AttachmentLink, Decision, HubCase, utcnow
from sync.hub.services import changes, county_settings, evaluations, personal, transfers, workdays

#: A case as the apply functions see it: a stored row, or one first seen in this batch (new_case).
CaseView = HubCase | SimpleNamespace
#: Writes a batch makes besides its events and cases (conflict copies, attachment links), held
#: back until the batch's transaction; None means "write now" (one event per transaction).
Deferred = list[Callable[[], Any]] | None


def write(query: Any, writes: Deferred) -> None:
    """Run an insert now, or hold it for the batch's transaction."""
    if writes is None:
        query.execute()
    else:
        writes.append(query.execute)


# (name, default) of every HubCase column but the id, for cases first seen in a batch
CASE_DEFAULTS = [(field.name, field.default) for field in HubCase._meta.sorted_fields if field.name != "id"]


def new_case(case_id: str, station_id: int, now: dt.datetime) -> SimpleNamespace:
    """A case first seen in this batch, as plain attributes until its row is inserted.

    A peewee instance runs a descriptor for every field set; a batch creates hundreds of cases.
    The apply functions read the same names (``station_id`` too) either way.
    """
    values = {name: default() if callable(default) else default for name, default in CASE_DEFAULTS}
    values.update(case_id=case_id, station=station_id, station_id=station_id, last_seq=0,
                  created_at=now, updated_at=now)
    return SimpleNamespace(**values)


def case_row(case: SimpleNamespace) -> dict[str, Any]:
    """A new case's columns for a multi-row insert (every field, defaults included)."""
    return {name: getattr(case, name) for name, _default in CASE_DEFAULTS}


def _link_attachments(case: CaseView, attachments: Any, writes: Deferred) -> None:
    for item in attachments or []:
        if isinstance(item, dict) and protocol.is_sha256(item.get("sha256")):
            write(AttachmentLink.insert(station=case.station_id, case_id=case.case_id, sha256=item["sha256"],
                                        filename=str(item.get("filename") or "")[:255] or None,
                                        size=_size_or_none(item.get("size")),
                                        content_type=str(item.get("content_type") or "")[:100] or None,
                                        linked_at=utcnow())
                  .on_conflict_ignore(), writes)


def _size_or_none(value: Any) -> int | None:
    """A file size the column holds, else None (a size is only shown, never trusted)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= protocol.MAX_INT32:
        return value
    return None


def _date_or_none(value: Any) -> str | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def _day_text(value: Any) -> str | None:
    """A due date as held (a date on a stored row, ISO text on a case first seen in this batch) as ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return _date_or_none(value)


def _apply_submitted(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    payload = event["payload"]
    applicant = payload.get("applicant") if isinstance(payload.get("applicant"), dict) else {}
    decision = payload.get("decision")
    _link_attachments(case, payload.get("attachments"), writes)
    updates: dict[str, Any] = {
        "snapshot": personal.seal_snapshot(payload),  # numbers and addresses sealed at rest
        **personal.id_indexes(payload),  # the county's search by ID number
        "case_no": str(payload.get("case_no") or "")[:64] or None,
        "query_code": str(payload.get("query_code") or "")[:32] or None,
        "bundle_group": str(payload.get("bundle_group") or "")[:40] or None,
        "item_code": str(payload.get("item_code") or "")[:64] or None,
        "impl_code": str(payload.get("impl_code") or "")[:64] or None,
        "item_name": str(payload.get("item_name") or "")[:200] or None,
        "applicant_name": str(applicant.get("name") or "")[:100] or None,
        "mode": str(payload.get("mode") or "")[:16] or None,
        "station_decision": str(decision or "")[:16] or None,
        "catalog_version": event["catalog_version"],
        "statutory_due": _date_or_none(payload.get("statutory_due")),
        "committed_due": _date_or_none(payload.get("committed_due")),
        "received_at": str(payload.get("received_at") or "")[:40] or None,
        "received_time": china_naive(payload.get("received_at")),
        "assessed_due": county_settings.assessed_due(payload.get("item_code"), china_naive(payload.get("received_at"))),
        "assessed_counted_on": (china_naive(now) or now).date(),  # the calendar of this moment (holidays.publish recounts)
        "area_code": str(applicant.get("area_code") or "")[:12],
        "commitment": any(isinstance(m, dict) and m.get("status") == "commitment" for m in payload.get("materials") or []),
        **deferred_columns(payload.get("materials")),
        "agent_name": str((payload.get("agent") if isinstance(payload.get("agent"), dict) else {}).get("name")
                          or "")[:100],
        # 跨域办: where it was taken (申报地) and which county handles it (受理地/办结地); rules/events checked the codes
        "received_area": payload.get("received_area") or None,
        "handling_area": payload.get("handling_area") or None,
    }
    if case.last_seq == 0:
        # A station holding the power to accept (委托受理) already accepted; a case it could not
        # collect is on record only. Everything else waits for the county's 受理.
        updates["status"] = {"accepted": "accepted", "not_collected": "not_collected"}.get(decision, "submitted")
    return updates


def _apply_materials(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    payload = event["payload"]
    snapshot = dict(case.snapshot or {})
    if isinstance(payload.get("materials"), list):
        snapshot["materials"] = personal.seal_materials(payload["materials"])  # licence numbers sealed at rest
    if isinstance(payload.get("attachments"), list):
        known = {a.get("sha256") for a in snapshot.get("attachments") or [] if isinstance(a, dict)}
        snapshot["attachments"] = list(snapshot.get("attachments") or []) + [
            a for a in payload["attachments"] if isinstance(a, dict) and a.get("sha256") not in known]
        _link_attachments(case, payload["attachments"], writes)
    # Not 已补正待审: a 容缺 material or a signed 委托书 arriving while a 补正 is open answers nothing
    # the county asked, and flagging it told the resident's page 补正材料已交 before anything was
    # brought. The answer to a 补正 is its own event, case.supplemented (_apply_supplemented).
    return {"snapshot": snapshot, **deferred_columns(snapshot.get("materials"))}


def deferred_columns(materials: Any) -> dict[str, int]:
    """容缺 materials of the latest list: how many, brought on or before their date, brought late."""
    counted: Counter[str] = Counter()
    for m in materials if isinstance(materials, list) else []:
        if not isinstance(m, dict) or not _date_or_none(m.get("due_date")):
            continue
        counted["total"] += 1
        counted[deferred_outcome(str(m.get("status") or ""), m.get("received_at"), m["due_date"])] += 1
    return {"deferred_total": counted["total"], "deferred_on_time": counted["on_time"],
            "deferred_late": counted["late"]}


def _apply_supplemented(case: CaseView, event: dict[str, Any], now: dt.datetime,
                        writes: Deferred = None) -> dict[str, Any]:
    """The station answered a 补正: its materials as they now stand, and the answer kept in order.

    The case stays 待补正 for the county's next decision; ``supplied_at`` marks it 已补正待审.
    """
    payload = event["payload"]
    snapshot = dict(case.snapshot or {})
    if isinstance(payload.get("materials"), list):
        snapshot["materials"] = personal.seal_materials(payload["materials"])
    answer = {key: payload.get(key) for key in ("supplied", "note", "by", "supplied_at")}
    snapshot["supplements"] = personal.seal_part([*(personal.open_part(snapshot.get("supplements")) or []), answer])
    updates: dict[str, Any] = {"snapshot": snapshot, **deferred_columns(snapshot.get("materials"))}
    if case.status == "supplement":
        if case.supplied_at is None:  # the first answer to this 补正 restarts the clocks
            moved = resumed_dues(case, payload.get("supplied_at"), now)
            updates.update(moved)
            if not moved.keys().isdisjoint(_RECOUNTED):  # the station moved its own with its calendar
                tell_dues(case, "supplement_pause", writes)
        updates["supplied_at"] = now
    return updates


def tell_dues(case: CaseView, reason: str, writes: Deferred) -> None:
    """Tell the case's station the county's 法定/承诺 dates (a ``case.dues`` change, in this transaction).

    The county is the authority once it holds the case: without this the station's agent, its lists and
    the resident's page there kept the station's own count while the county's was in force. The change
    is a reference served with the case's dates as they are then (services/changes.py); the station
    takes them and sends no recount for them.
    """
    station_id, case_id = case.station_id, case.case_id

    def store() -> None:
        changes.emit(protocol.CHANGE_CASE_DUES, {"reason": reason}, station=station_id, case_id=case_id)

    write(SimpleNamespace(execute=store), writes)


def resumed_dues(case: CaseView, answered: Any, now: dt.datetime) -> dict[str, Any]:
    """Each due date moved later by the working days the case waited for its 补正 materials.

    补正 time is not counted in the time limits (DOMAIN.md A.7): the clocks stop on the day the
    county asked (its 补正 decision) and run again on the day the resident brought the materials
    (the station's ``supplied_at``; the hub's receipt when the station gave none), counted with the
    county's work calendar as every deadline is.
    """
    asked = (Decision.select(Decision.decided_at)
             .where((Decision.case == case.id) & (Decision.kind == "supplement"))
             .order_by(Decision.decided_at.desc()).first())
    if asked is None:
        return {}
    start = china_naive(asked.decided_at).date()
    end = (china_naive(answered) or china_naive(now)).date()
    end = min(max(end, start), china_naive(now).date())  # never before the request, never in the future
    paused = workdays.calendar().working_days_between(start, end)
    if paused <= 0:
        return {}
    moved = {}
    for column in ("statutory_due", "committed_due", "assessed_due"):
        due = getattr(case, column)
        if due:
            due = due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due)[:10])
            moved[column] = workdays.due_after(due, paused).due
    return moved


def _apply_delivered(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    """The result reached the resident: a completed case becomes 已送达, the handover kept on it."""
    snapshot = dict(case.snapshot or {})
    snapshot["delivery"] = personal.seal_part(event["payload"])  # a postal handover holds her address
    updates: dict[str, Any] = {"snapshot": snapshot}
    if case.status == "completed":
        updates["status"] = "delivered"
    return updates


#: The county's statuses a withdrawal (撤回申请) ends: the application is still before the county.
WITHDRAWABLE = ("submitted", "accepted", "supplement")


def _apply_withdrawn(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    """The applicant withdrew her application at the station (撤回申请): an open case becomes 已撤回, closed.

    A case the county already decided for good (办结, 不予受理, or handed over) does not go back: the
    county's decision was taken first and stands. The withdrawal is still accepted, not held as a sync
    conflict — a conflict (services/classify.py) means two records of one event disagree and holds the
    case's later events until a person settles it, while here the station's record is sound and its later
    events (the handover of the result) must flow. It is kept on the case with ``late`` set to the status it
    met, and the clerk's case page says so: the county must tell her the result exists.
    """
    snapshot = dict(case.snapshot or {})
    withdrawal = {**event["payload"], "received_at": now.isoformat()}
    updates: dict[str, Any] = {}
    if case.status in WITHDRAWABLE:
        updates.update(status="withdrawn", closed_at=china_naive(now))
    else:
        withdrawal["late"] = case.status
    snapshot["withdrawal"] = personal.seal_part(withdrawal)  # her reason is free text: sealed at rest
    updates["snapshot"] = snapshot
    return updates


def _apply_commitment_unkept(case: CaseView, event: dict[str, Any], now: dt.datetime,
                             writes: Deferred = None) -> dict[str, Any]:
    """A deferred material's promise went unkept: its materials as they now stand, the record kept in order."""
    payload = event["payload"]
    snapshot = dict(case.snapshot or {})
    if isinstance(payload.get("materials"), list):
        snapshot["materials"] = personal.seal_materials(payload["materials"])
    record = {key: payload.get(key) for key in ("key", "name", "due_date", "note", "by", "recorded_at")}
    snapshot["unkept"] = personal.seal_part([*(personal.open_part(snapshot.get("unkept")) or []), record])
    return {"snapshot": snapshot}


def _apply_into_snapshot(key: str) -> Callable[..., dict[str, Any]]:
    def apply(case: CaseView, event: dict[str, Any], now: dt.datetime, writes: Deferred = None) -> dict[str, Any]:
        snapshot = dict(case.snapshot or {})
        snapshot[key] = event["payload"]
        return {"snapshot": snapshot}

    return apply


def _apply_handover(case: CaseView, event: dict[str, Any], now: dt.datetime,
                    writes: Deferred = None) -> dict[str, Any]:
    """A handover of the case's papers: kept in order on the case, so the county sees who holds them,
    and on the batch (services/transfers.py), so a county clerk can scan its barcode."""
    _keep_batch(case, event, now, writes)
    snapshot = dict(case.snapshot or {})
    snapshot["custody"] = personal.seal_part([*(personal.open_part(snapshot.get("custody")) or []), event["payload"]])
    return {"snapshot": snapshot}


def _keep_batch(case: CaseView, event: dict[str, Any], now: dt.datetime, writes: Deferred = None) -> dict[str, Any]:
    """The case's papers packed into a batch, or handed over: the batch, its lines for this case, the handover."""
    station_id, case_no = case.station_id, case.case_no
    village = str((case.snapshot or {}).get("received_station_name") or "")  # 跨域办: the station that took it

    def store() -> None:
        transfers.from_case_event(station_id, event["case_id"], event["kind"],
                                  {**event["payload"], "case_no": case_no or ""}, received_station_name=village)

    write(SimpleNamespace(execute=store), writes)
    return {}


def remedy_days() -> dict[str, int]:
    """The 整改 deadlines in working days (hub settings; the defaults outside a request)."""
    config = current_app.config if has_app_context() else {}
    return {"callback_days": int(config.get("REMEDY_CALLBACK_WORKING_DAYS", 1)),
            "fix_days": int(config.get("REMEDY_FIX_WORKING_DAYS", 15))}


def _apply_evaluated(case: CaseView, event: dict[str, Any], now: dt.datetime, writes: Deferred = None) -> dict[str, Any]:
    """好差评 from the station's kiosk: one row in the ratings table, a 整改 for a 差评 (services/evaluations.py)."""
    days = remedy_days()
    station_id, case_no = case.station_id, case.case_no

    def store() -> None:
        evaluations.record_from_station(station_id, event["case_id"], case_no, event["payload"], now, **days)

    write(SimpleNamespace(execute=store), writes)
    return {}


def _apply_note(case: CaseView, event: dict[str, Any], now: dt.datetime, writes: Deferred = None) -> dict[str, Any]:
    """A note: filed for the timeline as it is. One carrying the station's recount of its 暂定 dates
    (rules/events.py ``recount``) moves the case's 法定/承诺 dates — the lists, the 预警 and the roll-up
    read them — but only while they are still the ones the station sent.

    The county is the authority for the time limits once it holds the case: dates it moved itself
    (the days a 补正 took, services/case_view.py ``resumed_dues``, counted with its own calendar)
    differ from the station's ``previous_*`` and stay; the note says the station's dates all the same, and
    the station is told the county's (:func:`tell_dues`), so its pages stop showing its own.
    Each recount is kept on the case (``snapshot.recounts``) with whether it was taken.
    """
    recount = event["payload"].get("recount")
    if not isinstance(recount, dict):
        return {}
    held = {column: _day_text(getattr(case, column)) for column in _RECOUNTED}
    sent = {column: recount.get(f"previous_{column}") for column in _RECOUNTED}
    taken = held == sent
    snapshot = dict(case.snapshot or {})
    snapshot["recounts"] = [*(snapshot.get("recounts") or []),
                            {**recount, "at": event.get("occurred_at"), "taken": taken}]
    if not taken:
        if held != {column: _date_or_none(recount.get(column)) for column in _RECOUNTED}:
            tell_dues(case, "recount_not_taken", writes)  # the station holds its recount, the county's stand
        return {"snapshot": snapshot}
    counted_on = china_naive(event.get("occurred_at")) or china_naive(now)
    return {"snapshot": snapshot, "dues_counted_on": counted_on.date(),
            **{column: _date_or_none(recount.get(column)) for column in _RECOUNTED}}


#: The station's dates a recount may move; the 考核时限 is the county's own (county_settings.assessed_due).
_RECOUNTED = ("statutory_due", "committed_due")


def apply_nothing(case: CaseView, event: dict[str, Any], now: dt.datetime,
                   writes: Deferred = None) -> dict[str, Any]:
    return {}


#: Kind → apply function; a kind without one only moves the case's ``last_seq``.
APPLY: dict[str, Callable[..., dict[str, Any]]] = {
    events.SUBMITTED: _apply_submitted,
    events.MATERIALS_UPDATED: _apply_materials,
    events.STATUS_CHANGED: _apply_into_snapshot("station_status"),
    events.DELIVERED: _apply_delivered,
    events.SUPPLEMENTED: _apply_supplemented,
    events.COMMITMENT_UNKEPT: _apply_commitment_unkept,
    events.WITHDRAWN: _apply_withdrawn,
    events.EVALUATED: _apply_evaluated,
    events.NOTE: _apply_note,
    events.ORIGINALS_HANDOVER: _apply_handover,
    events.ORIGINALS_PACKED: _keep_batch,
}
