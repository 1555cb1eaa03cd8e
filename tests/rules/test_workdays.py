"""Working-day deadlines: holidays and make-up workdays counted, unknown years provisional, never a crash."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from rules.workdays import (
    DayOverride,
    Deadline,
    WorkCalendar,
    seed_from_chinese_calendar,
    urgency,
)

WARNING_2027 = "2027年节假日数据尚未更新，期限按周一至周五暂算，仅供参考"


@pytest.fixture(scope="module")
def calendar():
    """The calendar a fresh station has: seeded from chinese_calendar 1.11.0 (2004–2026)."""
    overrides, known_years = seed_from_chinese_calendar()
    return WorkCalendar(overrides, known_years)


# ---------------------------------------------------------------- the calendar itself


def test_plain_calendar_is_monday_to_friday():
    plain = WorkCalendar([], [])
    assert [plain.is_workday(date(2026, 6, 1) + timedelta(days=i)) for i in range(7)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_overrides_win_and_later_rows_win_over_earlier():
    national_holiday = DayOverride(date(2030, 5, 1), is_workday=False, name="劳动节")
    local_workday = DayOverride(date(2030, 5, 1), is_workday=True, name="本县调整")
    saturday_workday = DayOverride(date(2030, 5, 4), is_workday=True, name="劳动节调休上班")
    cal = WorkCalendar([national_holiday, saturday_workday], [2030])
    assert not cal.is_workday(date(2030, 5, 1))
    assert cal.is_workday(date(2030, 5, 4))
    assert cal.day_name(date(2030, 5, 4)) == "劳动节调休上班"
    assert cal.day_name(date(2030, 5, 6)) == ""
    assert WorkCalendar([national_holiday, local_workday], [2030]).is_workday(date(2030, 5, 1))


def test_year_known(calendar):
    assert calendar.year_known(2026)
    assert calendar.year_known(2004)
    assert not calendar.year_known(2027)
    assert not calendar.year_known(2003)


# ---------------------------------------------------------------- holidays counted right


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        (date(2026, 9, 20), True),  # Sunday, make-up workday for National Day
        (date(2026, 9, 25), False),  # 中秋, a Friday
        (date(2026, 9, 30), True),
        *[(date(2026, 10, d), False) for d in range(1, 8)],  # 国庆节 10-01..10-07 in chinese_calendar 1.11.0
        (date(2026, 10, 8), True),
        (date(2026, 10, 9), True),
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2026, 10, 11), False),
        (date(2025, 1, 26), True),  # Sunday, make-up workday for Spring Festival
        (date(2025, 1, 27), True),
        *[(date(2025, 1, 28) + timedelta(days=i), False) for i in range(8)],  # 春节 01-28..02-04
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday, make-up workday
        (date(2027, 1, 1), True),  # unknown year: a Friday counts, whatever the State Council decides
        (date(2027, 1, 2), False),
    ],
)
def test_is_workday_from_seeded_table(calendar, day, is_workday):
    assert calendar.is_workday(day) is is_workday


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # National Day 2026: 10-01..10-07 off, then Thu 10-08, Fri 10-09, make-up Sat 10-10.
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Fri → make-up Sunday
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # Thu → over 中秋 Fri and the weekend
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # received on a holiday: counting starts the next day
        # Spring Festival 2025: make-up Sun 01-26, 01-28..02-04 off, make-up Sat 02-08.
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 24), 2, date(2025, 1, 27)),
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 1, 24), 6, date(2025, 2, 8)),
        (date(2025, 1, 24), 7, date(2025, 2, 10)),
        # Ordinary weeks.
        (date(2026, 6, 5), 1, date(2026, 6, 8)),  # Fri → Mon
        (date(2026, 6, 1), 20, date(2026, 6, 30)),  # crosses 端午 (Fri 06-19)
    ],
)
def test_add_working_days_inside_known_years(calendar, start, days, due):
    assert calendar.add_working_days(start, days) == Deadline(due=due, provisional=False, warning="")


def test_deadline_crossing_into_unknown_year_is_provisional(calendar):
    # Counted by hand from Sunday 2026-12-20 (the day itself does not count):
    # Mon 12-21 .. Fri 12-25 = 5, Mon 12-28 .. Thu 12-31 = 9, Fri 2027-01-01 = 10.
    # 2027 has no data, so New Year's Day is counted as an ordinary Friday — hence provisional.
    deadline = calendar.add_working_days(date(2026, 12, 20), 10)
    assert deadline == Deadline(due=date(2027, 1, 1), provisional=True, warning=WARNING_2027)


def test_deadline_entirely_in_unknown_year_counts_monday_to_friday(calendar):
    deadline = calendar.add_working_days(date(2027, 3, 1), 5)  # Monday
    assert deadline == Deadline(due=date(2027, 3, 8), provisional=True, warning=WARNING_2027)


def test_warning_names_every_unknown_year():
    cal = WorkCalendar([], [2026])
    deadline = cal.add_working_days(date(2027, 12, 30), 5)
    assert deadline.provisional
    assert deadline.warning == "2027、2028年节假日数据尚未更新，期限按周一至周五暂算，仅供参考"


def test_receipt_day_in_unknown_year_does_not_make_a_known_count_provisional():
    cal = WorkCalendar([], [2028])
    assert cal.add_working_days(date(2027, 12, 31), 1) == Deadline(date(2028, 1, 3), provisional=False)


@pytest.mark.parametrize("start", [date(2026, 6, 1), date(2026, 10, 1), date(2027, 6, 1), date(2026, 12, 31)])
def test_zero_days_is_the_same_day(calendar, start):
    assert calendar.add_working_days(start, 0) == Deadline(due=start, provisional=False)


def test_negative_days_refused(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 6, 1), -1)


# ---------------------------------------------------------------- time used and remaining


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 9, 30), date(2026, 10, 10), 3),
        (date(2026, 10, 10), date(2026, 9, 30), -3),
        (date(2026, 6, 1), date(2026, 6, 1), 0),
        (date(2026, 6, 5), date(2026, 6, 7), 0),  # Fri → Sun
        (date(2026, 6, 5), date(2026, 6, 8), 1),
        (date(2026, 12, 20), date(2027, 1, 1), 10),
    ],
)
def test_working_days_between(calendar, start, end, count):
    assert calendar.working_days_between(start, end) == count


@pytest.mark.parametrize("start", [date(2025, 1, 20) + timedelta(days=i) for i in range(0, 40, 3)])
@pytest.mark.parametrize("days", [0, 1, 2, 5, 12])
def test_between_undoes_add(calendar, start, days):
    due = calendar.add_working_days(start, days).due
    assert calendar.working_days_between(start, due) == days


# ---------------------------------------------------------------- limits by unit


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        (date(2026, 9, 30), 3, "working_days", Deadline(date(2026, 10, 10), False)),
        (date(2026, 6, 1), 10, "natural_days", Deadline(date(2026, 6, 11), False)),
        (date(2026, 6, 1), 5, "natural_days", Deadline(date(2026, 6, 8), False)),  # Sat → Mon
        (date(2026, 9, 21), 10, "natural_days", Deadline(date(2026, 10, 8), False)),  # lands on 国庆节
        (date(2026, 6, 1), 0, "natural_days", Deadline(date(2026, 6, 1), False)),
        (date(2026, 12, 20), 30, "natural_days", Deadline(date(2027, 1, 19), True, WARNING_2027)),
        (date(2026, 6, 1), 0, "hours", Deadline(date(2026, 6, 1), False)),
        (date(2026, 6, 5), 4, "hours", Deadline(date(2026, 6, 8), False)),  # part day → 1 working day
        (date(2026, 6, 5), 8, "hours", Deadline(date(2026, 6, 8), False)),
        (date(2026, 6, 5), 9, "hours", Deadline(date(2026, 6, 9), False)),
        (date(2026, 9, 30), 24, "hours", Deadline(date(2026, 10, 10), False)),  # 3 working days
    ],
)
def test_deadline_for(calendar, start, value, unit, expected):
    assert calendar.deadline_for(start, value, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit"), [(5, "weeks"), (5, ""), (-1, "working_days"), (-1, "natural_days")]
)
def test_deadline_for_refuses_bad_limits(calendar, value, unit):
    with pytest.raises(ValueError):
        calendar.deadline_for(date(2026, 6, 1), value, unit)


# ---------------------------------------------------------------- urgency


@pytest.mark.parametrize(
    ("due", "today", "expected"),
    [
        (date(2026, 10, 10), date(2026, 10, 11), "overdue"),
        (date(2026, 10, 10), date(2026, 10, 10), "soon"),
        (date(2026, 10, 10), date(2026, 10, 8), "soon"),  # 2 working days left
        (date(2026, 10, 10), date(2026, 9, 30), "ok"),  # 3 working days left
        (date(2026, 10, 8), date(2026, 9, 29), "soon"),  # 9 calendar days, but only 09-30 and 10-08 work
        (date(2026, 6, 30), date(2026, 6, 1), "ok"),
        (date(2027, 1, 8), date(2027, 1, 7), "soon"),  # unknown year: still answers
    ],
)
def test_urgency(calendar, due, today, expected):
    assert urgency(due, today, calendar) == expected


# ---------------------------------------------------------------- seeding


def test_a_year_the_package_does_not_ship_is_answered_not_crashed(database):
    """chinese_calendar raises for 2027; the station's own table (as seeded at init) still answers."""
    from station.services.calendar import load_calendar

    station_calendar = load_calendar()
    assert not station_calendar.year_known(2027) and station_calendar.year_known(2026)
    assert station_calendar.is_workday(date(2027, 1, 4))  # a Monday
    assert not station_calendar.is_workday(date(2027, 1, 2))  # a Saturday
    assert station_calendar.day_name(date(2027, 1, 1)) == ""  # no data: not guessed as 元旦
    assert station_calendar.deadline_for(date(2027, 1, 4), 3, "working_days") == Deadline(
        date(2027, 1, 7), provisional=True, warning=WARNING_2027)


