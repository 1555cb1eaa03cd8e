"""Working days: the rules live in rules/workdays.py (the county hub counts them too); this name stays for the station's imports."""

from rules.workdays import (  # noqa: F401 - re-exported
    HOURS,
    HOURS_PER_WORKING_DAY,
    NATURAL_DAYS,
    SOON_WORKING_DAYS,
    UNITS,
    WORKING_DAYS,
    DayOverride,
    Deadline,
    WorkCalendar,
    seed_from_chinese_calendar,
    urgency,
)
