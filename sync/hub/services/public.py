"""What the resident's public progress page says about a case, in plain words and nothing personal.

The page needs no login: whoever holds the query code printed on the paper sees the case's
steps with dates, what is needed now, the result and where to collect it. Built only from
fields that carry no ID number, phone or address (those are sealed in the snapshot and never
opened here); the applicant's name is masked (赵*英). What a county clerk typed (a reason, a
result's text, a certificate number) is shown with every ID-like or phone-like number in it
masked: a clerk writes "身份证号…与户口簿不符" or a 残疾人证 number (the holder's ID number and two
digits), and whoever holds the paper's code is not to read that number here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rules import query_codes
from rules.labels import PICKUP_METHODS, RESULTS
from rules.privacy import mask_name, mask_numbers_in
from sync.hub.china_time import CHINA_TZ, china_today, to_china
from sync.hub.models import Decision, HubCase, Station
from sync.hub.services import personal, stations, workdays
from sync.hub.services.decisions import handling_county

NOT_FOUND = "未找到该查询码，请核对回执上的查询码。"


@dataclass(frozen=True)
class Step:
    """One thing that happened to the case (or is awaited, ``done`` false)."""

    title: str
    when: str = ""
    lines: tuple[str, ...] = ()
    done: bool = True


@dataclass
class Progress:
    """One case as the public page shows it."""

    item_name: str
    case_no: str
    applicant: str
    station_name: str
    station_phone: str
    status_word: str
    steps: list[Step] = field(default_factory=list)
    now_title: str = ""
    now_lines: list[str] = field(default_factory=list)
    result_word: str = ""
    result_text: str = ""
    certificate_no: str = ""
    collect: str = ""
    case_id: str = ""  # which case a rating on the page is for (the code may open a bundle)
    handled_by: str = ""  # 跨域办, on the receiving county's page: the county that takes and decides it

    @property
    def dept(self) -> str:
        """Whom she waits for: the county that handles her 跨域办 case, else this county's departments."""
        return self.handled_by or "县级部门"


def _when(value: Any) -> tuple[str, dt.datetime | None]:
    """China time as text, and a sortable aware datetime (hub rows are naive UTC; station text has an offset).

    A day without a time counts as its end, so a result handed over the day it was decided comes
    after the decision; read as midnight UTC it came before the day's decisions.
    """
    if not value:
        return "", None
    if isinstance(value, str) and len(value) == 10:  # a day the station sent ("2026-12-02", a 送达 date)
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return "", None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value:%Y年%m月%d日}", dt.datetime.combine(value, dt.time(23, 59), CHINA_TZ)
    local = to_china(value)
    if local is None:
        return str(value)[:16], None
    return f"{local:%Y年%m月%d日 %H:%M}", local


def _day(value: Any) -> str:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return f"{dt.date.fromisoformat(value[:10]):%Y年%m月%d日}"
        except ValueError:
            return ""
    if isinstance(value, dt.date):
        return f"{value:%Y年%m月%d日}"
    return ""


def station_phone(station: Station) -> str:
    """The station's phone for a ``tel:`` link, when the county set one in the station's settings.

    Stations do not send their own profile to the county; ``public_phone`` in the station's
    settings (set on the county's station page) is where the county records it.
    """
    if station.is_peer:  # a 跨域办 case's "station" is the county that forwarded it, not her station
        return ""
    phone = str((station.settings or {}).get(stations.PUBLIC_PHONE_SETTING) or "").replace(" ", "")
    return phone if stations.PHONE.match(phone) else ""


def _collect(snapshot: dict[str, Any], station_name: str) -> str:
    method = snapshot.get("pickup_method")
    if method == "post":
        return "结果将免费邮寄到您登记的地址，请留意查收。"
    if method == "hand":
        return "代办员将把结果送到您手中，请保持电话畅通。"
    return f"请带本人身份证件和回执到{station_name}领取结果（他人代领须带委托书）。"