def test_seed_covers_shipped_years_only():
    overrides, known_years = seed_from_chinese_calendar()
    assert known_years == list(range(2004, 2027))
    assert 2027 not in known_years
    assert {o.day.year for o in overrides} <= set(known_years)


def test_seed_skips_unknown_requested_years_without_crashing():
    overrides, known_years = seed_from_chinese_calendar([2027, 2026, 1999, 2026])
    assert known_years == [2026]
    assert overrides
    assert {o.day.year for o in overrides} == {2026}
    assert seed_from_chinese_calendar([2027]) == ([], [])
    assert seed_from_chinese_calendar([]) == ([], [])


def test_seed_stores_only_days_that_differ_from_monday_to_friday():
    overrides, _ = seed_from_chinese_calendar([2026])
    by_day = {o.day: o for o in overrides}
    assert len(by_day) == len(overrides)
    for override in overrides:
        assert override.is_workday != (override.day.weekday() < 5)
        assert override.name
    assert by_day[date(2026, 10, 1)] == DayOverride(date(2026, 10, 1), is_workday=False, name="国庆节")
    assert by_day[date(2026, 10, 10)] == DayOverride(
        date(2026, 10, 10), is_workday=True, name="国庆节调休上班"
    )
    assert by_day[date(2026, 9, 20)].is_workday
    assert by_day[date(2026, 2, 16)].name == "春节"
    assert date(2026, 10, 3) not in by_day  # a Saturday holiday is already a rest day
    assert date(2026, 10, 8) not in by_day


def test_seed_agrees_with_chinese_calendar_for_every_shipped_day(calendar):
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert calendar.is_workday(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_a_deadline_is_not_soon_on_the_day_the_case_was_taken(calendar):
    taken = date(2026, 11, 23)  # a Monday; a 1-working-day item is due Tuesday
    due = calendar.add_working_days(taken, 1).due
    assert urgency(due, taken, calendar, start=taken) == "ok"
    assert urgency(due, taken + timedelta(days=1), calendar, start=taken) == "soon"  # the due day itself
    assert urgency(due, taken + timedelta(days=2), calendar, start=taken) == "overdue"
