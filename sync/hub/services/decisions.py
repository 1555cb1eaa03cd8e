"""County clerk decisions on cases; each one becomes a change that flows back to the station."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from peewee import Expression, IntegrityError

from rules.labels import COUNTY_DECISIONS, HUB_CASE_STATUSES, MATERIAL_STATUSES
from sync import protocol
from sync.hub.china_time import china_naive
from sync.hub.extensions import db
from sync.hub.models import Decision, HubCase, Peer, Station, utcnow
from sync.hub.services import changes, licences, personal, tally, users
from sync.hub.services.errors import InvalidTransition, NotFound, ValidationError

ACCEPT = protocol.CASE_STATUS_ACCEPTED
SUPPLEMENT = protocol.CASE_STATUS_SUPPLEMENT
REJECT = protocol.CASE_STATUS_REJECTED
COMPLETE = protocol.CASE_STATUS_COMPLETED


#: Which statuses each decision may be taken from. 补正 comes before 受理 (行政许可法 §32),
#: 办结 only after 受理; 不予受理 and 办结 are final.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    ACCEPT: frozenset({"submitted", SUPPLEMENT}),
    SUPPLEMENT: frozenset({"submitted", SUPPLEMENT}),
    REJECT: frozenset({"submitted", SUPPLEMENT}),
    COMPLETE: frozenset({ACCEPT}),
}
#: Materials the station settled as not to be brought (issue 19): never on a 补正 list as missing.
NOT_DEMANDED = frozenset({"not_applicable", "in_bundle"})
_HUB_CASE_NO = re.compile(r"^[0-9A-Za-z-]{1,50}$")
#: A 补正 or 不予受理 reason and a result's text go to the station, onto the resident's paper and the
#: public progress page: a clerk's paste of a whole document there is refused, not printed.
TEXT_MAX = 500


@dataclass(frozen=True)
class DecisionInput:
    """What the clerk submitted; which fields matter depends on ``kind``."""

    kind: str
    hub_case_no: str | None = None
    reason: str | None = None
    supplement_keys: tuple[str, ...] = ()
    result: str | None = None
    result_text: str | None = None
    certificate_no: str | None = None


def allowed_decisions(status: str, *, awaiting_supply: bool = False) -> list[str]:
    """Decisions the clerk may take on a case in ``status`` (the UI shows only these forms).

    ``awaiting_supply``: a 补正 was sent and the station has not yet handed in the materials; the
    list of missing materials is given once and in full (行政许可法 §32, 一次性告知), so no second one."""
    return [kind for kind, sources in ALLOWED_FROM.items()
            if status in sources and not (kind == SUPPLEMENT and awaiting_supply)]


def awaiting_supply(case: HubCase) -> bool:
    """The case is 待补正 and the station has not reported the materials handed in since."""
    return case.status == SUPPLEMENT and case.supplied_at is None


def _supplement_items(case: HubCase, keys: tuple[str, ...]) -> list[dict[str, str]]:
    materials = {str(m.get("key") or m.get("name")): m for m in (case.snapshot or {}).get("materials") or []
                 if isinstance(m, dict)}
    items = []
    for key in keys:
        if key not in materials:
            raise ValidationError(f"补正材料「{key}」不在该办件的材料清单中。")
        if materials[key].get("status") in NOT_DEMANDED:
            name = materials[key].get("name") or key
            raise ValidationError(f"「{name}」站点已登记为{MATERIAL_STATUSES[materials[key]['status']]}，"
                                  "不能列为补正材料；如确需申请人提供，请在补正说明中写明理由。")
        items.append({"key": key, "name": str(materials[key].get("name") or key)})
    return items


def _checked_length(text: str | None, what: str) -> None:
    if text and len(text) > TEXT_MAX:
        raise ValidationError(f"{what}最多 {TEXT_MAX} 个字（现在 {len(text)} 个），请精简后再提交。")


def _validate(case: HubCase, data: DecisionInput, *, own: bool = True) -> dict[str, Any]:
    """Check the input for its kind and return the Decision fields.

    ``own`` is False for a peer county's decision (跨域办): what it decided is recorded as it came."""
    reason = (data.reason or "").strip() or None
    if own:
        _checked_length(reason, {SUPPLEMENT: "补正说明", REJECT: "不予受理理由"}.get(data.kind, "说明"))
        _checked_length((data.result_text or "").strip(), "结果说明")
    fields: dict[str, Any] = {"reason": reason, "supplement_items": [], "result": None, "result_text": None,
                              "hub_case_no": case.hub_case_no, "certificate_no": None}
    if data.kind == ACCEPT:
        number = (data.hub_case_no or "").strip()
        if number and not _HUB_CASE_NO.match(number):
            raise ValidationError("办件编号只能由字母、数字和连字符组成，最长 50 位。")
        fields["hub_case_no"] = number or None
    elif data.kind == SUPPLEMENT:
        fields["supplement_items"] = _supplement_items(case, data.supplement_keys)
        if not fields["supplement_items"] and not reason:
            raise ValidationError("补正须勾选需补正的材料或填写补正说明。")
    elif data.kind == REJECT:
        if not reason:
            raise ValidationError("不予受理须填写理由。")
    elif data.kind == COMPLETE:
        if data.result not in (protocol.RESULT_APPROVED, protocol.RESULT_DENIED):
            raise ValidationError("办结须选择办理结果（准予 / 不予）。")
        fields["result"] = data.result
        fields["result_text"] = (data.result_text or "").strip() or None
        if data.result == protocol.RESULT_DENIED and not fields["result_text"]:
            raise ValidationError("办理结果为不予许可时须填写结果说明。")
        certificate = (data.certificate_no or "").strip()
        if certificate and data.result != protocol.RESULT_APPROVED:
            raise ValidationError("不予许可的结果没有证书编号。")
        if len(certificate) > 60:
            raise ValidationError("证书编号最长 60 个字。")
        fields["certificate_no"] = certificate or None
    else:
        raise ValidationError("未知的决定类型。")
    return fields


