"""The ledger as .xlsx and CSV: what a resident typed stays text, never a formula the spreadsheet runs."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl

from printouts.data import LedgerRow
from printouts.ledger_files import ledger_csv, ledger_xlsx

TYPED = '=HYPERLINK("http://example.invalid","点我")'


def _row(**kw: object) -> LedgerRow:
    base = dict(received_at=dt.datetime(2026, 11, 2, 9, 30), case_no="1410811022012026110200001",
                item_name="高龄津贴申领", applicant_name="王秀兰", applicant_id_number="", village="东关村",
                agent_name="李代办", mode="self", status_text="已收件")
    return LedgerRow(**{**base, **kw})


def test_a_typed_formula_is_kept_as_text_in_the_spreadsheet():
    ws = openpyxl.load_workbook(io.BytesIO(ledger_xlsx("台账", [_row(applicant_name=TYPED, item_name="=1+2")]))).active
    cells = {c.value: c.data_type for c in ws[2]}
    assert cells[TYPED] == "s" and cells["=1+2"] == "s"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_a_typed_formula_is_quoted_in_the_csv():
    line = ledger_csv([_row(applicant_name="=1+2")]).decode("utf-8-sig").splitlines()[1]
    assert ",'=1+2," in line


def test_a_case_number_in_the_csv_stays_text_for_excel():
    """Excel reads a bare 24-digit 办件编号 as 1.41081E+23 and keeps 15 digits of it: the CSV leads it with a
    tab (text to Excel and WPS); the row number, a date and a masked ID number stay as they are."""
    [header, line] = list(csv.reader(io.StringIO(ledger_csv([_row(applicant_id_number="110105194912310021")])
                                                 .decode("utf-8-sig"))))
    row = dict(zip(header, line, strict=True))
    assert row["办件编号"] == "\t1410811022012026110200001"
    assert row["序号"] == "1" and row["收件时间"] == "2026-11-02 09:30" and row["证件号码"] == "110105********0021"
