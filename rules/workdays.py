"""Deadlines in Chinese working days, from a holiday table (the station's, or the one the county hub seeds).

The table (holidays on weekdays, make-up workdays on weekends, by year) lives in the database so
the county can update it; this module takes its rows as plain data. A year the table does not
know is counted Monday to Friday and every deadline that touches it is marked provisional with
a Chinese warning: a station must never stop working in January because the data is late, nor
silently show a date that may be wrong (DESIGN.md "Time limits").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

logger = logging.getLogger(__name__)

WORKING_DAYS = "working_days"
NATURAL_DAYS = "natural_days"
HOURS = "hours"
UNITS = (WORKING_DAYS, NATURAL_DAYS, HOURS)

# A limit given in hours (e.g. 承诺24小时办结) is converted at 8 office hours per working day and
# rounded up: the station records dates, not clock times, and a part day still needs a day.
HOURS_PER_WORKING_DAY = 8

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# Remaining working days at or below which a case shows yellow.
SOON_WORKING_DAYS = 2


@dataclass(frozen=True)
class DayOverride:
    """One day that differs from Monday–Friday: a holiday on a weekday or a make-up workday."""

    day: date
    is_workday: bool
    name: str = ""


@dataclass(frozen=True)
class Deadline:
    """A due date; provisional when it was counted through a year without holiday data."""

    due: date
    provisional: bool
    warning: str = ""


def _provisional_warning(years: Iterable[int]) -> str:
    """Say in Chinese which years were counted Monday–Friday only."""
    listed = "、".join(str(year) for year in sorted(set(years)))
    return f"{listed}年节假日数据尚未更新，期限按周一至周五暂算，仅供参考"


class WorkCalendar:
    """Working days from the station's holiday table, falling back to Monday–Friday."""

    def __init__(self, overrides: Iterable[DayOverride], known_years: Iterable[int]) -> None:
        """Index the overrides by day; later entries win, so pass national rows before local ones."""
        self._overrides: dict[date, DayOverride] = {}
        for override in overrides:
            self._overrides[override.day] = override
        self._known_years = frozenset(known_years)

    def is_workday(self, day: date) -> bool:
        """Return the table's answer for the day, else whether it is Monday to Friday."""
        override = self._overrides.get(day)
        if override is not None:
            return override.is_workday
        return day.weekday() < 5

    def day_name(self, day: date) -> str:
        """Return the holiday or make-up workday name for the day, or "" for an ordinary day."""
        override = self._overrides.get(day)
        return override.name if override is not None else ""

    def period_end(self, day: date) -> date:
        """The day a period ending on `day` really ends: `day` itself, or the next working day after it.

        民法典 §203: a period whose last day is a statutory holiday (or a weekend) ends on the day
        after it — a resident told "by Saturday" is on time on Monday, when the station is open.
        """
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def rest_day_name(self, day: date) -> str:
        """Why `day` is a rest day ("国庆节", "星期六"), or "" when it is a working day."""
        if self.is_workday(day):
            return ""
        return self.day_name(day) or WEEKDAY_NAMES[day.weekday()]

    def year_known(self, year: int) -> bool:
        """Tell whether the table holds holiday data for the year."""
        return year in self._known_years

    def _deadline(self, start: date, due: date) -> Deadline:
        """Wrap a due date, marking it provisional if any day after `start` up to `due` is in an unknown year."""
        if due <= start:
            return Deadline(due=due, provisional=False)
        first_counted = start + timedelta(days=1)
        unknown = [year for year in range(first_counted.year, due.year + 1) if not self.year_known(year)]
        if not unknown:
            return Deadline(due=due, provisional=False)
        return Deadline(due=due, provisional=True, warning=_provisional_warning(unknown))

    def judge(self, start: date, due: date) -> Deadline:
        """A due date counted elsewhere (a station's 法定/承诺 date, one stored last month) marked
        provisional as this calendar marks its own: it runs through a year without holiday data."""
        return self._deadline(start, due)

    def add_working_days(self, start: date, days: int) -> Deadline:
        """Return the Nth working day after `start`; `days == 0` gives `start` itself.

        The day of receipt does not count: counting begins the next day (行政许可法 practice),
        so a 1-working-day item received on Friday is due on Monday.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return self._deadline(start, day)

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after `start` up to and including `end`; negative if `end` is earlier.

        Counted the same way as add_working_days, so
        `working_days_between(s, add_working_days(s, n).due) == n` and a case handled on the
        day it came in used 0 working days.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def deadline_for(self, start: date, value: int, unit: str) -> Deadline:
        """Turn a limit stored as number + unit into a due date.

        working_days: see add_working_days. natural_days: `start + value`, moved on to the next
        working day when it lands on a rest day (民法典 §203: a period whose last day is a
        statutory rest day ends on the day after it). hours: rounded up to whole working days
        at HOURS_PER_WORKING_DAY, because the station keeps dates, not clock times.
        """
        if unit not in UNITS:
            raise ValueError(f"unknown time limit unit: {unit!r}")
        if value < 0:
            raise ValueError("a time limit must not be negative")
        if unit == WORKING_DAYS:
            return self.add_working_days(start, value)
        if unit == HOURS:
            return self.add_working_days(start, math.ceil(value / HOURS_PER_WORKING_DAY))
        due = start + timedelta(days=value)
        if value:
            due = self.period_end(due)
        return self._deadline(start, due)


def urgency(due: date, today: date, calendar: WorkCalendar, start: date | None = None) -> str:
    """Classify a deadline for display: "overdue" (red), "soon" (yellow, ≤ 2 working days left) or "ok".

    On the day the case was taken (`start`) nothing is "soon": a 1-working-day item would
    otherwise go yellow the moment it is received, before anyone could have been late.
    """
    if today > due:
        return "overdue"
    if start is not None and today <= start:
        return "ok"
    if calendar.working_days_between(today, due) <= SOON_WORKING_DAYS:
        return "soon"
    return "ok"


def read_holiday_table(year: object, days: object) -> list[DayOverride]:
    """Check one year's published holiday table (the county's, as sent to stations) and return its days.

    Raises ValueError with a Chinese message: the county is told before it publishes, and a station
    refuses a table it cannot read rather than count a year wrongly as known.
    """
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ValueError("节假日安排的年份不正确。")
    if not isinstance(days, list) or not days:
        raise ValueError(f"{year}年节假日安排没有任何日期：至少应有元旦等放假日。")
    out: dict[date, DayOverride] = {}
    for n, row in enumerate(days, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"第 {n} 行不是一条日期记录。")
        try:
            day = date.fromisoformat(str(row.get("day") or ""))
        except ValueError:
            raise ValueError(f"第 {n} 行的日期“{row.get('day')}”不正确，应为 {year}-01-01 这样的日期。") from None
        if day.year != year:
            raise ValueError(f"第 {n} 行的日期 {day.isoformat()} 不在 {year} 年。")
        if not isinstance(row.get("is_workday"), bool):
            raise ValueError(f"第 {n} 行（{day.isoformat()}）须说明放假还是上班。")
        name = str(row.get("name") or "").strip()
        if not name or len(name) > 40:
            raise ValueError(f"第 {n} 行（{day.isoformat()}）须有名称（如“春节”“春节调休上班”），最多40字。")
        if day in out:
            raise ValueError(f"{day.isoformat()} 出现了两次。")
        out[day] = DayOverride(day=day, is_workday=row["is_workday"], name=name)
    return sorted(out.values(), key=lambda o: o.day)


def seed_from_chinese_calendar(years: Iterable[int] | None = None) -> tuple[list[DayOverride], list[int]]:
    """Build the first holiday table from the chinese_calendar package.

    Returns the days that differ from Monday–Friday, named in Chinese, and the years covered.
    The package raises NotImplementedError outside the years it ships; we read its range from
    its own data (as it does) and skip other requested years instead of failing, so a stale
    install still seeds what it has and the rest stays provisional until the county updates it.
    """
    import chinese_calendar

    shipped = [day.year for day in chinese_calendar.holidays]
    first, last = min(shipped), max(shipped)
    chinese_names = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}

    wanted = range(first, last + 1) if years is None else sorted(set(years))
    overrides: list[DayOverride] = []
    known_years: list[int] = []
    for year in wanted:
        if not first <= year <= last:
            logger.info(
                "chinese_calendar %s has no holiday data for %s; skipped", chinese_calendar.__version__, year
            )
            continue
        known_years.append(year)
        day = date(year, 1, 1)
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            is_workday = not on_holiday
            if is_workday != (day.weekday() < 5):
                holiday_name = chinese_names.get(name, name or "")
                if is_workday and holiday_name:
                    holiday_name += "调休上班"
                overrides.append(DayOverride(day=day, is_workday=is_workday, name=holiday_name))
            day += timedelta(days=1)
    return overrides, known_years
