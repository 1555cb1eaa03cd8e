"""好差评 at the station: the kiosk the agent opens for a case, ratings from the county shown on
the case, and the county's 整改 of a 差评 about this station's service.

The kiosk needs no login — the agent turns the screen to the resident — so it is reached only by
a short-lived signed token the agent's own session made for one case and one visit: a passer-by
cannot rate a case the agent did not open. One first rating per case and visit is held by the
table's unique index; the rating goes to the county through the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from peewee import IntegrityError

from rules import evaluations as rules
from rules import events
from station.extensions import db
from station.models import Case, Evaluation, Remedy, TimelineEntry, User
from station.models.base import now
from station.services import timeline
from station.services.errors import DomainError, ValidationFailed
from sync import protocol
from sync.outbox import enqueue

ALREADY_RATED = "这次服务已经评价过了（一次一评），不能再评。"
_SALT = "kiosk-rating"

#: Timeline actions that are a counter visit of the resident, and the visit key each gives.
_VISIT_ACTIONS = {"intake": "intake", "resumed": "intake", "supplemented": "supplement",
                  "material_arrived": "arrival", "delivered": "handover"}


def current_visit(case: Case) -> str:
    """The visit the resident is at the counter for now: the latest counter action on the case.

    The 2nd 补正 answer is ``supplement-2``, so each visit is rated once and only once.
    """
    rows = list(TimelineEntry.select(TimelineEntry.action).where(
        (TimelineEntry.case == case) & TimelineEntry.action.in_(list(_VISIT_ACTIONS))).order_by(TimelineEntry.id))
    if not rows:
        return "intake"
    base = _VISIT_ACTIONS[rows[-1].action]
    if base in ("supplement", "arrival"):
        return f"{base}-{sum(1 for r in rows if _VISIT_ACTIONS[r.action] == base)}"
    return base


def rated(case: Case, visit: str, kind: str = "first") -> bool:
    return Evaluation.select().where((Evaluation.case == case) & (Evaluation.visit == visit)
                                     & (Evaluation.kind == kind)).exists()


@dataclass(frozen=True)
class KioskPass:
    """What a kiosk token opens: one case, one visit, for the agent who opened it."""

    case_id: str
    visit: str
    agent: str


def open_kiosk(case: Case, user: User, secret_key: str) -> str:
    """A token for the kiosk page of ``case``'s current visit; refused when that visit is rated already."""
    visit = current_visit(case)
    if rated(case, visit):
        raise DomainError(f"本次服务（{rules.visit_word(visit)}）群众已评价，一次一评，不能再评。")
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    return serializer.dumps({"c": case.id, "v": visit, "a": user.username})


