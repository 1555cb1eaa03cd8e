"""四条线: the four time lines a case is measured on — statutory, committed, assessed, and the
working days actually used — and where the case stands against each.

Stations and townships are assessed on these figures (包头's 四条线). The statutory and
committed due dates come with the case; the assessed limit is a county setting per item
(working days from receipt); actual time runs from receipt to the county's 办结 or 不予受理
(or to today for an open case), counted like every deadline: the day of receipt does not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from rules.workdays import WorkCalendar

LINES: Mapping[str, str] = {"statutory": "法定时限", "committed": "承诺时限", "assessed": "考核时限"}
LINE_STATES: Mapping[str, str] = {
    "on_time": "按时办结", "late": "超期办结", "overdue": "已超期", "soon": "即将到期", "ok": "正常", "none": "—",
    "paused": "补正中（时限暂停）",
}
DEFAULT_WARN_DAYS = 2


@dataclass(frozen=True)
class FourLines:
    """One case's due date per line, the working days used, and its state on each line."""

    due: Mapping[str, dt.date | None]
    state: Mapping[str, str]
    used_days: int
    closed: bool
    #: per line, why its due date is only 暂定 ("" when firm): counted through a year without holiday data
    warnings: Mapping[str, str] = field(default_factory=dict)

    @property
    def overdue_lines(self) -> list[str]:
        return [line for line, state in self.state.items() if state in ("overdue", "late")]


def line_state(due: dt.date | None, received: dt.date, closed: dt.date | None, today: dt.date,
               calendar: WorkCalendar, warn_days: int = DEFAULT_WARN_DAYS) -> str:
    """on_time / late for a closed case; overdue / soon (≤ warn_days working days left) / ok for an open one."""
    if due is None:
        return "none"
    if closed is not None:
        return "on_time" if closed <= due else "late"
    if today > due:
        return "overdue"
    if today > received and calendar.working_days_between(today, due) <= warn_days:
        return "soon"
    return "ok"


def four_lines(received: dt.date, statutory_due: dt.date | None, committed_due: dt.date | None,
               assessed_days: int | None, closed: dt.date | None, today: dt.date, calendar: WorkCalendar,
               warn_days: int = DEFAULT_WARN_DAYS) -> FourLines:
    """Measure one case; `assessed_days` None means the county set no assessed limit for its item."""
    assessed_due = calendar.add_working_days(received, assessed_days).due if assessed_days is not None else None
    due = {"statutory": statutory_due, "committed": committed_due, "assessed": assessed_due}
    state = {line: line_state(d, received, closed, today, calendar, warn_days) for line, d in due.items()}
    used = calendar.working_days_between(received, closed or today)
    warnings = {line: calendar.judge(received, d).warning if d else "" for line, d in due.items()}
    return FourLines(due=due, state=state, used_days=max(used, 0), closed=closed is not None, warnings=warnings)