def decided_elsewhere(case: HubCase) -> str | None:
    """Why this county's clerks may not decide ``case`` (a 跨域办 case another county handles), or None.

    A case is this county's to decide when it names no handling county, when it came from a peer
    county's hub (this is the handling county: its ``add-station --peer``), or when it names this
    county's own ``AREA_CODE``. Any other ``handling_area`` is another county's, linked or not:
    decided here, it would be decided there too once the link was added — whether or not this hub
    was given its own area code (without one, every such case was offered to its clerks).
    """
    if not case.handling_area or case.station.is_peer:
        return None
    if Peer.select().where(Peer.area_code == case.handling_area).exists():
        return "本件为跨域办，由办理地县级平台受理和办结；其决定将自动同步到本平台。"
    if case.handling_area == str(current_app.config.get("AREA_CODE") or ""):
        return None
    return (f"本件为跨域办，办理地为 {case.handling_area}，不由本县决定；本平台尚未与该县平台互联，"
            "请县级管理员添加互联后，办件将自动转交该县，其决定自动同步到本平台。")


def handling_county(case: HubCase) -> str:
    """The county that decides ``case`` when it is not this one (:func:`decided_elsewhere`), else "".

    Named as the catalog names it (her receipt's 办理地), else by its area code: the resident's page
    and the batch pages say whose decision she waits for and where the originals go on to.
    """
    if not decided_elsewhere(case):
        return ""
    return str((case.snapshot or {}).get("handling_area_name") or case.handling_area)


def elsewhere_condition() -> Expression:
    """:func:`decided_elsewhere` as a condition over ``HubCase`` joined to its ``Station``.

    For the lists that must keep another county's cases apart (the 四条线 warnings, the dashboard's
    overdue counts): the same rule, so a case never counts as this county's on one page and as the
    handling county's on another. Cheap: ``handling_area`` is indexed only where set.
    """
    own = str(current_app.config.get("AREA_CODE") or "")
    return (HubCase.handling_area.is_null(False) & (HubCase.handling_area != "")
            & (Station.is_peer == False)  # noqa: E712 - peewee builds SQL from ==
            & (HubCase.handling_area.in_(Peer.select(Peer.area_code)) | (HubCase.handling_area != own)))


