"""四条线 at the station: each case's statutory, committed and assessed lines and the working days
used, and the early-warning list (due within N working days, overdue on a line).

The assessed limit per item is the county's setting (``assessed_days``, sent down the changes
feed like its other settings); the rules themselves are in rules/time_lines.py, shared with the hub.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from rules.time_lines import DEFAULT_WARN_DAYS, FourLines, four_lines
from rules.workdays import WorkCalendar
from station.models import Case, ServiceItem, Setting, User
from station.models.cases import OPEN_STATUSES
from station.services.calendar import load_calendar

ASSESSED_DAYS = "hub.assessed_days"  # stored by station_info.apply_hub_settings


def assessed_days() -> dict[str, int]:
    """The county's assessed limit (working days) per national item code; {} until it sends one."""
    try:
        value = json.loads(Setting.get_value(ASSESSED_DAYS) or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool) and v >= 0}


#: Statuses on which no time limit is measured: never collected (一次性告知), withdrawn by the applicant.
NO_CLOCK = ("not_collected", "withdrawn")


def lines_of(case: Case, today: dt.date, calendar: WorkCalendar | None = None,
             assessed: dict[str, int] | None = None, warn_days: int = DEFAULT_WARN_DAYS) -> FourLines | None:
    """The case's four lines; None for a case never collected (一次性告知: no clock runs) or withdrawn by
    the applicant (撤回申请: it ended without a decision, so it is neither overdue nor done on time).

    The 考核 line counts the limit the case was taken under (``Case.assessed_days``), as the county
    fixes it on arrival: a limit the county changes later moves no earlier case's figures. A case
    taken while the station knew none is measured against ``assessed`` (the current setting).
    """
    if case.status in NO_CLOCK:
        return None
    calendar = calendar or load_calendar()
    if case.assessed_days is not None:
        limit = case.assessed_days
    else:
        limit = (assessed_days() if assessed is None else assessed).get(case.item.item_code)
    closed = case.closed_at.date() if case.closed_at and case.status in ("completed", "rejected", "delivered") else None
    measured = four_lines(case.received_at.date(), case.statutory_due, case.committed_due,
                          limit, closed, today, calendar, warn_days)
    if paused(case):
        # 补正 time is not counted (DOMAIN.md A.7): waiting for the resident, the case is neither due
        # soon nor overdue; its due dates move on by the days waited when she brings the materials
        state = {line: "paused" if measured.due[line] else s for line, s in measured.state.items()}
        return FourLines(measured.due, state, measured.used_days, measured.closed, measured.warnings)
    return measured


def paused(case: Case) -> bool:
    """The county asked for a 补正 and the resident has not brought the materials: the clocks stand still."""
    return case.status == "supplement" and case.supplemented_at is None


def resume(case: Case, asked: dt.datetime | None, answered: dt.datetime, calendar: WorkCalendar | None = None) -> int:
    """Move the case's due dates later by the working days it waited for its 补正; return how many.

    From the day the county asked (its 补正 decision) to the day the materials were brought,
    counted with the station's work calendar. The 考核 line is counted from the limit the case was
    taken under, so that limit grows by the same days (it is fixed here if the case had none).
    The caller saves the case.
    """
    if asked is None:
        return 0
    calendar = calendar or load_calendar()
    start, end = asked.date(), answered.date()
    days = calendar.working_days_between(start, end) if end > start else 0
    if days <= 0:
        return 0
    for column in ("statutory_due", "committed_due"):
        due = getattr(case, column)
        if due:
            setattr(case, column, calendar.add_working_days(due, days).due)
    limit = case.assessed_days if case.assessed_days is not None else assessed_days().get(case.item.item_code)
    if limit is not None:
        case.assessed_days = limit + days
    return days


@dataclass(frozen=True)
class Warning:
    case: Case
    lines: FourLines


def warnings(today: dt.date, warn_days: int = DEFAULT_WARN_DAYS, agent: User | None = None) -> list[Warning]:
    """Open cases overdue or due within `warn_days` working days on any line, most urgent first."""
    calendar = load_calendar()
    assessed = assessed_days()
    query = (Case.select(Case, ServiceItem).join(ServiceItem)
             .where(Case.status.in_(OPEN_STATUSES)).order_by(Case.received_at))
    if agent is not None:
        query = query.where(Case.agent == agent)
    found = []
    for case in query:
        lines = lines_of(case, today, calendar, assessed, warn_days)
        # one waiting for its 补正 stays listed, shown 补正中（时限暂停）: the resident holds it up
        if lines and any(state in ("overdue", "soon", "paused") for state in lines.state.values()):
            found.append(Warning(case, lines))
    found.sort(key=lambda w: (-sum(s == "overdue" for s in w.lines.state.values()),
                              min((d for d in w.lines.due.values() if d), default=today)))
    return found