def progress(case: HubCase, station: Station) -> Progress:
    """The plain-words progress of one case (nothing personal in it)."""
    snapshot = personal.open_snapshot(case.snapshot)  # its 补正 answers and handover are sealed at rest
    decisions = list(Decision.select().where(Decision.case == case.id).order_by(Decision.decided_at, Decision.id))
    view = Progress(
        item_name=case.item_name or "办件", case_no=case.hub_case_no or case.case_no or "",
        applicant=mask_name(case.applicant_name), station_name=stations.receiving_station_name(station, snapshot),
        station_phone=station_phone(station),
        status_word="", case_id=case.case_id,
    )
    view.handled_by = handling_county(case)  # the receiving county's page; "" at the handling county
    timed: list[tuple[dt.datetime | None, int, Step]] = []
    received_text, received = _when(case.received_at)
    if case.status == "not_collected":
        timed.append((received, 0, Step("服务站未收件（已一次性告知所需材料）", received_text)))
    else:
        timed.append((received, 0, Step(f"{view.station_name}已收件", received_text)))
    if case.station_decision == "accepted":
        timed.append((received, 1, Step("服务站已受理（委托受理）", received_text)))
    for decision in decisions:
        text, at = _when(decision.decided_at)
        if decision.kind == "accepted":
            step = Step(f"{view.dept}已受理", text, (f"办件编号：{decision.hub_case_no}",) if decision.hub_case_no else ())
        elif decision.kind == "supplement":
            names = "、".join(str(i.get("name") or "") for i in decision.supplement_items or [] if isinstance(i, dict))
            # what was asked, in the past: "需补正" under it read as still owed after the station sent it
            lines = tuple(x for x in (f"要求补交：{names}" if names else "", mask_numbers_in(decision.reason)) if x)
            step = Step("需要补正材料", text, lines)
        elif decision.kind == "rejected":
            step = Step("不予受理", text, (f"理由：{mask_numbers_in(decision.reason)}",) if decision.reason else ())
        else:
            word = RESULTS.get(decision.result or "", "")
            step = Step(f"已办结：{word}", text, tuple(x for x in (mask_numbers_in(decision.result_text),) if x))
        timed.append((at, 2, step))
    for answer in snapshot.get("supplements") or []:
        if isinstance(answer, dict):
            text, at = _when(answer.get("supplied_at"))
            timed.append((at, 3, Step("已补交补正材料", text)))
    withdrawal = snapshot.get("withdrawal") if isinstance(snapshot.get("withdrawal"), dict) else None
    if withdrawal and case.status == "withdrawn":  # a late one (decided first) is the county's business, not a step
        text, at = _when(withdrawal.get("withdrawn_at"))
        timed.append((at, 4, Step("您已撤回申请", text)))
    delivery = snapshot.get("delivery") if isinstance(snapshot.get("delivery"), dict) else None
    if delivery:
        method = PICKUP_METHODS.get(str(delivery.get("method")), "")
        day = _day(delivery.get("delivered_on"))
        lines = (f"邮件号：{delivery['ems_no']}",) if delivery.get("method") == "post" and delivery.get("ems_no") else ()
        timed.append((_when(delivery.get("delivered_on"))[1], 4, Step(f"结果已送达（{method}）" if method else "结果已送达",
                                                                      day, lines)))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    view.steps = [step for _at, _order, step in sorted(
        ((at or far, order, step) for at, order, step in timed), key=lambda t: (t[0], t[1]))]
    _now(view, case, snapshot, decisions)
    return view