def decide(case_id: str, data: DecisionInput, *, clerk: str, from_peer: bool = False,
           at: dt.datetime | None = None) -> Decision:
    """Record a decision, move the case, and emit its ``case.status`` change — all or nothing.

    ``at`` (UTC) dates a decision taken earlier on paper and entered now (and the demo's month);
    the station closes the case on that date, not on the day it pulls the change.

    The status update is conditional on the status we validated against, so two clerks
    deciding the same case at once cannot both win. A 跨域办 case forwarded to the county that
    handles it is decided there; here only that county's decision is recorded (``from_peer``).
    """
    case = HubCase.get_or_none(HubCase.case_id == case_id)
    if case is None:
        raise NotFound("办件不存在。")
    elsewhere = None if from_peer else decided_elsewhere(case)
    if elsewhere:
        raise InvalidTransition(elsewhere)
    if not case.snapshot:
        raise InvalidTransition("尚未收到该办件的完整信息（case.submitted），暂不能作出决定。")
    if data.kind not in ALLOWED_FROM:  # a forged form: its word would land in the message
        raise ValidationError("未知的决定类型。")
    # A peer county's 办结/不予受理 on a case withdrawn here was taken before the withdrawal reached it (it
    # refuses any decision after): taken first, it stands, as on a county's own case (case_view._apply_withdrawn)
    decided_first = from_peer and case.status == "withdrawn" and data.kind in (REJECT, COMPLETE)
    if case.status == "withdrawn" and not decided_first:
        raise InvalidTransition(f"申请人已撤回申请（服务站登记），办件已结束，不能{COUNTY_DECISIONS.get(data.kind, data.kind)}。")
    if case.status not in ALLOWED_FROM[data.kind] and not decided_first:
        label = COUNTY_DECISIONS.get(data.kind, data.kind)
        raise InvalidTransition(f"办件当前状态为「{HUB_CASE_STATUSES.get(case.status, case.status)}」，不能{label}。")
    if data.kind == SUPPLEMENT and awaiting_supply(case) and not from_peer:  # a second click, a form sent twice
        raise InvalidTransition("已一次性告知补正，申请人尚未补交材料，不能再次补正；补正材料须一次告知完整。"
                                "站点提交补正材料后，可再审核。")
    fields = _validate(case, data, own=not from_peer)
    late: dict[str, Any] = {}
    if decided_first:
        fields["hub_case_no"] = (data.hub_case_no or "").strip()[:50] or fields["hub_case_no"]  # its 受理 was not kept
        snapshot = dict(case.snapshot)
        snapshot["withdrawal"] = personal.seal_part({**(personal.open_part(snapshot.get("withdrawal")) or {}),
                                                     "late": data.kind})
        late = {"snapshot": snapshot}
    now = at or utcnow()
    if data.kind == ACCEPT and not fields["hub_case_no"]:
        # the platform's own 办件编号; with the county's area code in it, numbers of two counties
        # never collide when one records the other's decisions (跨域办, services/peers.py)
        area = str(current_app.config.get("AREA_CODE") or "")
        fields["hub_case_no"] = f"XJ{area}{now:%Y%m%d}{case.id:08d}"
    try:
        with db.atomic():
            closed = {"closed_at": china_naive(now)} if data.kind in (REJECT, COMPLETE) else {}
            held_now = tally.current([case.id])[case.id]
            updated = (HubCase.update(status=data.kind, hub_case_no=fields["hub_case_no"], updated_at=now,
                                      supplied_at=None, **closed, **late)
                       .where((HubCase.id == case.id) & (HubCase.status == case.status))
                       .execute())
            if updated != 1:
                raise InvalidTransition("该办件刚被其他人员处理，请刷新页面后再操作。")
            tally.record(held_now, status=data.kind, supplied_at=None, **closed)
            decision = Decision.create(case=case, kind=data.kind, clerk=clerk, decided_at=now, **fields)
            if data.kind == COMPLETE:  # a 残疾人证 and the like go into the licence register (免证办)
                licences.issue_for_decision(case, decision)
            changes.emit(protocol.CHANGE_CASE_STATUS, personal.seal_change(status_payload(case, decision)),
                         station=case.station, case_id=case.case_id)
    except IntegrityError as exc:
        raise ValidationError("该办件编号已被其他办件使用。") from exc
    return decision


def status_payload(case: HubCase, decision: Decision) -> dict[str, Any]:
    """The ``case.status`` change payload, as documented in docs/sync-protocol.md.

    ``clerk`` stays the account (login) that decided; ``clerk_name`` is the person residents and the
    station's staff read on the timeline and on paper.
    """
    return {
        "status": decision.kind,
        "case_no": case.case_no,
        "hub_case_no": decision.hub_case_no,
        "decided_at": decision.decided_at.replace(microsecond=0).isoformat() + "Z",
        "clerk": decision.clerk,
        "clerk_name": users.person_name(decision.clerk),
        "reason": decision.reason,
        "supplement_items": decision.supplement_items or [],
        "result": decision.result,
        "result_text": decision.result_text,
        "certificate_no": decision.certificate_no,
    }
