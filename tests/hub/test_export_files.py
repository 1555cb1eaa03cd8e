"""The provincial exports as Excel: what a county clerk opens to check before the file goes up."""

from __future__ import annotations

import io
import json

import openpyxl

from tests.fixtures.hub import case_snapshot, logged_in

NOVEMBER = "period=range&start=2026-11-01&end=2026-11-30"
LONG_NO = "141081202611200001000123"  # 24 digits: a CSV opened in Excel shows 1.41081E+23 and rounds it


def test_the_excel_export_keeps_long_codes_whole_and_formulas_as_text(hub_app, station_a, make_event) -> None:
    sent = [make_event(payload=case_snapshot(case_no=LONG_NO, received_area="141081100201")),
            make_event(payload=case_snapshot(case_no="C-2", applicant={
                "name": "=HYPERLINK(\"http://x.example/\",\"点我\")", "cert_type": "111",
                "id_number": "110105194912310021", "phone": "13800001234", "address": "示范村",
                "area_code": "140000001001"}))]
    assert {r["status"] for r in station_a.results(sent)} == {"accepted"}
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    answer = clerk.get(f"/numbers/export/cases.xlsx?{NOVEMBER}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "cases-" in answer.headers["Content-Disposition"] and ".xlsx" in answer.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    header, notes, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[:2] == ["PROJID", "SBLSH"] and notes[1] == "申办流水号（服务站编号）"
    by_no = {r[header.index("SBLSH")]: r for r in rows}
    long_row = by_no[LONG_NO]
    assert long_row[header.index("APPLYAREACODE")] == "141081100201"  # text, not 141081100201.0
    cells = {c.value: c for row in sheet.iter_rows(min_row=3) for c in row}
    assert cells[LONG_NO].data_type == "s"  # a string cell: Excel shows it as typed
    name_cell = cells["=HYPERLINK(\"http://x.example/\",\"点我\")"]
    assert name_cell.data_type == "s"  # text, never a live formula
    assert "110105194912310021" not in {c.value for row in sheet.iter_rows() for c in row}  # masked as on paper


def test_the_ratings_export_comes_as_excel_too(hub_app, station_a, make_event) -> None:
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    answer = clerk.get(f"/numbers/export/evaluations.xlsx?{NOVEMBER}")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    header = [c.value for c in next(sheet.iter_rows())]
    assert header[0] == "ASSESSNUMBER" and "ALTERNATE" in header
    page = clerk.get(f"/numbers/statistics?{NOVEMBER}").get_data(as_text=True)
    exports = page.split('id="exports"', 1)[1].split("</section>", 1)[0]
    assert "/numbers/export/cases.xlsx" in exports and "/numbers/export/evaluations.xlsx" in exports


def test_a_home_visit_case_is_no_counter_case_and_an_enterprise_keeps_its_credit_code(hub_app, station_a,
                                                                                       make_event) -> None:
    """A.5 申报来源: a case taken at her home is 9 其他, not 1 窗口; an enterprise's 统一社会信用代码 is no
    personal number — masked, the province could not tell which enterprise applied."""
    from rules import events
    from sync import protocol

    uscc = "91140000MA0L1234X5"
    counter = make_event(payload=case_snapshot(case_no="V-COUNTER"))
    at_home = make_event(payload=case_snapshot(case_no="V-HOME"))
    firm = make_event(payload=case_snapshot(case_no="V-FIRM", applicant={
        "kind": "enterprise", "name": "示范县富民农业专业合作社", "cert_type": "uscc", "id_number": uscc,
        "phone": "13800001234", "address": "示范村", "area_code": "140000001001"}))
    visit = {"event_id": protocol.new_id(), "case_id": protocol.new_id(), "seq": 1, "kind": events.VISIT_RECORDED,
             "occurred_at": "2026-11-20T10:40:00+08:00", "catalog_version": "2026.11-demo", "deadline": None,
             "payload": {"visited_on": "2026-11-20", "started_at": "09:30", "ended_at": "10:40", "staff": "王代办",
                         "resident": {"name": "孙福贵", "phone": "13700002222", "address": "示范村五组3号"},
                         "purpose": "代办高龄津贴申领", "outcome": "done"}}
    taken = {**visit, "event_id": protocol.new_id(), "seq": 2, "kind": events.VISIT_CASE_TAKEN,
             "payload": {"case_id": at_home["case_id"], "case_no": "V-HOME"}}
    assert {r["status"] for r in station_a.results([counter, at_home, firm, visit, taken])} == {"accepted"}
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    records = {r["SBLSH"]: r for r in json.loads(
        clerk.get(f"/numbers/export/cases.json?{NOVEMBER}").data)["records"]}
    assert (records["V-COUNTER"]["APPLYFROM"], records["V-HOME"]["APPLYFROM"]) == ("1", "9")
    assert records["V-FIRM"]["APPLYERTYPE"] == "2" and records["V-FIRM"]["APPLYERPAGECODE"] == uscc
    assert records["V-FIRM"]["APPLYERPAGETYPE"] == "990"  # not "uscc", which is no code value
    person = records["V-COUNTER"]
    assert person["APPLYERPAGETYPE"] == "111" and person["APPLYERPAGECODE"] != "110105194912310021"  # still masked
