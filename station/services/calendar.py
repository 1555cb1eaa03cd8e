"""The station's working-day calendar, read from the versioned holiday table in the database.

Seeded from `chinese_calendar` at init, editable by the admin, later updated by the county.
The pure counting rules live in `rules.workdays`; this module only moves rows in and out.
"""

from __future__ import annotations

import datetime as dt
import threading

from peewee import fn

from rules.workdays import DayOverride, WorkCalendar, read_holiday_table, seed_from_chinese_calendar, urgency
from station.extensions import db
from station.models import HolidayOverride, HolidayYear, Setting
from station.models.base import now
from station.services import case_deadlines
from station.services.errors import DomainError, ValidationFailed

VERSION_KEY = "calendar.version"
_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, WorkCalendar]] = {}


def _table_state() -> tuple:
    """A cheap fingerprint of the holiday tables: every write through this module bumps the
    version; counts and latest edit time catch rows changed any other way."""
    return (
        Setting.get_value(VERSION_KEY, "0"),
        HolidayOverride.select(fn.COUNT(HolidayOverride.day), fn.MAX(HolidayOverride.updated_at)).tuples().get(),
        HolidayYear.select(fn.COUNT(HolidayYear.year), fn.MAX(HolidayYear.updated_at)).tuples().get(),
    )


def _bump(reason: str = "station", version: str = "") -> int:
    """Mark the table changed and count the open 暂定 deadlines again with it; return how many moved.

    `reason`/`version`: whose table it is (the county's published version, the station admin's
    edit, the package seeded at init), told to the county with each moved case's new dates."""
    Setting.set_value(VERSION_KEY, str(int(Setting.get_value(VERSION_KEY, "0") or 0) + 1))
    return case_deadlines.recount_provisional(load_calendar(), reason, version)


def load_calendar() -> WorkCalendar:
    """The calendar from the table, rebuilt only when the table changed.

    Building it from ~1,000 rows took 17 ms — most of a case-list request — so it is kept per
    database and checked against the table's fingerprint on every call.
    """
    key = str(db.obj.database)
    state = _table_state()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == state:
            return cached[1]
    overrides = [
        DayOverride(day=day, is_workday=bool(is_workday), name=name)
        for day, is_workday, name in HolidayOverride.select(
            HolidayOverride.day, HolidayOverride.is_workday, HolidayOverride.name
        ).tuples()
    ]
    years = [year for (year,) in HolidayYear.select(HolidayYear.year).tuples()]
    calendar = WorkCalendar(overrides, years)
    with _cache_lock:
        _cache[key] = (state, calendar)
    return calendar


def seed_holidays() -> int:
    """Load every year the installed chinese_calendar knows; rows the admin edited stay as they are."""
    overrides, years = seed_from_chinese_calendar()
    with db.atomic("IMMEDIATE"):
        admin_days = {row.day for row in HolidayOverride.select().where(HolidayOverride.source != "seed")}
        rows = [
            {"day": o.day, "is_workday": o.is_workday, "name": o.name, "source": "seed", "updated_at": now()}
            for o in overrides
            if o.day not in admin_days
        ]
        for start in range(0, len(rows), 200):
            HolidayOverride.insert_many(rows[start : start + 200]).on_conflict_replace().execute()
        for year in years:
            HolidayYear.insert(year=year, source="seed").on_conflict_ignore().execute()
        _bump("seed")
    return len(rows)


def apply_hub_holidays(payload: dict) -> int:
    """The county published a year's holidays (``calendar.holidays``): take them in place of the seeded rows.

    The admin's own rows (a local holiday) stay; the year counts as known, so its 暂定 deadlines are
    counted again and become firm. Runs in the pull's transaction; returns how many cases moved.
    A table the station cannot read is refused in Chinese (sync sets the change aside for a person).
    """
    try:
        days = read_holiday_table(payload.get("year"), payload.get("days"))
    except ValueError as exc:
        raise DomainError(f"县级下发的节假日安排无法使用：{exc}") from exc
    year = payload["year"]
    version = str(payload.get("version") or "")[:40]
    with db.atomic():
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        admin_days = {day for (day,) in HolidayOverride.select(HolidayOverride.day).where(
            (HolidayOverride.source == "admin") & HolidayOverride.day.between(first, last)).tuples()}
        HolidayOverride.delete().where((HolidayOverride.source != "admin")
                                       & HolidayOverride.day.between(first, last)).execute()
        HolidayOverride.insert_many([
            {"day": o.day, "is_workday": o.is_workday, "name": o.name, "source": "hub", "updated_at": now()}
            for o in days if o.day not in admin_days]).execute()
        HolidayYear.insert(year=year, source="hub", version=version, updated_at=now()).on_conflict_replace().execute()
        return _bump("county", version)


def set_override(day: dt.date, is_workday: bool, name: str, mark_year_known: bool = False) -> int:
    """Admin edit: a local holiday, or a make-up workday the package does not know yet.

    Returns how many open cases' 暂定 deadlines moved or became firm with it.
    """
    if not name.strip():
        raise ValidationFailed({"name": "请填写名称，如“国庆节”或“调休上班”。"})
    with db.atomic("IMMEDIATE"):
        HolidayOverride.insert(
            day=day, is_workday=is_workday, name=name.strip()[:40], source="admin", updated_at=now()
        ).on_conflict_replace().execute()
        if mark_year_known:
            HolidayYear.insert(year=day.year, source="admin").on_conflict_replace().execute()
        return _bump()


def delete_override(day: dt.date) -> int:
    """Remove an override: the day goes back to the Monday–Friday rule (open 暂定 deadlines recounted)."""
    with db.atomic("IMMEDIATE"):
        HolidayOverride.delete().where(HolidayOverride.day == day).execute()
        return _bump()


def set_year_known(year: int, known: bool) -> int:
    """Mark a year's holiday data complete (open deadlines in it recounted and no longer provisional) or not."""
    with db.atomic("IMMEDIATE"):
        if known:
            HolidayYear.insert(year=year, source="admin").on_conflict_replace().execute()
        else:
            HolidayYear.delete().where(HolidayYear.year == year).execute()
        return _bump()


def deferral_late(due: dt.date | None, today: dt.date, calendar: WorkCalendar) -> bool:
    """A 容缺 date has passed: not on the working day after a rest day it fell on (民法典 §203 — the
    resident told "by Saturday" is on time on Monday, the first day the station is open)."""
    return due is not None and calendar.period_end(due) < today


def marker(due: dt.date | None, today: dt.date, calendar: WorkCalendar, start: dt.date | None = None) -> str:
    """The list marker: '' when there is no deadline, else ok / soon (≤ 2 working days) / overdue."""
    if due is None:
        return ""
    return urgency(due, today, calendar, start)
