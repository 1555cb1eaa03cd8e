"""The ledger for any period as PDF, Excel and CSV: what a township clerk downloads and opens."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from station.extensions import db
from station.models import AccessLog
from tests.fixtures.month import MonthCopy
from tests.fixtures.pdf import flat, pdfinfo, pdftotext
from tests.fixtures.station import StationClient

TODAY = dt.date.today()
START, END = TODAY - dt.timedelta(days=40), TODAY
RANGE = f"period=range&start={START.isoformat()}&end={END.isoformat()}"
FULL_ID = re.compile(r"\b\d{17}[\dX]\b")
AREA_CODE = re.compile(r"\b\d{12}\b")


def _clerk(month: MonthCopy) -> StationClient:
    return StationClient(month.station.test_client()).login("clerk")


def _cases(month: MonthCopy) -> list[tuple]:
    """The case rows counted straight from the file, not through the app."""
    path = Path(month.station.config["DATABASE"])
    with sqlite3.connect(path) as conn:
        return conn.execute('SELECT case_no, received_at, applicant_area_code FROM "case" '
                            "WHERE received_at >= ? AND received_at < ? ORDER BY received_at, id",
                            (START.isoformat(), (END + dt.timedelta(days=1)).isoformat())).fetchall()


def _ledger_log(month: MonthCopy) -> list[AccessLog]:
    with month.station.app_context(), db.connection_context():
        return list(AccessLog.select().where(AccessLog.action == "ledger").order_by(AccessLog.seq))


def test_the_excel_ledger_opens_with_a_frozen_header_real_dates_and_masked_numbers(month: MonthCopy) -> None:
    response = _clerk(month).get(f"/reports/ledger.xlsx?{RANGE}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["序号", "收件时间", "办件编号"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    expected = _cases(month)
    assert len(expected) >= 100
    assert [r[2] for r in rows] == [c[0] for c in expected]
    assert all(isinstance(r[1], dt.datetime) for r in rows)
    due = header.index("承诺期限")
    assert any(isinstance(r[due], dt.datetime) for r in rows)  # a date cell, not text
    assert ws.column_dimensions["D"].width >= 20  # 事项名称 is readable without dragging
    text = " ".join(str(v) for r in rows for v in r if v is not None)
    assert not FULL_ID.search(text)
    village = header.index("村(社区)")
    assert {r[village] for r in rows} <= {"东关村", "西关村", "南街村", "北庄村", "柳树湾村", "杏花村"}


def test_the_csv_ledger_has_a_bom_and_reads_back_as_chinese(month: MonthCopy) -> None:
    response = _clerk(month).get(f"/reports/ledger.csv?{RANGE}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "序号" and rows[0][6] == "村(社区)"
    assert [r[2] for r in rows[1:]] == ["\t" + c[0] for c in _cases(month)]  # led by a tab: text to Excel
    assert not FULL_ID.search(response.data.decode("utf-8-sig"))
    assert not any(AREA_CODE.fullmatch(r[6]) for r in rows[1:])


def test_the_month_pdf_ledger_names_villages_and_repeats_its_header(month: MonthCopy) -> None:
    response = _clerk(month).get(f"/reports/ledger.pdf?{RANGE}")
    assert response.status_code == 200
    pages = int(pdfinfo(response.data)["Pages"])
    assert pages >= 3
    for page in (1, pages):
        assert "办件编号" in flat(pdftotext(response.data, page, page))
    text = pdftotext(response.data)
    assert "东关村" in text and not AREA_CODE.search(text.replace("-", ""))
    assert not FULL_ID.search(text)
    assert f"{START.year}年{START.month}月{START.day}日至" in flat(text)


def test_every_export_is_recorded_with_who_and_what(month: MonthCopy) -> None:
    clerk = _clerk(month)
    before = len(_ledger_log(month))
    clerk.get(f"/reports/ledger.xlsx?{RANGE}")
    clerk.get(f"/reports/ledger.csv?period=month&day={TODAY.isoformat()}")
    entries = _ledger_log(month)[before:]
    assert [e.role for e in entries] == ["clerk", "clerk"] and all(e.actor_id for e in entries)
    assert "Excel" in entries[0].detail and "CSV" in entries[1].detail
    assert f"{TODAY.year}年{TODAY.month}月" in entries[1].detail
    assert all(e.at for e in entries)


@pytest.mark.parametrize(("query", "message"), [
    ("period=range&start=2026-11-30&end=2026-11-01", "结束日期不能早于开始日期"),
    ("period=range&start=2020-01-01&end=2026-11-01", "最长 366 天"),
    ("period=day&day=2026-13-45", "日期格式有误"),
    ("period=year", "请选择统计周期"),
])
def test_a_bad_period_is_refused_in_chinese_and_nothing_is_exported(month: MonthCopy, query: str,
                                                                     message: str) -> None:
    clerk = _clerk(month)
    before = len(_ledger_log(month))
    response = clerk.get(f"/reports/ledger.xlsx?{query}", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert len(_ledger_log(month)) == before


def test_agents_cannot_export_the_ledger(month: MonthCopy) -> None:
    agent = StationClient(month.station.test_client()).login("agent")
    assert agent.get(f"/reports/ledger.csv?{RANGE}").status_code == 403
    assert agent.get("/reports/").status_code == 403


def test_a_pdf_ledger_past_its_limit_is_refused_in_chinese_and_nothing_is_exported(month: MonthCopy,
                                                                                   monkeypatch) -> None:
    """A PDF of a long period's cases held the request for minutes (about 4 ms a row) and then ran out of
    memory; past the limit the clerk is told why and what to take instead, and Excel still comes."""
    from printouts import sheets

    clerk, taken = _clerk(month), len(_cases(month))
    before = len(_ledger_log(month))
    monkeypatch.setattr(sheets, "LEDGER_PDF_MOST_ROWS", taken - 1)
    refused = clerk.get(f"/reports/ledger.pdf?{RANGE}", follow_redirects=True).get_data(as_text=True)
    assert f"共 {taken} 件，超过 PDF 台账上限 {taken - 1} 件" in refused and "导出 Excel、CSV" in refused
    assert len(_ledger_log(month)) == before
    assert clerk.get(f"/reports/ledger.xlsx?{RANGE}").status_code == 200
    monkeypatch.setattr(sheets, "LEDGER_PDF_MOST_ROWS", taken)
    assert clerk.get(f"/reports/ledger.pdf?{RANGE}").data.startswith(b"%PDF")
