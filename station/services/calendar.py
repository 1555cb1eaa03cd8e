"""The station's working-day calendar, read from the versioned holiday table in the database.

Seeded from `chinese_calendar` at init, editable by the admin, later updated by the county.
The pure counting rules live in `workdays`; this module only moves rows in and out.
"""

from __future__ import annotations

import datetime as dt

from station.extensions import db
from station.models import HolidayOverride, HolidayYear
from station.models.base import now
from station.services.errors import ValidationFailed
from station.services.workdays import DayOverride, Deadline, WorkCalendar, seed_from_chinese_calendar, urgency


def load_calendar() -> WorkCalendar:
    """Build the calendar from the table (a few hundred rows: cheap enough per request)."""
    overrides = [
        DayOverride(day=row.day, is_workday=row.is_workday, name=row.name) for row in HolidayOverride.select()
    ]
    years = [row.year for row in HolidayYear.select()]
    return WorkCalendar(overrides, years)


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
    return len(rows)


def set_override(day: dt.date, is_workday: bool, name: str, mark_year_known: bool = False) -> None:
    """Admin edit: a local holiday, or a make-up workday the package does not know yet."""
    if not name.strip():
        raise ValidationFailed({"name": "请填写名称，如“国庆节”或“调休上班”。"})
    with db.atomic():
        HolidayOverride.insert(
            day=day, is_workday=is_workday, name=name.strip()[:40], source="admin", updated_at=now()
        ).on_conflict_replace().execute()
        if mark_year_known:
            HolidayYear.insert(year=day.year, source="admin").on_conflict_replace().execute()


def delete_override(day: dt.date) -> None:
    """Remove an override: the day goes back to the Monday–Friday rule."""
    HolidayOverride.delete().where(HolidayOverride.day == day).execute()


def set_year_known(year: int, known: bool) -> None:
    """Mark a year's holiday data complete (deadlines in it stop being provisional) or not."""
    if known:
        HolidayYear.insert(year=year, source="admin").on_conflict_replace().execute()
    else:
        HolidayYear.delete().where(HolidayYear.year == year).execute()


def deadline(start: dt.date, value: int, unit: str, calendar: WorkCalendar | None = None) -> Deadline:
    """Deadline for a limit of `value` `unit` counted from `start`."""
    return (calendar or load_calendar()).deadline_for(start, value, unit)


def marker(due: dt.date | None, today: dt.date, calendar: WorkCalendar) -> str:
    """The list marker: '' when there is no deadline, else ok / soon (≤ 2 working days) / overdue."""
    if due is None:
        return ""
    return urgency(due, today, calendar)
