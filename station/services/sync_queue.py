"""The cases still to reach the county, and the events it set aside, as the clerk's home and the sync page list them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules.privacy import mask_name
from station.models import Case, HomeVisit
from station.services import personal
from sync import status
from sync.errors import link_state_label


def queued_cases(now: dt.datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The cases still waiting to reach the county, oldest first, with only masked personal data.

    The clerk needs to tell which residents' cases are stuck and for how long, not to read their numbers.
    """
    now = now or dt.datetime.now()
    rows = _with_what_they_are(status.queued_by_case(limit))
    for row in rows:
        row["age"] = age_words(now - row["oldest"])
    return rows


def set_aside_rows() -> list[dict[str, Any]]:
    """The events the county set aside, each with its case (number, masked applicant) or home visit.

    The clerk acts on a case she can name and open: a bare record id meant nothing to her, and a
    home visit's event linked to a case page that does not exist.
    """
    return _with_what_they_are([{"case_id": e.case_id, "event": e} for e in status.set_aside_events()])


def pull_problem_rows() -> list[dict[str, Any]]:
    """The county's updates the station could not apply, each with the case or home visit it names (if any)."""
    return _with_what_they_are([{**p, "case_id": p.get("case_id") or ""} for p in status.pull_problems()])


def _with_what_they_are(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row (keyed by ``case_id``) with its case or home visit and the applicant, masked."""
    ids = list({r["case_id"] for r in rows})
    cases = {c.id: c for c in Case.select().where(Case.id.in_(ids))} if rows else {}
    # a home visit's events queue under the visit's id (rules/events.py VISIT_KINDS)
    visits = {v.id: v for v in HomeVisit.select().where(HomeVisit.id.in_(ids))} if rows else {}
    for row in rows:
        case = cases.get(row["case_id"])
        row["case"] = case
        row["visit"] = visits.get(row["case_id"])
        row["name"] = mask_name(case.applicant_name) if case else ""
        row["id_number"] = personal.masked(case)["applicant_id"] if case else ""
    return rows


def age_words(age: dt.timedelta) -> str:
    """How long something has waited, in the words a clerk reads at a glance (5分钟, 3小时, 2天4小时)."""
    minutes = max(int(age.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes}分钟"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}小时"
    return f"{hours // 24}天" + (f"{hours % 24}小时" if hours % 24 else "")


#: Link states in which what is queued is not going out: the county cannot be reached or refuses the station.
_LINK_DOWN = frozenset({"unreachable", "credentials_refused", "hub_fault", "batch_refused", "unlinked"})


def link_notice(summary: dict[str, Any], role: str) -> str:
    """The home page's word on a link that is down while cases wait, for whoever is at the counter.

    Only the clerk and the admin see the sync page; an agent saw 待同步 on every case for days and no
    reason, and could not tell a resident whether the county had her application. Nothing when the
    queue is empty or the link carries it.
    """
    if not summary.get("queue_length") or summary.get("link_state") not in _LINK_DOWN:
        return ""
    waiting = f"{summary['queued_cases']} 件办件" if summary.get("queued_cases") else "本站的记录"
    if summary.get("queued_visits"):
        waiting += f"、{summary['queued_visits']} 条上门服务记录"
    age = age_words(dt.timedelta(seconds=summary.get("oldest_queued_age_s") or 0))
    state = "本站尚未连接县级平台" if summary["link_state"] == "unlinked" else (
        "与县级平台的连接中断：" + link_state_label(summary["link_state"]))
    words = (f"{state}。{waiting}已在本站保存，尚未报送县级平台（最早一件已等待{age}）；"
             "连接恢复后自动报送，无需重新收件。告诉群众时请说“已收件，待报送”。")
    if role == "agent":
        return words + "如长时间未恢复，请告知站长（可用离线包报送）。"
    return words + "可在“同步”页面查看原因，长时间未恢复时可用离线包报送。"


def set_aside_next_step(sync: dict[str, Any], role: str) -> str:
    """What to do about a case the county set aside, for whoever reads its page, in Chinese.

    The case page said only 被退回，需人工处理: an agent, who cannot open the sync page, was left guessing
    whether to take the application again (a second case for the same resident) or wait. Only the clerk and
    the station admin may resend; a conflict is the county's to settle, and it comes back by itself.
    """
    if sync.get("state") != "set_aside":
        return ""
    if any(e.state == "set_aside" and e.result == "conflict" for e in sync.get("events", [])):
        return ("县级平台已有同一编号但内容不同的记录，需由县级平台核对；核对后本站自动恢复同步。"
                "请不要重新收件，申请人无需再跑一趟。")
    if role == "agent":
        return ("县级平台尚未接收本办件的这条信息。请不要重新收件（会产生重复办件）；"
                "请告知窗口人员或站长在“同步”页面查看原因并处理，申请人无需再跑一趟。")
    return "请到“同步”页面查看原因：问题已解决（如县级已更新事项目录）的，点“重新发送”；否则请联系县级平台。"
