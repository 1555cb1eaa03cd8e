"""The event kinds a station sends the county, and the shape of each event's body (``payload``).

The station writes these bodies into its outbox and the hub reads them on ingest; both take the
kind names and the shape from here, so a key cannot be renamed on one side only. The set of
kinds is open: a new kind is a constant, a line in :data:`BODIES` and (on the hub) an optional
handler. Bodies are open too: keys not listed are kept and ignored, so a newer station can add
a key without an older hub refusing its events.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules import evaluations
from rules.home_visits import OUTCOMES as HOME_VISIT_OUTCOMES

SUBMITTED = "case.submitted"  # the full case as taken at the station
MATERIALS_UPDATED = "case.materials_updated"  # materials or scans added, 委托书 signed
STATUS_CHANGED = "case.status_changed"
NOTE = "case.note"
DELIVERED = "case.delivered"  # result handed over (送达)
SUPPLEMENTED = "case.supplemented"  # the station answered the county's 补正 request
EVALUATED = "case.evaluated"  # 好差评
ORIGINALS_HANDOVER = "case.originals_handover"  # 物料流转: the case's papers changed hands in a transfer batch
ORIGINALS_PACKED = "case.originals_packed"  # 物料流转: the case's papers went into a transfer batch (its lines)
COMMITMENT_UNKEPT = "case.commitment_unkept"  # a deferred material's promised date passed without it
WITHDRAWN = "case.withdrawn"  # the applicant withdrew her application (撤回申请) before the county decided
#: Who asked for a withdrawal (``requested_by``): labels.WITHDRAW_REQUESTERS words them.
WITHDRAW_REQUESTERS = ("applicant", "proxy")
# 上门服务: a visit's own stream (``case_id`` is the visit's id, not a case's): recorded once, then a
# ``visit.case_taken`` per case taken during it. The hub files them apart from cases (no HubCase).
VISIT_RECORDED = "visit.recorded"
VISIT_CASE_TAKEN = "visit.case_taken"

_TYPE_WORDS = {str: "文字", int: "整数", bool: "true 或 false", dict: "JSON 对象", list: "列表"}


@dataclass(frozen=True)
class BodyShape:
    """Which payload keys a kind must carry, which it may carry, and the JSON type of each.

    ``one_of``: at least one of these keys must be present (a materials update that updates
    nothing is a mistake). A listed key may be ``null`` only if it is optional.
    """

    required: Mapping[str, type] = field(default_factory=dict)
    optional: Mapping[str, type] = field(default_factory=dict)
    one_of: tuple[str, ...] = ()
    check: Callable[[dict[str, Any]], str | None] | None = None  # a rule beyond the shape (a 差评's reason)


BODIES: Mapping[str, BodyShape] = {
    # What services.cases.snapshot writes; the hub files the case under these.
    SUBMITTED: BodyShape(
        required={"case_no": str, "decision": str, "applicant": dict},
        optional={"query_code": str, "item_code": str, "impl_code": str, "item_name": str, "mode": str,
                  "bundle_code": str, "bundle_group": str, "proxy": dict, "materials": list,
                  "form_values": dict, "form_labels": dict, "pickup_method": str, "statutory_due": str,
                  "committed_due": str, "deadline_provisional": bool, "received_at": str, "agent": dict,
                  "attachments": list, "received_area": str, "received_station_name": str, "handling_area": str,
                  "received_station_code": str,
                  "handling_area_name": str,
                  "bundle": dict},
    ),
    MATERIALS_UPDATED: BodyShape(
        # ``arrived``: keys of deferred (容缺) materials that were handed in with this update
        optional={"materials": list, "attachments": list, "authorization_signed": bool, "arrived": list},
        one_of=("materials", "attachments", "authorization_signed"),
    ),
    # ``recount``: the station counted the case's 暂定 法定/承诺 dates again when its holiday table
    # changed (station/services/case_deadlines.py): the dates as they now stand and as the station
    # last told them (``previous_*``), so the hub moves its own only while they are still the
    # station's (RECOUNT_KEYS). A key of the note, not a kind of its own: a hub one version behind
    # answers an unknown kind ``unknown_kind`` (not retryable), which would set the case's stream
    # aside at the station; an unknown key it keeps and ignores, filing the note as before.
    NOTE: BodyShape(required={"text": str}, optional={"by": str, "recount": dict},
                    check=lambda body: recount_problem(body.get("recount"))),
    # ``supplied``: one {"key", "name", "supplied_as", "note"} per material the county asked for;
    # ``materials``: every material of the case as it stands now (the same rows as SUBMITTED's).
    SUPPLEMENTED: BodyShape(required={"supplied": list, "materials": list},
                            optional={"note": str, "by": str, "supplied_at": str},
                            check=lambda body: supplied_problem(body["supplied"])),
    # ``method``: a key of labels.PICKUP_METHODS; ``delivered_on``: ISO date handed over or posted.
    # ``collector``: {"kind", "name", "cert_type", "id_masked", "relation"} for a window pickup.
    DELIVERED: BodyShape(required={"method": str, "delivered_on": str},
                         optional={"collector": dict, "ems_no": str, "address": str, "receiver": str,
                                   "by": str}),
    # One per case of the batch at each handover. ``items``: {"material_name", "form", "copies", "state"}
    # (state present / missing / extra); ``receiver`` is masked when it is the resident.
    ORIGINALS_HANDOVER: BodyShape(required={"batch_no": str, "handover": int, "giver": str, "receiver": str,
                                            "at": str, "items": list},
                                  optional={"transfer_id": str, "place": str, "direction": str,
                                            "destination": str, "missing": list, "extra": list, "note": str,
                                            "receiver_kind": str, "arrived": bool, "handover_id": str}),
    # One per case of the batch when it is packed, so the county knows the batch (its barcode and
    # this case's lines) before the papers reach it. ``items`` as for ORIGINALS_HANDOVER.
    ORIGINALS_PACKED: BodyShape(required={"transfer_id": str, "batch_no": str, "items": list},
                                optional={"direction": str, "destination": str, "created_by": str,
                                          "created_at": str}),
    # 好差评 taken at the station (rules/evaluations.py): ``evaluation_id`` a client id, ``visit`` the
    # visit key (one first rating per case and visit), ``level`` by name, ``rated_at`` ISO with offset.
    EVALUATED: BodyShape(required={"evaluation_id": str, "visit": str, "level": str, "channel": str,
                                   "rated_at": str},
                         optional={"kind": str, "reason_tag": str, "reason_text": str, "agent": str},
                         check=lambda body: evaluations.problem(body.get("level"), body.get("reason_tag"),
                                                                body.get("reason_text"), body.get("channel"),
                                                                body.get("kind") or "first")),
    # ``key``/``name``: the material; ``due_date``: the promised ISO date; ``note``: what the agent
    # learned; ``materials``: every material of the case as it stands now.
    COMMITMENT_UNKEPT: BodyShape(required={"key": str, "name": str, "due_date": str, "note": str},
                                 optional={"by": str, "recorded_at": str, "materials": list}),
    # ``reason``: the resident's words (free text); ``requested_by``: one of WITHDRAW_REQUESTERS;
    # ``withdrawn_at``: ISO date-time with offset, when the station recorded it.
    WITHDRAWN: BodyShape(required={"reason": str, "requested_by": str},
                         optional={"by": str, "withdrawn_at": str},
                         check=lambda body: withdrawal_problem(body)),
    # Not yet written by the station: the hub keeps the body whole on the case.
    STATUS_CHANGED: BodyShape(),
    # ``resident``: {"name", "phone", "address"} in full (the hub seals them); ``visited_on`` ISO date;
    # ``started_at``/``ended_at`` HH:MM; ``village_code`` 12 digits or ""; ``outcome`` a key of
    # labels.HOME_VISIT_OUTCOMES.
    VISIT_RECORDED: BodyShape(required={"visited_on": str, "started_at": str, "staff": str, "resident": dict,
                                        "purpose": str, "outcome": str},
                              optional={"ended_at": str, "village_code": str, "outcome_note": str,
                                        "appointment_id": str, "by": str},
                              check=lambda body: visit_problem(body)),
    VISIT_CASE_TAKEN: BodyShape(required={"case_id": str, "case_no": str}),
}
#: The kinds of a home visit's stream, filed by the hub apart from cases.
VISIT_KINDS = (VISIT_RECORDED, VISIT_CASE_TAKEN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A ``case.note``'s ``recount``: each date ISO or null (a case without that line), the calendar
#: it was counted with (``reason``: county / station / seed, ``calendar_version``), and whether a
#: date is still 暂定 after it.
RECOUNT_DATES = ("statutory_due", "committed_due", "previous_statutory_due", "previous_committed_due")
RECOUNT_KEYS = BodyShape(required={"reason": str},
                         optional={"provisional": bool, "calendar_version": str,
                                   **{key: str for key in RECOUNT_DATES}})
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_VILLAGE = re.compile(r"\d{12}")


def _not_a_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return True
    return False


def recount_problem(recount: Any) -> str | None:
    """Why a note's ``recount`` is unusable, in Chinese; None when it is sound or absent."""
    if recount is None:
        return None
    problem = _shape_problem(RECOUNT_KEYS, recount)
    if problem:
        return f"事件「{NOTE}」的 recount：{problem}"
    for key in RECOUNT_DATES:
        value = recount.get(key)
        if value is not None and (not _DATE.fullmatch(value) or _not_a_date(value)):
            return f"事件「{NOTE}」的 recount.{key} 应为日期（如 2027-01-04）或 null。"
    return None


