"""好差评 at the county: ratings from the public page by query code, and those stations send.

One first rating per case and visit (一次一评) and one 追评 after a 整改 — the unique index on
``(case_id, visit, kind)`` is what holds it, whichever way the rating came. A 差评 opens a 整改
(services/remedies.py); a rating given here goes down the changes feed so the station shows it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from rules import evaluations as rules
from rules import query_codes
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import HubCase, HubEvaluation, Remedy, Station, utcnow
from sync.hub.services import changes, remedies, stations
from sync.hub.services.errors import NotFound, ValidationError

ALREADY_RATED = "这次服务已经评价过了（一次一评），不能再评。"
FOLLOW_UP_NOT_OPEN = "这条评价还没有整改结果，暂不能追评；整改完成后可以追评一次。"
FOLLOW_UP_TAKEN = "这条评价已经追评过了，不能再评。"
NOT_RATEABLE = "该办件尚未收件，暂不能评价。"


@dataclass(frozen=True)
class Rating:
    """What the resident chose; ``visit`` a key of rules.evaluations.VISITS."""

    visit: str
    level: str
    reason_tag: str = ""
    reason_text: str = ""
    channel: str = "qr_code"
    kind: str = "first"


def public_visit(case: HubCase) -> str | None:
    """What the public page rates: the completed case as a whole, or before that the 收件 visit.

    Nothing for a 跨域办 case a peer county forwarded: the resident rates where she applied (the
    receipt's QR code opens that county's page), whose station and 整改 it is; a rating taken here
    would reach neither.
    """
    if case.status == "not_collected" or rate_elsewhere(case):
        return None
    return "case" if case.status in ("completed", "delivered") else "intake"


def for_case(case_id: str) -> list[HubEvaluation]:
    """Every rating of a case, oldest first."""
    return list(HubEvaluation.select().where(HubEvaluation.case_id == case_id).order_by(HubEvaluation.id))


def follow_up_open(case_id: str) -> list[HubEvaluation]:
    """The 差评 of a case whose 整改 has a fix and that have no 追评 yet: each may be rated once more."""
    rated = {(e.visit, e.kind) for e in for_case(case_id)}
    fixed = {r.evaluation_id for r in Remedy.select(Remedy.evaluation_id).where(
        (Remedy.case_id == case_id) & Remedy.fixed_at.is_null(False))}
    return [e for e in for_case(case_id) if e.evaluation_id in fixed and e.kind == "first"
            and (e.visit, "follow_up") not in rated]


@dataclass(frozen=True)
class PublicState:
    """What the public page offers for one case: the visit to rate (None: none now), the ratings given,
    and the 差评 that may be rated once more after their 整改."""

    case_id: str
    visit: str | None
    given: list[HubEvaluation]
    follow_ups: list[HubEvaluation]
    rate_elsewhere: str = ""  # a 跨域办 case a peer county forwarded: where she rates it instead


def rate_elsewhere(case: HubCase) -> str:
    """Where to rate a case this county may not take ratings of (a peer county's 跨域办 case), else ""."""
    if not case.station.is_peer:
        return ""
    return (f"本件在{stations.receiving_station_name(case.station, case.snapshot or {})}收件（跨域办），"
            "请扫描回执上的二维码，在收件地评价。")


def public_state(case_id: str) -> PublicState:
    """The rating part of the public page for one case."""
    case = HubCase.get(HubCase.case_id == case_id)
    elsewhere = rate_elsewhere(case)
    if elsewhere:
        return PublicState(case_id, None, [], [], elsewhere)
    given = for_case(case_id)
    visit = public_visit(case)
    if visit is not None and any(e.visit == visit and e.kind == "first" for e in given):
        visit = None
    return PublicState(case_id, visit, given, follow_up_open(case_id))


def _case_for_code(code: str, case_id: str) -> HubCase:
    """The case ``case_id`` if the query code opens it (the code's own case or its bundle's); else NotFound."""
    typed = query_codes.normalise(code)
    case = HubCase.get_or_none(HubCase.case_id == case_id) if typed and case_id else None
    if case is None:
        raise NotFound("未找到该查询码对应的办件，请核对回执上的查询码。")
    if case.query_code == typed:
        return case
    owner = HubCase.get_or_none(HubCase.query_code == typed)
    if owner is not None and owner.bundle_group and owner.bundle_group == case.bundle_group \
            and owner.station_id == case.station_id:
        return case
    raise NotFound("未找到该查询码对应的办件，请核对回执上的查询码。")


def rate_by_code(code: str, case_id: str, rating: Rating, *, callback_days: int = 1,
                 fix_days: int = 15) -> HubEvaluation:
    """A rating from the public page; refused with a Chinese message and nothing stored when it breaks a rule."""
    case = _case_for_code(code, case_id)
    elsewhere = rate_elsewhere(case)
    if elsewhere:
        raise ValidationError(elsewhere)
    if rating.kind == "follow_up":
        first = HubEvaluation.get_or_none((HubEvaluation.case_id == case.case_id) & (HubEvaluation.visit == rating.visit)
                                          & (HubEvaluation.kind == "first"))
        if first is None or first.evaluation_id not in {e.evaluation_id for e in follow_up_open(case.case_id)}:
            taken = HubEvaluation.select().where((HubEvaluation.case_id == case.case_id)
                                                 & (HubEvaluation.visit == rating.visit)
                                                 & (HubEvaluation.kind == "follow_up")).exists()
            raise ValidationError(FOLLOW_UP_TAKEN if taken else FOLLOW_UP_NOT_OPEN)
    elif rating.visit != public_visit(case):
        raise ValidationError(NOT_RATEABLE if public_visit(case) is None else "该项服务不能在此评价。")
    problem = rules.problem(rating.level, rating.reason_tag, rating.reason_text, rating.channel, rating.kind)
    if problem:
        raise ValidationError(problem)
    now = utcnow()
    body = {"evaluation_id": str(uuid.uuid4()), "visit": rating.visit, "kind": rating.kind, "level": rating.level,
            "reason_tag": rating.reason_tag or "", "reason_text": rules.clean_text(rating.reason_text),
            "channel": rating.channel, "rated_at": now.replace(microsecond=0).isoformat() + "Z"}
    try:
        with db.atomic():
            evaluation = HubEvaluation.create(
                evaluation_id=body["evaluation_id"], station=case.station_id, case_id=case.case_id,
                case_no=case.case_no, visit=rating.visit, kind=rating.kind, level=rating.level,
                reason_tag=body["reason_tag"], reason_text=body["reason_text"], channel=rating.channel,
                source="hub", created_at=now)
            changes.emit(protocol.CHANGE_EVALUATION, body, station=Station.get_by_id(case.station_id),
                         case_id=case.case_id)
            if rating.kind == "first" and rules.is_bad(rating.level):
                remedies.open_for(evaluation, callback_days=callback_days, fix_days=fix_days)
    except IntegrityError as exc:  # the unique (case, visit, kind): a second rating, or a race with the first
        raise ValidationError(FOLLOW_UP_TAKEN if rating.kind == "follow_up" else ALREADY_RATED) from exc
    return evaluation


def _rated_at(text: Any, fallback: dt.datetime) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return fallback
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def record_from_station(station_id: int, case_id: str, case_no: str | None, body: dict[str, Any],
                        now: dt.datetime, *, callback_days: int = 1, fix_days: int = 15) -> HubEvaluation | None:
    """Store a rating a station sent (its event already accepted, exactly once); open a 整改 for a 差评.

    The body was checked against rules.events on ingest. A visit the resident already rated on
    the public page keeps that first rating: the station's copy stays in the event log only, so
    satisfaction is never counted twice. Returns the stored rating, or None for such a copy.

    A rating a peer county forwarded with a 跨域办 case is kept (its clerks see what the resident
    thought) but opens no 整改 here: the county where she applied opens it, for its station, and
    a second one here meant two counties calling her back over one complaint.
    """
    kind = body.get("kind") or "first"
    (HubEvaluation.insert(
        evaluation_id=body["evaluation_id"], station=station_id, case_id=case_id, case_no=case_no,
        visit=body["visit"], kind=kind, level=body["level"], reason_tag=body.get("reason_tag") or "",
        reason_text=rules.clean_text(body.get("reason_text")), channel=body["channel"], source="station",
        agent=str(body.get("agent") or "")[:64], created_at=_rated_at(body.get("rated_at"), now))
        .on_conflict_ignore().execute())
    evaluation = HubEvaluation.get_or_none(HubEvaluation.evaluation_id == body["evaluation_id"])
    if evaluation is None:  # the visit was rated already (on the public page): not counted twice
        return None
    if kind == "first" and rules.is_bad(evaluation.level) and not Station.get_by_id(station_id).is_peer:
        remedies.open_for(evaluation, callback_days=callback_days, fix_days=fix_days)
    return evaluation
