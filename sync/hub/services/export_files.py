"""The provincial exchange files (办件, 好差评) as JSON, CSV or Excel: one writer for every export.

JSON and CSV are what a provincial platform imports; Excel is for a person who opens the file:
Excel and WPS read a CSV's 24-digit 办件编号 or 12-digit 区划代码 as a number and keep it rounded
(1.41081E+23), so the county's staff checking an export before it goes up saw broken codes. In the
.xlsx every cell is text (printouts.ledger_files.text_table_xlsx).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from printouts.ledger_files import csv_cell, text_table_xlsx
from rules.periods import Period
from sync.hub.models import HubUser, Station
from sync.hub.services import access_log
from sync.hub.services.errors import ValidationError

#: fmt → MIME type
FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Fields = list[tuple[str, str, Callable[[Any], str]]]


def check_format(fmt: str, what: str) -> None:
    """Refuse a format no file is made in, before anything is read."""
    if fmt not in FORMATS:
        raise ValidationError(f"{what}导出格式只能是 JSON、CSV 或 Excel。")


def records_file(fields: Fields, records: list[dict[str, str]], fmt: str, period: Period,
                 title: str) -> tuple[bytes, str]:
    """(data, MIME type) of ``records`` (one dict per record, keyed by field name) in ``fmt``."""
    names = [name for name, _meaning, _value in fields]
    if fmt == "json":
        body = {"standard": "GB/T 39046-2020", "period": [period.start.isoformat(), period.end.isoformat()],
                "fields": {name: meaning for name, meaning, _v in fields}, "count": len(records),
                "records": records}
        return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"), FORMATS[fmt]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({name: csv_cell(text) for name, text in record.items()} for record in records)
        return out.getvalue().encode("utf-8-sig"), FORMATS[fmt]
    return text_table_xlsx(f"{title} {period.slug}", names, ([r[name] for name in names] for r in records),
                           notes=[meaning for _n, meaning, _v in fields]), FORMATS[fmt]


@dataclass(frozen=True)
class ExportKind:
    """What one export hands over, and how the access log and a refusal name it."""

    fields: Fields
    title: str  # 办件, 好差评: the sheet's and the log's word
    refused_as: str  # the words a bad format's refusal starts with
    unit: str  # 件, 条
    action: str  # the access log's action
    stem: str  # the file name's start


def records(fields: Fields, rows: list[Any]) -> list[dict[str, str]]:
    """One dict per row, keyed by field name, in the fields' order."""
    return [{name: value(r) for name, _meaning, value in fields} for r in rows]


def export_period(kind: ExportKind, rows_of: Callable[[], list[Any]], period: Period, fmt: str,
                  user: HubUser, address: str | None, station: Station | None) -> tuple[bytes, str, str]:
    """(data, filename, MIME type) of the period's rows (``rows_of``, read once the format is known
    good); every export is in the access log, with its scope and count."""
    check_format(fmt, kind.refused_as)
    found = records(kind.fields, rows_of())
    data, mimetype = records_file(kind.fields, found, fmt, period, kind.title)
    scope = station.name if station is not None else "全县"
    access_log.record(user, kind.action, address=address, obj=period.slug,
                      detail=f"导出{scope}{period.label}{kind.title}（省级平台 {fmt.upper()}，{len(found)} {kind.unit}）")
    return data, f"{kind.stem}-{period.slug}.{fmt}", mimetype