def _shape_problem(shape: BodyShape, body: dict[str, Any]) -> str | None:
    missing = [key for key in shape.required if body.get(key) is None]
    if missing:
        return f"缺少 {'、'.join(missing)}。"
    for key, expected in (*shape.required.items(), *shape.optional.items()):
        value = body.get(key)
        if value is not None and not _is(value, expected):
            return f"{key} 应为{_TYPE_WORDS[expected]}。"
    return None


def visit_problem(body: Mapping[str, Any]) -> str | None:
    """Why a ``visit.recorded`` body is unusable beyond its shape, in Chinese; None when it is sound."""
    kind = VISIT_RECORDED
    if not _DATE.fullmatch(body["visited_on"]) or _not_a_date(body["visited_on"]):
        return f"事件「{kind}」的 visited_on 应为日期（如 2026-12-01）。"
    for key in ("started_at", "ended_at"):
        value = body.get(key)
        if value and not _TIME.fullmatch(value):
            return f"事件「{kind}」的 {key} 应为时间（如 09:30）。"
    if body.get("village_code") and not _VILLAGE.fullmatch(body["village_code"]):
        return f"事件「{kind}」的 village_code 须为 12 位行政区划代码。"
    if body["outcome"] not in HOME_VISIT_OUTCOMES:
        return f"事件「{kind}」的 outcome 不是已知的上门结果。"
    resident = body["resident"]
    for key in ("name", "phone", "address"):
        if not isinstance(resident.get(key, ""), str):
            return f"事件「{kind}」的 resident.{key} 应为文字。"
    if not (resident.get("name") or "").strip() or not body["staff"].strip():
        return f"事件「{kind}」须写明服务对象姓名和上门人员。"
    return None

