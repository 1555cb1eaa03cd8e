"""A case's 法定/承诺 due dates: counted at intake, and counted again when the holiday table changes.

A case taken in December with a limit running into a year the table does not know yet is dated
Monday to Friday and marked 暂定 (DOMAIN.md "Working days"). When that year's holidays arrive
(the admin's page, a newer chinese_calendar at init), the open cases still marked 暂定 are counted
again with the same item's limits: 元旦 2027 counted as a working day would otherwise stay on the
case page, the overdue list and the county's view until the case closed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules import events
from rules.workdays import WorkCalendar
from station.models import Case, ServiceItem, TimelineEntry
from station.models.cases import OPEN_STATUSES
from station.services import timeline
from station.services.cases import decided_at
from station.services.errors import DomainError
from sync.outbox import enqueue


def counted(item: ServiceItem, decision: str, start: dt.date, calendar: WorkCalendar) -> dict[str, Any]:
    """The deadline columns of a case of `item` taken on `start` with the station's `decision`."""
    statutory = committed = None
    if decision != "not_collected":
        statutory = calendar.deadline_for(start, item.statutory_value, item.statutory_unit)
        if item.committed_value or decision == "accepted":
            committed = calendar.deadline_for(start, item.committed_value, item.committed_unit)
        # an instant item collected for the county has no committed date here: "today" would
        # mark it overdue tomorrow while it waits for the competent authority
    # the committed date's own warning first: it is the one the resident is told to expect
    warning = (committed.warning if committed and committed.provisional else "") or (
        statutory.warning if statutory and statutory.provisional else ""
    )
    return {
        "statutory_due": statutory.due if statutory else None,
        "committed_due": committed.due if committed else None,
        "deadline_provisional": bool((statutory and statutory.provisional) or (committed and committed.provisional)),
        "statutory_provisional": bool(statutory and statutory.provisional),
        "committed_provisional": bool(committed and committed.provisional),
        "deadline_warning": warning[:200],
    }


def _said(label: str, before: dt.date | None, after: dt.date | None, provisional: bool) -> str:
    mark = "（暂定）" if provisional else ""
    if before == after:
        return f"{label}{after.isoformat() if after else ''}{mark}" if after else ""
    return f"{label}由 {before.isoformat() if before else '无'} 改为 {after.isoformat() if after else '无'}{mark}"


def _paused_days(case: Case, calendar: WorkCalendar) -> int:
    """The working days the case waited for its 补正 materials, every round answered so far, counted with `calendar`.

    Her bringing them moved the dates on by these days (time_lines.resume; the hub's resumed_dues the same):
    a recount from the day of receipt alone would take that time back from the department.
    """
    days, asked = 0, None
    entries = (TimelineEntry.select().where((TimelineEntry.case == case.id)
                                            & TimelineEntry.action.in_(("county_supplement", "supplemented")))
               .order_by(TimelineEntry.id))
    for entry in entries:
        if entry.action == "county_supplement":
            payload = (entry.data or {}).get("payload") or {}
            asked = decided_at(payload) if payload.get("decided_at") else entry.at
        elif asked is not None:
            if entry.at.date() > asked.date():
                days += calendar.working_days_between(asked.date(), entry.at.date())
            asked = None
    return days