def read_kiosk(token: str, secret_key: str, max_age_s: int) -> KioskPass:
    """The pass a token carries; a forged, altered or expired token is refused."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        data = serializer.loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise DomainError("评价页面已过期，请工作人员在办件页重新打开评价平板。") from exc
    except BadSignature as exc:
        raise DomainError("评价链接无效，请工作人员在办件页打开评价平板。") from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("c", "v", "a")):
        raise DomainError("评价链接无效，请工作人员在办件页打开评价平板。")
    return KioskPass(case_id=data["c"], visit=data["v"], agent=data["a"])


def rate_at_kiosk(kiosk: KioskPass, level: str, reason_tag: str, reason_text: str,
                  channel: str = "hall_tablet", *, at: dt.datetime | None = None) -> Evaluation:
    """Store the resident's rating and queue it for the county; refused with nothing changed if it breaks a rule.

    ``at`` is when the resident rated (the demo's month replays past visits); the kiosk leaves it to now.
    """
    case = Case.get_or_none(Case.id == kiosk.case_id)
    if case is None:
        raise DomainError("评价链接无效，请工作人员在办件页打开评价平板。")
    if rated(case, kiosk.visit):
        raise DomainError(ALREADY_RATED)
    problem = rules.problem(level, reason_tag, reason_text, channel)
    if problem:
        raise ValidationFailed({"level": problem}, problem)
    at = at or now()
    body = {"evaluation_id": protocol.new_id(), "visit": kiosk.visit, "kind": "first", "level": level,
            "reason_tag": reason_tag or "", "reason_text": rules.clean_text(reason_text), "channel": channel,
            "rated_at": at.astimezone().isoformat(), "agent": kiosk.agent}
    try:
        with db.atomic("IMMEDIATE"):
            evaluation = Evaluation.create(
                evaluation_id=body["evaluation_id"], case=case, visit=kiosk.visit, kind="first", level=level,
                reason_tag=body["reason_tag"], reason_text=body["reason_text"], channel=channel, source="station",
                agent=kiosk.agent, created_at=at)
            timeline.record(case, "群众（评价平板）", "evaluated", _words(evaluation), {"visit": kiosk.visit})
            enqueue(case.id, events.EVALUATED, body, catalog_version=case.catalog_version, deadline=case.committed_due)
    except IntegrityError as exc:  # the same visit rated a moment ago (two taps, two tablets)
        raise DomainError(ALREADY_RATED) from exc
    return evaluation


def _words(e: Evaluation) -> str:
    text = f"评价（{rules.visit_word(e.visit)}，{rules.KINDS.get(e.kind, e.kind)}，" \
           f"{rules.CHANNELS.get(e.channel, e.channel)}）：{rules.LEVELS.get(e.level, e.level)}"
    if e.reason_tag:
        text += f"，{rules.reason_word(e.level, e.reason_tag)}"
    if e.reason_text:
        text += f"：{e.reason_text}"
    return text


def for_case(case: Case) -> list[Evaluation]:
    return list(Evaluation.select().where(Evaluation.case == case).order_by(Evaluation.created_at, Evaluation.id))


def describe(e: Evaluation) -> str:
    """One line for the case page."""
    return _words(e)


def _local(stamp: Any) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return now()
    return value.astimezone().replace(tzinfo=None, microsecond=0) if value.tzinfo else value


def apply_hub_rating(case_id: str, payload: dict[str, Any]) -> None:
    """A rating given on the county's public page: kept on the case (once, whatever the feed repeats)."""
    case = Case.get_or_none(Case.id == case_id)
    if case is None or not isinstance(payload, dict):
        return
    level = payload.get("level")
    if level not in rules.LEVELS or not isinstance(payload.get("evaluation_id"), str):
        raise DomainError("县级平台下发的评价格式不正确。")
    if Evaluation.select().where(Evaluation.evaluation_id == payload["evaluation_id"]).exists():
        return
    kind = payload.get("kind") if payload.get("kind") in rules.KINDS else "first"
    visit = str(payload.get("visit") or "case")[:40]
    if rated(case, visit, kind):
        return  # the kiosk rated this visit too; the county counts its first one, the case shows ours
    evaluation = Evaluation.create(
        evaluation_id=payload["evaluation_id"], case=case, visit=visit, kind=kind, level=level,
        reason_tag=str(payload.get("reason_tag") or "")[:24], reason_text=rules.clean_text(payload.get("reason_text")),
        channel=str(payload.get("channel") or "qr_code")[:16], source="hub", created_at=_local(payload.get("rated_at")))
    timeline.record(case, "群众（县级平台）", "evaluated", _words(evaluation), {"visit": visit})


#: Remedy.status and the county's contact methods, as the station shows them (the hub's words).
REMEDY_STATUSES = {"open": "整改中", "fixed": "已整改待办结", "closed": "已办结"}
CONTACT_METHODS = {"phone": "电话", "visit": "上门", "in_person": "当面", "sms": "短信"}


def local_text(stamp: Any) -> str:
    """A county time (ISO, UTC ``…Z``) as the station's local wall-clock text."""
    return f"{_local(stamp):%Y-%m-%d %H:%M}" if stamp else ""


_REMEDY_WORDS = {"open": "县级已开始差评整改", "fixed": "县级已登记整改结果", "closed": "县级差评整改已办结"}


def apply_remedy(case_id: str, payload: dict[str, Any]) -> None:
    """The county opened or moved on a 整改 of a 差评 about this station: keep its latest state."""
    case = Case.get_or_none(Case.id == case_id)
    if case is None or not isinstance(payload, dict) or not isinstance(payload.get("remedy_id"), int):
        return
    status = str(payload.get("status") or "open")
    row = Remedy.get_or_none(Remedy.remedy_id == payload["remedy_id"])
    before = row.status if row is not None else None
    if row is None:
        row = Remedy(remedy_id=payload["remedy_id"], case=case, evaluation_id=str(payload.get("evaluation_id") or ""))
    row.status = status
    row.data = payload
    row.updated_at = now()
    row.save()
    if status != before:
        words = _REMEDY_WORDS.get(status, "县级差评整改有更新")
        if status == "closed" and payload.get("closing_note"):
            words += f"：{payload['closing_note']}"
        timeline.record(case, "县级平台", f"remedy_{status}", words, {"remedy_id": payload["remedy_id"]})


def open_remedies() -> list[Remedy]:
    """整改 the county has not closed, about this station's service (oldest first)."""
    return list(Remedy.select(Remedy, Case).join(Case).where(Remedy.status != "closed").order_by(Remedy.id))


def remedies_for(case: Case) -> list[Remedy]:
    return list(Remedy.select().where(Remedy.case == case).order_by(Remedy.id))