def _now(view: Progress, case: HubCase, snapshot: dict[str, Any], decisions: list[Decision]) -> None:
    """What the resident needs to know or do now, and the result."""
    last = decisions[-1] if decisions else None
    status = case.status
    pending = [m for m in snapshot.get("materials") or []
               if isinstance(m, dict) and m.get("status") in ("missing", "deferred")]
    if status == "submitted":
        view.status_word = f"等待{view.dept}受理"
        view.now_title = (f"材料已送{view.dept}，请耐心等待受理，暂不需要您做什么。" if not pending else
                          f"材料已送{view.dept}，等待受理；下面的材料还请按期补交到{view.station_name}：")
    elif status == "not_collected":
        view.status_word = "未收件"
        view.now_title = "请按服务站给您的一次性告知书准备好材料，再到服务站办理。"
    elif status == "supplement":
        view.status_word = "需要补正"
        if case.supplied_at:  # the station sent what was asked: nothing more to bring for it (as the station's /q)
            view.status_word = "补正材料已交，等待审核"
            view.now_title = f"补正材料已交到{view.station_name}，等待{view.dept}审核，无需再跑。"  # when: the steps
        else:
            view.now_title = f"请把下面的材料交到{view.station_name}："
            if last is not None and last.kind == "supplement":
                view.now_lines = [str(i.get("name") or "") for i in last.supplement_items or [] if isinstance(i, dict)]
                if last.reason:
                    view.now_lines.append(f"说明：{mask_numbers_in(last.reason)}")
    elif status == "accepted":
        view.status_word = "正在办理"
        received = case.received_time or case.created_at
        if case.committed_due:
            view.now_title = (f"正在办理，承诺 {_day(case.committed_due)} 前办结。"
                              f"{_provisional(received, case.committed_due, case.dues_counted_on)}{_past(case.committed_due, view.dept)}")
        elif case.statutory_due:  # no promise was made: the law's limit, not a 承诺
            view.now_title = (f"正在办理，依法应于 {_day(case.statutory_due)} 前办结。"
                              f"{_provisional(received, case.statutory_due, case.dues_counted_on)}{_past(case.statutory_due, view.dept)}")
        else:
            view.now_title = "正在办理，请耐心等待。"
    elif status == "withdrawn":
        view.status_word = "已撤回"
        view.now_title = f"您已撤回申请，本次办理结束。如需再次办理，请到{view.station_name}重新申请。"
    elif status == "rejected":
        view.status_word = "不予受理"
        view.now_title = "您的申请未被受理。如有疑问，请联系服务站。"
        view.result_word = "不予受理"
        view.result_text = mask_numbers_in(last.reason) if last is not None else ""
    elif status in ("completed", "delivered"):
        done = next((d for d in reversed(decisions) if d.kind == "completed"), None)
        view.result_word = RESULTS.get(done.result or "", "") if done else ""
        view.result_text = mask_numbers_in(done.result_text) if done else ""
        view.certificate_no = mask_numbers_in(done.certificate_no) if done else ""
        if status == "delivered":
            view.status_word = "已送达"
            view.now_title = "结果已送达，办理完毕。"
        else:
            view.status_word = "已办结"
            view.collect = _collect(snapshot, view.station_name)
            view.now_title = "已办结，请领取结果。"
    if pending and status not in ("rejected", "completed", "delivered", "not_collected", "withdrawn"):
        view.now_lines += [f"还需补交：{m.get('name')}{_owed_by(m.get('due_date'))}" for m in pending]


def _provisional(received: dt.datetime | None, due: dt.date, counted_on: dt.date | None = None) -> str:
    """A date counted without that year's holiday calendar, said so to the resident as the clerk's pages
    mark it （暂定）: the county publishes the holidays late in the year before."""
    if not workdays.provisional_warning(received, due, counted_on=counted_on):
        return ""
    return f"（这个日期是按周一至周五推算的，{due.year}年节假日安排公布后可能顺延。）"


def _past(due: dt.date, dept: str) -> str:
    """For a case still being handled after the day it was to be done: say so, and whom to ask.

    "承诺 11月26日 前办结" read on 12月2日 left the resident to work out that it was late and what to do.
    """
    if due >= china_today():
        return ""
    return f"这个日期已经过了，{dept}仍在办理。如需催问，请联系服务站。"


def _owed_by(due: Any) -> str:
    """When a 容缺 material is owed, and whether that day has passed (the resident is not left guessing)."""
    day = _day(due)
    if not day:
        return ""
    if isinstance(due, str) and due[:10] < china_today().isoformat():
        return f"（应于{day}前补交，已逾期，请尽快补交）"
    return f"（{day}前）"


def bundle_members(case: HubCase) -> list[HubCase]:
    """The cases a station took with ``case`` in one 一件事 (itself included), in the bundle's order.

    Ordered by the position the station sent (``bundle.position`` in ``case.submitted``, issue 19),
    then by arrival, so the resident and the county see the items as the receipt lists them.
    """
    if not case.bundle_group:
        return [case]
    members = list(HubCase.select().where((HubCase.station == case.station_id)
                                          & (HubCase.bundle_group == case.bundle_group)).order_by(HubCase.id))

    def position(member: HubCase) -> int:
        bundle = (member.snapshot or {}).get("bundle")
        value = bundle.get("position") if isinstance(bundle, dict) else None
        return value if isinstance(value, int) else 1 << 30

    return sorted(members, key=position)


def lookup(typed: str | None) -> list[Progress] | None:
    """The case(s) a typed code opens: the case, or every item of its bundle; None when none has it.

    A bundle's one printed code is its first item's query code; any item's code opens the whole bundle.
    """
    code = query_codes.normalise(typed)
    if not code:
        return None
    case = (HubCase.select().where(HubCase.query_code == code).order_by(HubCase.id).first())
    if case is None:
        return None
    station = Station.get_by_id(case.station_id)
    return [progress(c, station) for c in bundle_members(case)]
