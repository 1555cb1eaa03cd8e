"""Working days at the county, counted by the same rules as the station (``rules.workdays``).

The one calendar of the hub: 考核时限 due dates, the 四条线 warnings and 整改 deadlines all count
with :func:`calendar`, so a date never differs between two county pages.

It counts with the table the installed chinese_calendar ships plus the years the county published
(services/holidays.py); a year neither knows is counted Monday to Friday and the deadline marked
provisional — the station's rule, so a 整改 due date never crashes in January.
"""

from __future__ import annotations

import datetime as dt
import functools
import time

from rules.workdays import DayOverride, Deadline, WorkCalendar, read_holiday_table, seed_from_chinese_calendar
from sync.hub.china_time import CHINA_TZ
from sync.hub.extensions import db
from sync.hub.models import HolidayTable


@functools.cache
def _seeded() -> tuple[tuple[DayOverride, ...], tuple[int, ...]]:
    """What the installed chinese_calendar ships (read once per process: it never changes while running)."""
    try:
        overrides, years = seed_from_chinese_calendar()
    except ImportError:  # no chinese_calendar: Monday–Friday, every date provisional
        overrides, years = [], []
    return tuple(overrides), tuple(years)


_built: dict[object, tuple[float, WorkCalendar]] = {}  # by the bound database: one per app
#: How long a worker counts with the published years it read before it looks again: another worker may
#: have published (the publishing one starts afresh at once). Ingest counts 考核时限 per case: no query each.
RECHECK_SECONDS = 60.0


def calendar() -> WorkCalendar:
    """The county's working-day calendar: chinese_calendar's years, then the years the county published."""
    key = db.obj
    cached = _built.get(key)
    if cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    overrides, years = _seeded()
    published: list[DayOverride] = []
    known = set(years)
    for row in HolidayTable.select().order_by(HolidayTable.year):
        published += read_holiday_table(row.year, row.days)
        known.add(row.year)
    built = WorkCalendar(list(overrides) + published, known)
    _built[key] = (time.monotonic(), built)
    return built


def forget() -> None:
    """Drop this process's calendars: after a publication here, and in tests that take chinese_calendar away."""
    _seeded.cache_clear()
    _built.clear()


def china_today() -> dt.date:
    """Today in China: a 差评 given at 07:00 China time is still yesterday in UTC."""
    return dt.datetime.now(CHINA_TZ).date()


def due_after(start: dt.date, working_days: int) -> Deadline:
    """The Nth working day after ``start`` (the start day itself does not count)."""
    return calendar().add_working_days(start, working_days)


def provisional_warning(start: dt.date | dt.datetime | None, due: dt.date | None) -> str:
    """Why a due date counted from ``start`` is only provisional ("" when it is not).

    A date past the last year chinese_calendar knows was counted Monday to Friday (元旦 2027 as a
    working day): the county's pages say so beside it, as the station's do (DOMAIN.md, working days)."""
    if start is None or due is None:
        return ""
    start_day = start.date() if isinstance(start, dt.datetime) else start
    return calendar().judge(start_day, due).warning
