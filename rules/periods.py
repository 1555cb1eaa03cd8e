"""The period a ledger or a statistics page covers: a day, a week, a month or any range.

Both apps read the same four choices from a form; a bad date or a backwards range is refused
with a Chinese message (raised as PeriodError), so the station and the county say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KINDS: Mapping[str, str] = {"day": "日", "week": "周", "month": "月", "range": "自定义"}
MAX_DAYS = 366


class PeriodError(ValueError):
    """A period the form cannot mean; ``message`` says why in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """2026年11月 / 2026年11月2日至2026年11月8日 / 2026年11月5日 — for titles and file names."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.start == self.end:
            return f"{self.start.year}年{self.start.month}月{self.start.day}日"
        return (f"{self.start.year}年{self.start.month}月{self.start.day}日至"
                f"{self.end.year}年{self.end.month}月{self.end.day}日")

    @property
    def slug(self) -> str:
        """For a file name: 2026-11, 2026-11-05 or 2026-11-02_2026-11-08."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()}_{self.end.isoformat()}"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00, the day after end 00:00) for a query on a timestamp."""
        return dt.datetime.combine(self.start, dt.time()), dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())


def bad_date_message(what: str, today: dt.date) -> str:
    """The refusal of a typed date that is not one, with today as the example.

    Both apps use it so every form says the same; a fixed example date reads as a stale hint
    (or as the date to type) once that day has passed.
    """
    return f"{what}格式有误，应为 {today.isoformat()} 这样的日期。"


def is_date(value: Any) -> bool:
    """Whether ``value`` reads as a calendar date (ISO, as a form's date field and a booking's dates send it).

    One test for every typed or sent date, so a form's date field and the county's bookable days
    accept the same texts.
    """
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


#: The years a page may be asked about: the week, month and "next day" of a day near year 1 or
#: 9999 fall off Python's calendar (an OverflowError, a 500), and no case or booking lies there.
FIRST_YEAR, LAST_YEAR = 1900, 2100


def parse_day(raw: str | None, what: str, today: dt.date) -> dt.date:
    """A typed day (or 2026-11 from ``<input type="month">``); empty: today; PeriodError when it is none."""
    text = (raw or "").strip()
    if not text:
        return today
    try:
        day = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        raise PeriodError(bad_date_message(what, today)) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise PeriodError(f"{what}须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间。")
    return day


def parse_period(form: Mapping[str, str], today: dt.date) -> Period:
    """Read ``period`` (day/week/month/range) with ``day``, or ``start`` and ``end`` for a range."""
    kind = (form.get("period") or "day").strip()
    if kind not in KINDS:
        raise PeriodError("请选择统计周期：日、周、月或自定义。")
    if kind == "range":
        start = parse_day(form.get("start"), "开始日期", today)
        end = parse_day(form.get("end"), "结束日期", today)
        if end < start:
            raise PeriodError("结束日期不能早于开始日期。")
        if (end - start).days + 1 > MAX_DAYS:
            raise PeriodError(f"自定义周期最长 {MAX_DAYS} 天，请分段查看或导出。")  # the statistics page says it too
        return Period(kind, start, end)
    day = parse_day(form.get("day"), "日期", today)
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period(kind, start, start + dt.timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return Period(kind, start, following - dt.timedelta(days=1))
    return Period(kind, day, day)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, or minus when negative (a 31st falls back to the month's last day).

    One month arithmetic for a verified material's validity and for retention, at the station and
    at the county alike, so both clear the same records.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")
