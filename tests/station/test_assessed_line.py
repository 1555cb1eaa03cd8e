"""考核 line at the station: a case keeps the assessed limit it was taken under, as the county's figures do
(the county fixes it when the case arrives) — a limit the county changes later moves no earlier case."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from rules.periods import Period
from station.models import Case, User
from station.services import intake, station_info, statistics, time_lines
from tests.fixtures.intake import form_for, item_named

TODAY = dt.date.today()


def _plus_working_days(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def _take(limit: int) -> Case:
    """The county's limit for the item as sent down (a settings change), then a case taken under it."""
    item = item_named("高龄津贴申领")
    station_info.apply_hub_settings({"assessed_days": {item.item_code: limit}})
    draft = intake.check_input([item], form_for([item]), TODAY)
    [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
    return Case.get_by_id(case.id)


def test_a_limit_the_county_changes_later_moves_no_earlier_case(database):
    limits = {"before": 5, "after": 1}  # the county tightens the item's 考核时限 between the two cases
    taken = {when: _take(limit) for when, limit in limits.items()}
    due = {when: _plus_working_days(TODAY, limit) for when, limit in limits.items()}
    for when, case in taken.items():
        assert time_lines.lines_of(case, TODAY).due["assessed"] == due[when], when
    read_on = due["after"] + dt.timedelta(days=1)  # past the tighter date only
    overdue = sum(read_on > d for d in due.values())
    assessed = next(f for f in statistics.compute(Period("day", TODAY, TODAY), read_on).on_time
                    if f.line == "assessed")
    assert assessed.open_overdue == overdue == 1
