"""The county publishes a year's holidays to every station (DOMAIN.md "Working days").

chinese_calendar knows a year only once a new release ships it (1.11.0 stops at 2026), and the State
Council announces the next year's 放假安排 in November or December. The county types that one
notice in once — a CSV of the days that differ from Monday–Friday — and every station receives it
on its next sync: its 暂定 deadlines are counted again and become firm. A station without a link keeps
its 暂定 marks until the change reaches it (by network or a return bundle). The county's own 考核时限 of
the open cases is counted again in the publication's transaction (:func:`recount_assessed`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rules.workdays import WorkCalendar, read_holiday_table
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import HolidayTable, HubCase, utcnow
from sync.hub.services import changes, tally, workdays
from sync.hub.services.errors import ValidationError

_KINDS = {"放假": False, "休息": False, "上班": True, "调休上班": True}


def decode_csv(raw: bytes, filename: str) -> str:
    """The uploaded or named file's text, or a Chinese refusal.

    Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK: the command line showed a
    UnicodeDecodeError traceback and the page would have shown mojibake. One reading for both.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{filename} 不是 UTF-8 编码的文本文件（Excel 默认存成 GBK）。请在 Excel 中“另存为”，"
                              "保存类型选“CSV UTF-8(逗号分隔)”，再用新文件发布。") from None


def parse_csv(text: str) -> tuple[int, list[dict[str, Any]]]:
    """Read the county's CSV (columns: day, kind 放假/上班, name) into one year's rows; all or nothing.

    A day listed both 放假 and 上班 is named as such: "出现了两次" alone left the clerk guessing which.
    """
    if not text.lstrip("\ufeff").strip():
        raise ValidationError("节假日文件是空的。")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"day", "kind", "name"} <= set(reader.fieldnames):
        raise ValidationError("节假日文件须有 day, kind, name 三列（日期，放假或上班，名称）。")
    rows = []
    for n, line in enumerate(reader, start=2):
        kind = (line.get("kind") or "").strip()
        if kind not in _KINDS:
            raise ValidationError(f"第 {n} 行：kind 须为“放假”或“上班”，而不是“{kind}”。")
        rows.append({"day": (line.get("day") or "").strip(), "is_workday": _KINDS[kind],
                     "name": (line.get("name") or "").strip()})
    kinds: dict[str, set[bool]] = {}
    for row in rows:
        kinds.setdefault(row["day"], set()).add(row["is_workday"])
    both = sorted(day for day, seen in kinds.items() if len(seen) > 1)
    if both:
        raise ValidationError(f"{both[0]} 既写成“放假”又写成“上班”，一天只能是其中一种。")
    years = {row["day"][:4] for row in rows}
    if len(years) != 1 or not next(iter(years)).isdigit():
        raise ValidationError("一个节假日文件只能是同一年的日期。" if rows else "节假日文件没有任何日期。")
    return int(next(iter(years))), rows


@dataclass
class Preview:
    """What publishing a year would change against the table in force, for the county to confirm first."""

    year: int
    current_version: str  # "" when the year was never published
    rows: list[dict[str, Any]]  # the checked days, as they would be sent
    shipped: bool = False  # never published, compared with the days chinese_calendar ships for the year
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (in force, new)

    @property
    def unchanged(self) -> bool:
        """True when publishing would send the stations the same days again."""
        return not (self.added or self.removed or self.changed)