def withdrawal_problem(body: Mapping[str, Any]) -> str | None:
    """Why a ``case.withdrawn`` body is unusable beyond its shape, in Chinese; None when it is sound.

    The county shows the reason to its clerk and the requester on the case: an empty reason or an
    unknown requester would be a withdrawal nobody can account for.
    """
    if not body["reason"].strip():
        return f"事件「{WITHDRAWN}」须写明撤回原因。"
    if body["requested_by"] not in WITHDRAW_REQUESTERS:
        return f"事件「{WITHDRAWN}」的 requested_by 应为 {' 或 '.join(WITHDRAW_REQUESTERS)}。"
    return None


#: 只提交一次: what a material row may say it relied on, and the keys each must carry. ``reused``: the
#: earlier verification of a material kept for the resident (who, where, when, under which case);
#: ``licence``: the county's electronic licence that stood in for the paper. Other keys are kept.
MATERIAL_ORIGINS: Mapping[str, BodyShape] = {
    "reused": BodyShape(required={"verified_at": str, "verified_by": str, "station_code": str},
                        optional={"station_name": str, "case_no": str, "valid_until": str, "sha256": str,
                                  "kept_id": str, "rechecked": bool}),
    "licence": BodyShape(required={"kind": str, "number": str, "issuer": str},
                         optional={"valid_until": str, "issued_on": str, "checked_at": str, "check_id": str}),
}
#: The kinds whose ``materials`` rows are checked against MATERIAL_ORIGINS.
WITH_MATERIALS = (SUBMITTED, MATERIALS_UPDATED, SUPPLEMENTED)
#: 跨域办 (收件地 / 办理地): administrative division codes, a county's 6 digits or a village's 12.
AREA_KEYS = ("received_area", "handling_area")
AREA_CODE = re.compile(r"\d{6}(\d{6})?")

