"""The ledger (台账) as a spreadsheet (.xlsx) and as CSV, for the township's own tallies.

The same rows as the PDF ledger and the same masking (ID numbers first 6 + last 4; a visited
resident's name, phone and address as in lists): a file that leaves the station is paper by
other means. The period's home visits (上门服务, the 帮办代办 service outside the station) follow
the cases as in the PDF: a second sheet "上门服务" in the .xlsx, and in the CSV a section after one
empty line, opened by a line "上门服务" and its own header row. The CSV starts with a UTF-8 BOM so that Chinese
Excel and WPS open it without mojibake; the .xlsx has a frozen header row, column widths that
fit, and real dates and times (a clerk can sort and filter them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from printouts.data import HomeVisitRow, LedgerRow
from rules.labels import MODES
from rules.privacy import mask_address, mask_id_number, mask_name, mask_numbers_in, mask_phone

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

Value = str | int | date | datetime | None

#: (header, width in characters, value, number format) — one table for both files.
COLUMNS: list[tuple[str, int, Callable[[int, LedgerRow], Value], str]] = [
    ("序号", 6, lambda i, r: i, "0"),
    ("收件时间", 17, lambda i, r: r.received_at, "yyyy-mm-dd hh:mm"),
    ("办件编号", 26, lambda i, r: r.case_no, "@"),
    ("事项名称", 30, lambda i, r: r.item_name, "@"),
    ("申请人", 10, lambda i, r: r.applicant_name, "@"),
    ("证件号码", 21, lambda i, r: mask_id_number(r.applicant_id_number), "@"),
    ("村(社区)", 12, lambda i, r: r.village, "@"),
    ("代办员", 9, lambda i, r: r.agent_name, "@"),
    ("方式", 6, lambda i, r: MODES.get(r.mode, r.mode), "@"),
    ("状态", 14, lambda i, r: r.status_text, "@"),
    ("法定期限", 12, lambda i, r: r.statutory_due, "yyyy-mm-dd"),
    ("承诺期限", 12, lambda i, r: r.committed_due, "yyyy-mm-dd"),
    ("暂定期限", 8, lambda i, r: "是" if r.statutory_provisional or r.committed_provisional else "", "@"),
    ("办结时间", 17, lambda i, r: r.closed_at, "yyyy-mm-dd hh:mm"),
    ("同步", 8, lambda i, r: r.sync_state, "@"),
]
#: The 上门服务 section, the same way: who went, when, where, for whom (masked), what, how it ended.
VISIT_COLUMNS: list[tuple[str, int, Callable[[int, HomeVisitRow], Value], str]] = [
    ("序号", 6, lambda i, v: i, "0"),
    ("上门日期", 12, lambda i, v: v.visited_on, "yyyy-mm-dd"),
    ("时间", 12, lambda i, v: v.time, "@"),
    ("上门人员", 16, lambda i, v: v.staff, "@"),
    ("村(社区)", 12, lambda i, v: v.village, "@"),
    ("服务对象", 10, lambda i, v: mask_name(v.resident_name), "@"),
    ("联系电话", 14, lambda i, v: mask_phone(v.resident_phone), "@"),
    ("上门地址", 24, lambda i, v: mask_address(v.address), "@"),
    ("办理事项", 30, lambda i, v: mask_numbers_in(v.purpose), "@"),
    ("结果", 14, lambda i, v: v.outcome, "@"),
    ("所收办件", 28, lambda i, v: "、".join(v.case_numbers), "@"),
]
VISITS_TITLE = "上门服务"
STATION_COLUMN: tuple[str, int, Callable[[int, LedgerRow], Value], str] = (
    "服务站", 24, lambda i, r: r.station_name, "@")


def _columns(rows: list[LedgerRow]) -> list[tuple[str, int, Callable[[int, LedgerRow], Value], str]]:
    if any(r.station_name for r in rows):  # the county's ledger: which station took the case
        return [COLUMNS[0], STATION_COLUMN, *COLUMNS[1:]]
    return COLUMNS


def _letter(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def ledger_xlsx(title: str, rows: Iterable[LedgerRow], visits: Iterable[HomeVisitRow] = ()) -> bytes:
    """One sheet named `title` (cut to Excel's 31 characters): header frozen, dates as dates; the
    period's home visits, if any, on a second sheet "上门服务" made the same way."""
    # openpyxl is imported here, not with the module: it holds ~20 MB, and a station starts (and
    # serves every page) without exporting a ledger
    from openpyxl import Workbook

    rows = list(rows)
    wb = Workbook(write_only=True)
    _sheet(wb, _sheet_name(title), _columns(rows), rows)
    visits = list(visits)
    if visits:
        _sheet(wb, VISITS_TITLE, VISIT_COLUMNS, visits)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def text_table_xlsx(title: str, header: list[str], rows: Iterable[list[str]],
                    notes: list[str] | None = None) -> bytes:
    """A sheet of text cells, header frozen; ``notes`` (what each column holds) as a second row.

    For exchange files a person opens in Excel or WPS: their CSV turns a 24-digit 办件编号 or a
    12-digit area code into 1.41081E+23 and, past 15 digits, rounds it for good; every cell here is
    a string, so codes stay whole (and ``=…`` stays text, never a formula).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_name(title))
    ws.freeze_panes = "A3" if notes else "A2"
    for n, name in enumerate(header, 1):
        ws.column_dimensions[_letter(n)].width = max(10, min(40, len(name) + 4))
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="F2F2F2")
    for line in ([header, notes] if notes else [header]):
        cells = []
        for text in line:
            cell = _text_cell(ws, text)
            cell.font, cell.fill = bold, fill
            cells.append(cell)
        ws.append(cells)
    count = 0
    for row in rows:
        ws.append([_text_cell(ws, "" if value is None else str(value)) for value in row])
        count += 1
    ws.auto_filter.ref = f"A1:{_letter(len(header))}{count + 1 + bool(notes)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(wb: Workbook, title: str, columns: list, rows: list) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(title=title)
    ws.freeze_panes = "A2"
    for n, (_h, width, _v, _f) in enumerate(columns, 1):
        ws.column_dimensions[_letter(n)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="F2F2F2")
    header = []
    for name, *_rest in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    getters = [value for _h, _w, value, _f in columns]
    formats = {n: fmt for n, (*_rest, fmt) in enumerate(columns) if fmt not in ("@", "0")}
    for i, r in enumerate(rows, 1):
        line: list[object] = [get(i, r) for get in getters]
        for n, fmt in formats.items():  # only dates and times need a cell object (its number format)
            if line[n] is not None:
                cell = WriteOnlyCell(ws, value=line[n])
                cell.number_format = fmt
                line[n] = cell
        for n, value in enumerate(line):
            if isinstance(value, str) and value.startswith("="):
                line[n] = _text_cell(ws, value)
        ws.append(line)
    ws.auto_filter.ref = f"A1:{_letter(len(columns))}{len(rows) + 1}"


def _text_cell(ws: object, text: str) -> WriteOnlyCell:
    """A cell holding ``text`` as typed: openpyxl stores a string starting with "=" as a formula, so a
    resident named ``=HYPERLINK(…)`` would be a live link in the county's spreadsheet."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


_BAD_SHEET_CHARS = str.maketrans({c: "-" for c in "[]:*?/\\"})


def _sheet_name(title: str) -> str:
    return (title.translate(_BAD_SHEET_CHARS) or "台账")[:31]


def csv_cell(value: Value) -> str:
    """A value as CSV text; one starting with = + - @ (or a tab or carriage return, which a spreadsheet may
    drop before reading what follows as a formula) quoted with ' so Excel and WPS show it, never run it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):  # a cell Excel would run as a formula (CSV injection)
        return "'" + text
    return text


#: Excel and WPS read a bare run of this many digits as a number: shown as 1.41081E+23 and, past 15
#: digits, stored rounded — a 24-digit 办件编号 came back with its last digits turned to zeros.
_LONG_DIGITS = 12


def _spreadsheet_text(text: str) -> str:
    """A cell of the ledger CSV as a spreadsheet should keep it: a long run of digits (a case number, a
    village's area code) led by a tab, which Excel and WPS read as text and show without it."""
    return "\t" + text if len(text) >= _LONG_DIGITS and text.isascii() and text.isdigit() else text


def ledger_csv(rows: Iterable[LedgerRow], visits: Iterable[HomeVisitRow] = ()) -> bytes:
    """CSV with a UTF-8 BOM and CRLF line ends: what Excel and WPS open as Chinese text, with a case
    number kept whole (:func:`_spreadsheet_text`).

    The period's home visits, if any, follow after an empty line: "上门服务", their header, their rows.
    """
    rows = list(rows)
    columns = _columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, *_rest in columns])
    for i, r in enumerate(rows, 1):
        writer.writerow([_spreadsheet_text(csv_cell(value(i, r))) for _h, _w, value, _f in columns])
    visits = list(visits)
    if visits:
        writer.writerow([])
        writer.writerow([VISITS_TITLE])
        writer.writerow([name for name, *_rest in VISIT_COLUMNS])
        for i, v in enumerate(visits, 1):
            writer.writerow([_spreadsheet_text(csv_cell(value(i, v))) for _h, _w, value, _f in VISIT_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


__all__ = ["COLUMNS", "VISIT_COLUMNS", "ledger_csv", "ledger_xlsx"]