def check(year: int, days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The year's days checked by the stations' own rule (rules.workdays), as they are stored and sent."""
    try:
        checked = read_holiday_table(year, days)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    return [{"day": o.day.isoformat(), "is_workday": o.is_workday, "name": o.name} for o in checked]


def preview(year: int, days: list[dict[str, Any]]) -> Preview:
    """Days added, removed or changed (放假 ↔ 上班, or renamed) against the year's table in force; nothing stored.

    A year the county never published is in force as chinese_calendar ships it (if it knows the year).
    """
    rows = check(year, days)
    earlier = HolidayTable.get_or_none(HolidayTable.year == year)
    shipped = workdays.shipped_days(year) if earlier is None else None
    old = {row["day"]: row for row in (earlier.days if earlier is not None else shipped or [])}
    new = {row["day"]: row for row in rows}
    return Preview(
        year=year, current_version=earlier.version if earlier is not None else "", rows=rows,
        shipped=shipped is not None,
        added=[new[d] for d in sorted(new.keys() - old.keys())],
        removed=[old[d] for d in sorted(old.keys() - new.keys())],
        changed=[(old[d], new[d]) for d in sorted(new.keys() & old.keys())
                 if (old[d]["is_workday"], old[d]["name"]) != (new[d]["is_workday"], new[d]["name"])])


def in_force() -> list[HolidayTable]:
    """Every published year, newest first."""
    return list(HolidayTable.select().order_by(HolidayTable.year.desc()))


def publish(year: int, days: list[dict[str, Any]], by: str) -> HolidayTable:
    """Store the year's table (replacing an earlier one) and send it to every station, in one transaction."""
    rows = check(year, days)
    try:
        with db.atomic():
            before = workdays.calendar()  # the one the open cases' 考核时限 were counted with
            table = _store(year, rows, by)
            workdays.forget()  # read again in this transaction: the year just stored with the rest
            recount_assessed(year, before, workdays.calendar())
    finally:
        workdays.forget()  # this worker counts with it at once (without it, rolled back); others within RECHECK_SECONDS
    return table


def _store(year: int, rows: list[dict[str, Any]], by: str) -> HolidayTable:
    """The year's table stored and sent to every station (a ``calendar.holidays`` change)."""
    earlier = HolidayTable.get_or_none(HolidayTable.year == year)
    number = int(earlier.version.rsplit(".", 1)[1]) + 1 if earlier is not None else 1
    version = f"{year}.{number}"
    HolidayTable.insert(year=year, version=version, days=rows, published_by=by[:100]).on_conflict(
        conflict_target=[HolidayTable.year],
        update={HolidayTable.version: version, HolidayTable.days: rows, HolidayTable.published_by: by[:100],
                HolidayTable.published_at: utcnow()},
    ).execute()
    changes.emit(protocol.CHANGE_HOLIDAYS, {"year": year, "version": version, "days": rows})
    return HolidayTable.get_by_id(year)


def recount_assessed(year: int, before: WorkCalendar, after: WorkCalendar) -> int:
    """Count the open cases' 考核时限 again with the year's new table; return how many moved.

    The county counts the 考核时限 itself (at ingest, county_settings.assessed_due), so no station
    recount reaches it: a case taken in December kept 元旦 counted as a working day on its 四条线,
    the 预警 and the roll-up until it closed. Each case keeps the working days it was given — its
    item's limit and the days its 补正 rounds added (resumed_dues), read back with the calendar they
    were counted with — now counted with ``after``. Only dates whose count runs into ``year``; a
    closed case keeps the date it was judged by (its page marks it （暂定）). The roll-up moves in
    this transaction, as every change of a counted column does (tally.current, locked; tally.write).
    """
    first, last = dt.date(year, 1, 1), dt.datetime(year + 1, 1, 1)
    counted = (HubCase.status.in_(tally.OPEN) & HubCase.assessed_due.is_null(False) & (HubCase.assessed_due >= first)
               & HubCase.received_time.is_null(False) & (HubCase.received_time < last))
    ids = [case_id for (case_id,) in HubCase.select(HubCase.id).where(counted).tuples()]
    today = workdays.china_today()
    HubCase.update(assessed_counted_on=today).where(counted).execute()  # each counted with the year's table now
    deltas: Counter = Counter()
    moved = 0
    for row in tally.current(ids).values():
        received, due = _as_date(row.received_time), _as_date(row.assessed_due)
        if received is None or due is None or due <= received:
            continue
        again = after.add_working_days(received, before.working_days_between(received, due)).due
        if again != due:
            HubCase.update(assessed_due=again).where(HubCase.id == row.id).execute()
            tally.difference(row.station_id, tally.figures(row), tally.figures(row, assessed_due=again), deltas)
            moved += 1
    tally.write(deltas)
    return moved


def _as_date(value: Any) -> dt.date | None:
    """A date or datetime column as the database gives it (SQLite: text) as a date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