#: Every kind this code knows; the hub answers any other kind with ``unknown_kind``.
KINDS: frozenset[str] = frozenset(BODIES)


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def body_problem(kind: str, payload: Any) -> str | None:
    """Return a Chinese reason when ``payload`` does not have the shape of ``kind``, else None.

    An unknown kind has no shape to break (the caller answers it on its own), so it passes.
    """
    shape = BODIES.get(kind)
    if shape is None:
        return None
    if not isinstance(payload, dict):
        return "事件内容 payload 须为 JSON 对象。"
    missing = [key for key in shape.required if payload.get(key) is None]
    if missing:
        return f"事件「{kind}」的内容缺少 {'、'.join(missing)}。"
    for key, expected in (*shape.required.items(), *shape.optional.items()):
        value = payload.get(key)
        if value is not None and not _is(value, expected):
            return f"事件「{kind}」的 {key} 应为{_TYPE_WORDS[expected]}。"
    if shape.one_of and all(payload.get(key) is None for key in shape.one_of):
        return f"事件「{kind}」的内容须包含 {'、'.join(shape.one_of)} 之一。"
    for key in AREA_KEYS:
        value = payload.get(key)
        if value is not None and not AREA_CODE.fullmatch(value):
            return f"事件「{kind}」的 {key} 须为 6 位或 12 位行政区划代码。"
    if kind in WITH_MATERIALS and isinstance(payload.get("materials"), list):
        problem = materials_problem(kind, payload["materials"])
        if problem:
            return problem
    if shape.check is not None:
        problem = shape.check(payload)
        if problem:
            return problem
    if kind == SUBMITTED and payload.get("bundle") is not None:
        return bundle_problem(payload)
    return None


#: One row of a 补正 answer's ``supplied``: the material asked for and how it was brought.
SUPPLIED_ROW: Mapping[str, type] = {"key": str, "name": str, "supplied_as": str, "note": str}


def supplied_problem(rows: list[Any]) -> str | None:
    """A Chinese reason when a row of a 补正 answer is not ``{key, name, supplied_as, note}``, else None.

    The county's case page lists the rows; one that was a bare string or a number was taken and
    then broke that page for every clerk who opened the case.
    """
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not row["key"]:
            return f"事件「{SUPPLEMENTED}」的 supplied 每一项应为含 key 的 JSON 对象。"
        for key, expected in SUPPLIED_ROW.items():
            value = row.get(key)
            if value is not None and not _is(value, expected):
                return f"事件「{SUPPLEMENTED}」中“{row.get('name') or row['key']}”的 {key} 应为{_TYPE_WORDS[expected]}。"
    return None


def materials_problem(kind: str, rows: list[Any]) -> str | None:
    """A Chinese reason when a material row's ``reused`` or ``licence`` record is malformed, else None."""
    for row in rows:
        if not isinstance(row, dict):
            return f"事件「{kind}」的 materials 每一项应为JSON 对象。"
        for origin, shape in MATERIAL_ORIGINS.items():
            record = row.get(origin)
            if record is None:
                continue
            name = row.get("name") or row.get("key") or "材料"
            if not isinstance(record, dict):
                return f"事件「{kind}」中“{name}”的 {origin} 应为JSON 对象。"
            missing = [key for key in shape.required if not record.get(key)]
            if missing:
                return f"事件「{kind}」中“{name}”的 {origin} 缺少 {'、'.join(missing)}。"
            for key, expected in (*shape.required.items(), *shape.optional.items()):
                value = record.get(key)
                if value is not None and not _is(value, expected):
                    return f"事件「{kind}」中“{name}”的 {origin}.{key} 应为{_TYPE_WORDS[expected]}。"
    return None


#: ``bundle`` in a ``case.submitted`` body (issue 19): the 一件事 this case was taken in.
#: ``group``: the id shared by the bundle's cases (equal to ``bundle_group``); ``query_code``: the one
#: code printed for the whole bundle; ``position`` of this case among ``size`` (1-based).
BUNDLE_KEYS: Mapping[str, type] = {"code": str, "name": str, "group": str, "query_code": str,
                                   "position": int, "size": int}
MAX_BUNDLE_SIZE = 20


def bundle_problem(payload: Mapping[str, Any]) -> str | None:
    """Why a ``case.submitted`` body's bundle membership is unusable, in Chinese; None when it is sound.

    The county files the bundle's items under one query code by ``group``, so a membership that
    names another group than the case's own, or a position outside the bundle, is refused.
    """
    bundle = payload["bundle"]
    for key, expected in BUNDLE_KEYS.items():
        value = bundle.get(key)
        if value is None or not _is(value, expected) or (expected is str and not value.strip()):
            return f"事件「{SUBMITTED}」的 bundle.{key} 应为{'非空' if expected is str else ''}{_TYPE_WORDS[expected]}。"
    if bundle["group"] != payload.get("bundle_group"):
        return f"事件「{SUBMITTED}」的 bundle.group 与 bundle_group 不一致。"
    if not 2 <= bundle["size"] <= MAX_BUNDLE_SIZE or not 1 <= bundle["position"] <= bundle["size"]:
        return f"事件「{SUBMITTED}」的 bundle.position 应在 1 至 bundle.size（2至{MAX_BUNDLE_SIZE}）之间。"
    return None
