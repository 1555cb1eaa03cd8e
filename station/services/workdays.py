"""Working days at the station: the counting rules moved to ``rules.workdays`` so the county hub
counts 差评整改 deadlines the same way; this name stays for the station's imports."""

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