def recount_provisional(calendar: WorkCalendar, reason: str = "station", version: str = "") -> int:
    """Count the open cases marked 暂定 again with `calendar`; return how many changed.

    Run inside the transaction that changed the table. Each changed case gets a timeline line and
    a note to the county carrying the new dates (``recount``, rules/events.py): the county filed the
    old ones with the case, and moves its own (lists, 预警, roll-up) only while they are still the
    ones the station sent — a date the county moved itself stays the county's. `reason` says whose
    table changed (county / station / seed), `version` the county's version of it.
    """
    changed = 0
    provisional = Case.select().where(Case.status.in_(OPEN_STATUSES) & Case.deadline_provisional)
    for case in provisional:
        now_counted = counted(case.item, case.decision, case.received_at.date(), calendar)
        paused = _paused_days(case, calendar)
        if paused:  # 补正 time is not counted (DOMAIN.md A.7): the dates stay moved on by it
            for name in ("statutory", "committed"):
                due = now_counted[f"{name}_due"]
                if due is not None:
                    moved = calendar.add_working_days(due, paused)
                    now_counted[f"{name}_due"] = moved.due
                    now_counted[f"{name}_provisional"] = now_counted[f"{name}_provisional"] or moved.provisional
            now_counted["deadline_provisional"] = now_counted["statutory_provisional"] or now_counted["committed_provisional"]
        if all(getattr(case, name) == value for name, value in now_counted.items()):
            continue
        parts = [_said("承诺期限", case.committed_due, now_counted["committed_due"], now_counted["committed_provisional"]),
                 _said("法定期限", case.statutory_due, now_counted["statutory_due"], now_counted["statutory_provisional"])]
        firm = "" if now_counted["deadline_provisional"] else "，不再是暂定"
        text = "节假日数据已更新，期限重新计算：" + "；".join(p for p in parts if p) + firm
        recount = {"reason": reason, "calendar_version": version or None,
                   "provisional": now_counted["deadline_provisional"],
                   "statutory_due": _iso(now_counted["statutory_due"]),
                   "committed_due": _iso(now_counted["committed_due"]),
                   "previous_statutory_due": _iso(case.statutory_due),
                   "previous_committed_due": _iso(case.committed_due)}
        Case.update(**now_counted).where(Case.id == case.id).execute()
        timeline.record(case, "系统", "deadline_recounted", text)
        enqueue(case.id, events.NOTE, {"text": text, "by": "系统", "recount": recount},
                catalog_version=case.catalog_version, deadline=now_counted["committed_due"])
        changed += 1
    return changed


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


#: Who the timeline names for the county's dates, and its action.
COUNTY = "县级平台"
COUNTY_DUES = "county_dues"
COUNTY_PROVISIONAL = "县级平台按周一至周五推算了此期限（该年节假日安排当时尚未发布），以县级平台的期限为准"


def apply_county_dues(case_id: str, payload: dict[str, Any]) -> Case | None:
    """A ``case.dues`` change (inside the pull's transaction): the county's 法定/承诺 dates replace the station's.

    The county is the authority once it holds the case — it moved them on by the days a 补正 took with its
    own calendar, or kept them over a recount of ours it did not take — and without this the agent, the
    station's lists and warnings and the resident's page here kept our dates. Its 暂定 marks come with them:
    a firm date clears ours, so no recount is sent for it again (a still-暂定 one is counted again when the
    year's holidays arrive, and the county takes that recount: it starts from its own dates). The same dates
    again change nothing and write nothing (a feed read twice, or a move we had made ourselves). A date the
    county does not hold (null) leaves ours. A case this station does not hold (another device's) is left
    alone (None).
    """
    case = Case.get_or_none(Case.id == case_id)
    if case is None:
        return None
    now_held: dict[str, Any] = {}
    for name in ("statutory", "committed"):
        due, provisional = _county_day(payload.get(f"{name}_due")), payload.get(f"{name}_provisional", False)
        if due is False or not isinstance(provisional, bool):
            raise DomainError("县级平台发来的办件期限无法识别（日期应为 YYYY-MM-DD），本站未作改动。")
        if due is None:  # the county holds no such date (it had none from us to store): ours stays
            due, provisional = getattr(case, f"{name}_due"), getattr(case, f"{name}_provisional")
        now_held[f"{name}_due"] = due
        now_held[f"{name}_provisional"] = provisional and due is not None
    now_held["deadline_provisional"] = now_held["statutory_provisional"] or now_held["committed_provisional"]
    now_held["deadline_warning"] = COUNTY_PROVISIONAL if now_held["deadline_provisional"] else ""
    if all(getattr(case, name) == value for name, value in now_held.items()):
        return case
    parts = [_said("承诺期限", case.committed_due, now_held["committed_due"], now_held["committed_provisional"]),
             _said("法定期限", case.statutory_due, now_held["statutory_due"], now_held["statutory_provisional"])]
    text = "以县级平台的期限为准：" + "；".join(p for p in parts if p)
    Case.update(**now_held).where(Case.id == case.id).execute()
    timeline.record(case, COUNTY, COUNTY_DUES, text,
                    {"payload": {key: payload.get(key) for key in ("statutory_due", "committed_due", "reason")}})
    return case


def _county_day(value: Any) -> dt.date | None | bool:
    """A date the county sent (None: no such date); False for one that is not a date."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else False
    except ValueError:
        return False
