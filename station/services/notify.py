"""Telling the resident: which cases need the resident now (补正 asked, result ready, 容缺 due, the
county refused to accept), whom to tell, and the record of when and how they were told.

The to-do lists show the phone masked; the full number is read only on the notice page of a
case, by the agent whose case it is, and every such read is access-logged by the view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rules.privacy import mask_phone
from rules.workdays import WorkCalendar
from station.extensions import db
from station.models import Case, CaseMaterial, ResidentNotice, TimelineEntry, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import personal, timeline
from station.services.errors import DomainError
from station.services.follow_up import DUE_SOON_WORKING_DAYS, awaiting_supplement
from station.services.sms import SmsSender
from station.services.station_info import get_profile

#: Why the resident is needed.
REASONS = {"supplement": "补交补正材料", "result_ready": "领取办理结果", "deferred_due": "补交容缺材料",
           "rejected": "告知不予受理（领取告知书）"}
#: A refusal is on the to-do until she is told, for as long as she may still ask for 行政复议 (60 days
#: from knowing of it, 行政复议法 §20): told later, the notice would reach her with the time gone.
REJECTION_TELL_DAYS = 60
#: How the resident was told.
METHODS = {"phone": "电话", "sms": "短信", "in_person": "当面", "home_visit": "上门", "paper": "书面通知"}
#: What came of it.
OUTCOMES = {"told": "已告知", "no_answer": "未接通", "sms_not_sent": "短信未发送", "sms_sent": "短信已提交网关"}
_NOTE_MAX = 200


def reasons_now(case: Case, today: dt.date, calendar: WorkCalendar) -> list[str]:
    """Why the resident is needed for this case now (empty: not at all)."""
    found = []
    if awaiting_supplement(case):
        found.append("supplement")
    if case.status == "completed":
        found.append("result_ready")
    if case.status == "rejected":  # 行政许可法 §32: refused in writing, with the reasons and her remedies
        found.append("rejected")
    if case.status not in OPEN_STATUSES:  # decided: a material still missing is no longer asked for
        return found
    horizon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS).due
    if CaseMaterial.select().where((CaseMaterial.case == case) & (CaseMaterial.status == "deferred")
                                   & (CaseMaterial.due_date <= horizon)).exists():
        found.append("deferred_due")
    return found


def _since(case: Case, reason: str) -> dt.datetime | None:
    """When the present need began: a notice before it was about an earlier 补正 or result."""
    if reason in ("result_ready", "rejected"):
        return case.closed_at
    if reason == "supplement":
        entry = (TimelineEntry.select(TimelineEntry.at).where(
            (TimelineEntry.case == case) & (TimelineEntry.action == "county_supplement"))
            .order_by(TimelineEntry.id.desc()).first())
        return entry.at if entry else None
    return None


def last_told(case: Case, reason: str) -> ResidentNotice | None:
    """The latest notice for the present need (None: not told yet)."""
    query = ResidentNotice.select().where((ResidentNotice.case == case) & (ResidentNotice.reason == reason))
    since = _since(case, reason)
    if since is not None:
        query = query.where(ResidentNotice.told_at >= since)
    return query.order_by(ResidentNotice.id.desc()).first()


@dataclass(frozen=True)
class Whom:
    """Whom to tell: names, phones masked (a list masks the names too: its template)."""

    name: str
    phone_masked: str
    proxy_name: str
    proxy_phone_masked: str


def whom(case: Case) -> Whom:
    return Whom(case.applicant_name, mask_phone(personal.applicant_phone(case)), case.proxy_name,
                mask_phone(personal.proxy_phone(case)) if case.proxy_name else "")


def may_see_phone(case: Case, user: User) -> bool:
    """The full number is for the agent who calls: the case's own agent (a clerk or admin uses the case page's
    显示完整号码, with a reason)."""
    return case.agent_id == user.id


def message_text(case: Case, reason: str) -> str:
    """The SMS / notice words: what to bring or collect, where; no personal number in it."""
    station = get_profile().name or "便民服务站"
    item = case.item.name
    if reason == "supplement":
        return f"【{station}】您申请的{item}需补正材料：{'、'.join(case.supplement_items) or case.status_reason}，请带齐到服务站办理。"
    if reason == "result_ready":  # told as the resident chose to get it: a posted result is not fetched
        if case.pickup_method == "post":
            return f"【{station}】您申请的{item}已办结，结果将免费邮寄到您登记的地址，请注意查收。"
        if case.pickup_method == "hand":
            return f"【{station}】您申请的{item}已办结，代办员将把结果送到您手中，请保持电话畅通。"
        return f"【{station}】您申请的{item}已办结，请带本人身份证件和回执到服务站领取结果。"
    if reason == "rejected":
        why = f"，理由：{case.status_reason}" if case.status_reason else ""
        dept = case.item.department or "县级部门"  # who decided, as the 告知书 names it: she may seek review of it
        return (f"【{station}】您申请的{item}经{dept}审查决定不予受理{why}。请到服务站领取《不予受理告知书》；"
                "如不服，可依法申请行政复议或提起行政诉讼（期限见告知书）。")
    owed = [f"{m.name}（{m.due_date:%m月%d日}前）" if m.due_date else m.name
            for m in CaseMaterial.select().where((CaseMaterial.case == case) & (CaseMaterial.status == "deferred"))
            .order_by(CaseMaterial.due_date, CaseMaterial.position)]
    return (f"【{station}】您申请的{item}尚需补交容缺材料：{'、'.join(owed) or '见容缺受理通知书'}，"
            "请按约定日期补交到服务站。")


def record(case: Case, user: User, reason: str, method: str, note: str, outcome: str = "told",
           sender: SmsSender | None = None) -> ResidentNotice:
    """Record that the resident was told (or an SMS tried); refused with nothing changed on bad input.

    By SMS the sender decides the outcome: the built-in one sends nothing and the outcome says so.
    """
    if reason not in REASONS:
        raise DomainError("请选择通知事由。")
    if method not in METHODS:
        raise DomainError("请选择通知方式（电话、短信、当面、上门或书面通知）。")
    if method != "sms" and outcome not in ("told", "no_answer"):
        raise DomainError("请选择通知结果。")
    note = (note or "").strip()
    if len(note) > _NOTE_MAX:
        raise DomainError(f"说明最多{_NOTE_MAX}字。")
    actor = timeline.actor_of(user)
    with db.atomic("IMMEDIATE"):
        _refuse_told_twice(case, user, reason, method, outcome, note)
        if method == "sms":
            phone = personal.applicant_phone(case)
            if not phone:
                raise DomainError("该办件没有登记申请人电话，不能发短信。")
            if sender is None:
                raise DomainError("未配置短信发送方式。")
            result = sender.send(case, phone, message_text(case, reason), actor)
            outcome = "sms_sent" if result.sent else "sms_not_sent"
        notice = ResidentNotice.create(case=case, reason=reason, method=method, outcome=outcome,
                                       note=personal.seal(note) if note else "", by=user, told_at=now())
        timeline.record(case, actor, "resident_notified",
                        f"通知群众{REASONS[reason]}：{METHODS[method]}，{OUTCOMES[outcome]}",  # the note stays sealed
                        {"reason": reason, "method": method, "outcome": outcome})
    return notice


def rejections_to_tell(today: dt.date, agent: User | None = None) -> list[Case]:
    """Cases the county refused (不予受理) in the last ``REJECTION_TELL_DAYS`` whose applicant has not been
    told yet (no notice with outcome 已告知 since the refusal); ``agent``'s own, or the station's."""
    since = dt.datetime.combine(today - dt.timedelta(days=REJECTION_TELL_DAYS), dt.time())
    told = (ResidentNotice.select(ResidentNotice.case).join(Case, on=(ResidentNotice.case == Case.id))
            .where((ResidentNotice.reason == "rejected") & (ResidentNotice.outcome == "told")
                   & (ResidentNotice.told_at >= Case.closed_at)))
    query = Case.select().where((Case.status == "rejected") & (Case.closed_at >= since) & Case.id.not_in(told))
    if agent is not None:
        query = query.where(Case.agent == agent.id)
    return list(query.order_by(Case.closed_at))


def _refuse_told_twice(case: Case, user: User, reason: str, method: str, outcome: str, note: str) -> None:
    """The same notice recorded again by the same person within ``timeline.REPEAT_WINDOW`` (a second click
    on 记录通知) is refused: the case would show the resident told twice, and an SMS would go twice.
    An SMS's outcome is the sender's, so it is not compared."""
    recent = (ResidentNotice.select().where((ResidentNotice.case == case) & (ResidentNotice.by == user)
                                            & (ResidentNotice.reason == reason) & (ResidentNotice.method == method)
                                            & (ResidentNotice.told_at >= now() - timeline.REPEAT_WINDOW))
              .order_by(ResidentNotice.id.desc()))
    for earlier in recent:
        same_outcome = method == "sms" or earlier.outcome == outcome
        if same_outcome and (earlier.note or "") == note:  # the field reads opened
            raise DomainError(f"这次通知已于 {earlier.told_at:%H:%M} 记录过（{METHODS[method]}，"
                              f"{OUTCOMES[earlier.outcome]}），这次没有重复记录。")


def notices(case: Case) -> list[ResidentNotice]:
    return list(ResidentNotice.select().where(ResidentNotice.case == case).order_by(ResidentNotice.id))


@dataclass(frozen=True)
class ToTell:
    """One line of the to-do's "通知群众" list."""

    case: Case
    reason: str
    whom: Whom
    told: ResidentNotice | None


def to_tell(cases: list[Case], today: dt.date, calendar: WorkCalendar) -> list[ToTell]:
    """For the cases of the to-do, each present need with whom to tell and whether they were told."""
    return [ToTell(case, reason, whom(case), last_told(case, reason))
            for case in cases for reason in reasons_now(case, today, calendar)]
