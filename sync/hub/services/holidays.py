"""The county publishes a year's holidays to every station (DOMAIN.md "Working days").

chinese_calendar knows a year only once a new release ships it (1.11.0 stops at 2026), and the State
Council announces the next year's 放假安排 in November or December. The county types that one
notice in once — a CSV of the days that differ from Monday–Friday — and every station receives it
on its next sync: its 暂定 deadlines are counted again and become firm. A station without a link keeps
its 暂定 marks until the change reaches it (by network or a return bundle).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rules.workdays import read_holiday_table
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import HolidayTable, utcnow
from sync.hub.services import changes, workdays
from sync.hub.services.errors import ValidationError

_KINDS = {"放假": False, "休息": False, "上班": True, "调休上班": True}


def parse_csv(text: str) -> tuple[int, list[dict[str, Any]]]:
    """Read the county's CSV (columns: day, kind 放假/上班, name) into one year's rows; all or nothing."""
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
    years = {row["day"][:4] for row in rows}
    if len(years) != 1 or not next(iter(years)).isdigit():
        raise ValidationError("一个节假日文件只能是同一年的日期。" if rows else "节假日文件没有任何日期。")
    return int(next(iter(years))), rows


def publish(year: int, days: list[dict[str, Any]], by: str) -> HolidayTable:
    """Store the year's table (replacing an earlier one) and send it to every station, in one transaction."""
    try:
        checked = read_holiday_table(year, days)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    rows = [{"day": o.day.isoformat(), "is_workday": o.is_workday, "name": o.name} for o in checked]
    with db.atomic():
        earlier = HolidayTable.get_or_none(HolidayTable.year == year)
        number = int(earlier.version.rsplit(".", 1)[1]) + 1 if earlier is not None else 1
        version = f"{year}.{number}"
        HolidayTable.insert(year=year, version=version, days=rows, published_by=by[:100]).on_conflict(
            conflict_target=[HolidayTable.year],
            update={HolidayTable.version: version, HolidayTable.days: rows, HolidayTable.published_by: by[:100],
                    HolidayTable.published_at: utcnow()},
        ).execute()
        changes.emit(protocol.CHANGE_HOLIDAYS, {"year": year, "version": version, "days": rows})
    workdays.forget()  # this worker counts with it at once; the others within RECHECK_SECONDS
    return HolidayTable.get_by_id(year)
