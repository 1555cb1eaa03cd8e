"""四条线 early warnings at the county: open cases overdue on a line, or due within N working days.

A case waiting for the resident's 补正 materials has its clocks stopped (DOMAIN.md A.7): it is
listed as 补正中（时限暂停）, never as overdue, and counted overdue nowhere (services/tally.py).

A 跨域办 case one of this county's stations took for another county stays open here until that
county's decision comes back (services/peers.py). It is listed apart (``elsewhere``, headed
待办理地处理 on the page): this county's staff must see it is late at the handling county and chase
it there, but it is not one of this county's own overdue cases — its clerks cannot decide it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import Case, Node

from rules.time_lines import DEFAULT_WARN_DAYS, LINES, FourLines, four_lines, line_state
from sync.hub.models import HubCase, Station
from sync.hub.services import decisions, workdays
from sync.hub.services.statistics import DUE_COLUMNS
from sync.hub.services.tally import CLOSED, OPEN

LIMIT = 500


@dataclass(frozen=True)
class Warning:
    case: HubCase
    lines: FourLines


def _horizon(today: dt.date, days: int) -> dt.date:
    """The last date still 'due soon': `days` working days after today."""
    return workdays.due_after(today, days).due


def lines_of(case: HubCase, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS) -> FourLines | None:
    """One case's four lines as the county counts them (closing date: the county's decision)."""
    if case.status in ("not_collected", "withdrawn"):  # no clock runs: never collected, or withdrawn by her
        return None
    calendar = workdays.calendar()
    received = (case.received_time or case.created_at).date()
    closed = case.closed_at.date() if case.closed_at and case.status in CLOSED else None
    measured = four_lines(received, case.statutory_due, case.committed_due, None, closed, today, calendar, warn_days)
    due, state = dict(measured.due), dict(measured.state)
    due["assessed"] = case.assessed_due
    state["assessed"] = line_state(case.assessed_due, received, closed, today, calendar, warn_days)
    if decisions.awaiting_supply(case):
        # 补正 time is not counted (DOMAIN.md A.7): waiting for the resident, the case is neither
        # due soon nor overdue; its due dates move on by the days waited when the materials arrive
        state = {name: "paused" if due[name] else state[name] for name in state}
    return FourLines(due, state, measured.used_days, measured.closed)


@dataclass(frozen=True)
class DueInForce:
    """A 法定 or 承诺 due date as every page counts it (the case's column), and why it moved."""

    due: dt.date | None
    original: dt.date | None  # the station's date, when 补正 moved it later; else None
    paused_days: int  # working days the clock stood still for 补正 (DOMAIN.md A.7)


def dues_in_force(case: HubCase) -> dict[str, DueInForce]:
    """The case's 法定/承诺 due dates in force, each with the station's original when 补正 moved it.

    The case's columns are the one source (the 四条线, warnings, roll-up, search, ledger and the
    resident's page read them); the snapshot keeps the date the station sent, which the case page
    shows beside it so the clerk sees how far the 补正 pause moved it (``case_view.resumed_dues``).
    """
    snapshot = case.snapshot or {}
    calendar = workdays.calendar()
    # a station's recount the county took (case_view._apply_note) is the date it sent last: a holiday
    # table's change, not a 补正 pause
    taken = [r for r in snapshot.get("recounts") or [] if isinstance(r, dict) and r.get("taken")]
    found = {}
    for line, column in (("statutory", "statutory_due"), ("committed", "committed_due")):
        due = _as_date(getattr(case, column))
        sent = _as_date(taken[-1].get(column) if taken else snapshot.get(column))
        moved = due is not None and sent is not None and due > sent
        found[line] = DueInForce(due, sent if moved else None,
                                 calendar.working_days_between(sent, due) if moved else 0)
    return found


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _earliest(columns: list[Node]) -> Node:
    """The earliest of some due-date columns, NULLs skipped (the same on SQLite and PostgreSQL)."""
    earliest = columns[0]
    for column in columns[1:]:
        earliest = Case(None, [(earliest.is_null(), column), (column.is_null(), earliest),
                               (column < earliest, column)], earliest)
    return earliest


def find(today: dt.date, days: int, *, station: Station | None = None, line: str = "",
         elsewhere: bool = False) -> list[Warning]:
    """Open cases whose due date on `line` (any line when "") is before the horizon, most overdue first.

    This county's own cases; with ``elsewhere``, only the 跨域办 cases another county decides
    (:func:`decisions.decided_elsewhere`) — never both in one list.

    The due dates are compared in SQL, so only the cases to show are read; each is then measured on
    all four lines. They are ordered by their earliest due date on the lines asked about — a case with
    no 承诺时限 but long past its 法定时限 comes before one that is a day late, and the first
    :data:`LIMIT` are the most urgent on either database.
    """
    horizon = _horizon(today, days)
    lines = [line] if line in LINES else list(LINES)
    condition = None
    for name in lines:
        part = DUE_COLUMNS[name].is_null(False) & (DUE_COLUMNS[name] <= horizon)
        condition = part if condition is None else condition | part
    query = (HubCase.select(HubCase, Station).join(Station)
             .where(HubCase.status.in_(OPEN) & condition
                    & (decisions.elsewhere_condition() if elsewhere else ~decisions.elsewhere_condition()))
             .order_by(_earliest([DUE_COLUMNS[name] for name in lines]), HubCase.id).limit(LIMIT))
    if station is not None:
        query = query.where(HubCase.station == station.id)
    found = []
    for case in query:
        measured = lines_of(case, today, days)
        # a case taken today is not yet 即将到期 on any line (rules.time_lines): listed, it read 正常 under
        # a heading that says every row is overdue or due soon. One waiting for its 补正 stays listed,
        # shown 补正中（时限暂停）, so nobody chases the county's clerks for a case the resident holds up
        if measured is not None and any(measured.state[name] in ("overdue", "soon", "paused") for name in lines):
            found.append(Warning(case, measured))
    return found
