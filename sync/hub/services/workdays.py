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


_built: dict[object, tuple[float, WorkCalendar, dict[int, dt.date]]] = {}  # by the bound database: one per app
#: How long a worker counts with the published years it read before it looks again: another worker may
#: have published (the publishing one starts afresh at once). Ingest counts 考核时限 per case: no query each.
RECHECK_SECONDS = 60.0


def _build() -> tuple[float, WorkCalendar, dict[int, dt.date]]:
    key = db.obj
    cached = _built.get(key)
    if cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached
    overrides, years = _seeded()
    published: list[DayOverride] = []
    known = set(years)
    published_on: dict[int, dt.date] = {}
    for row in HolidayTable.select().order_by(HolidayTable.year):
        published += read_holiday_table(row.year, row.days)
        known.add(row.year)
        if row.year not in years:  # a year chinese_calendar did not know: dates counted before it are stale
            published_on[row.year] = row.published_at.date()
    built = (time.monotonic(), WorkCalendar(list(overrides) + published, known), published_on)
    _built[key] = built
    return built


def calendar() -> WorkCalendar:
    """The county's working-day calendar: chinese_calendar's years, then the years the county published."""
    return _build()[1]


def shipped_days(year: int) -> list[dict[str, object]] | None:
    """The year's days as the installed chinese_calendar ships them, or None when it does not know the year.

    What stations count a year with before the county publishes it: the 节假日安排 preview compares with it.
    """
    overrides, years = _seeded()
    if year not in years:
        return None
    return [{"day": o.day.isoformat(), "is_workday": o.is_workday, "name": o.name}
            for o in overrides if o.day.year == year]


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


def provisional_warning(start: dt.date | dt.datetime | None, due: dt.date | None, counted_now: bool = False,
                        counted_on: dt.date | None = None, own: bool = False) -> str:
    """Why a due date counted from ``start`` is only provisional ("" when it is not).

    A date past the last year chinese_calendar knows was counted Monday to Friday (元旦 2027 as a
    working day): the county's pages say so beside it, as the station's do (DOMAIN.md, working days).
    A stored date (a station's 法定/承诺, a 整改's) counted before the county published that year stays
    marked until the station counts it again and the hub takes the new date from its note (case_view
    ``_apply_note``); a date the county moved itself meanwhile keeps the mark.
    ``counted_now``: the date was counted just now with this calendar, so it is current.
    ``counted_on``: the day the station counted the case's dates again and the hub took them
    (``HubCase.dues_counted_on``), or the day the county counted its 考核时限 (``assessed_counted_on``:
    at ingest, again for the open cases when it publishes a year): a year published before it is in them.
    ``own``: the county's own count (the 考核时限), which no station recount moves — a closed case's."""
    if start is None or due is None:
        return ""
    start_day = start.date() if isinstance(start, dt.datetime) else start
    _at, built, published_on = _build()
    warning = built.judge(start_day, due).warning
    if warning or counted_now or due <= start_day:
        return warning
    counted = max(start_day, counted_on) if counted_on else start_day
    stale = sorted(year for year, on in published_on.items() if start_day.year <= year <= due.year and on > counted)
    if not stale:
        return ""
    listed = "、".join(str(year) for year in stale)
    if own:
        return f"此日期在{listed}年节假日安排发布前按周一至周五推算；发布时此件已不在办理中，未重新计算"
    return f"此日期在{listed}年节假日安排发布前按周一至周五推算，以站点重新计算、通知的日期为准"
