"""The county's numbers on a month played through the real services: each figure against a count
made here over the raw rows, the files a clerk downloads, the settings sent to every station."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from rules.periods import Period
from sync.hub.china_time import CHINA_TZ
from sync.hub.extensions import db
from sync.hub.models import Change, HubAccessLog, Setting
from sync.hub.services import statistics, warnings
from tests.fixtures.hub import case_snapshot, logged_in
from tests.fixtures.month import MonthCopy

TODAY = dt.datetime.now(CHINA_TZ).date()
PERIOD = Period("range", TODAY - dt.timedelta(days=40), TODAY)
RANGE = f"period=range&start={PERIOD.start.isoformat()}&end={PERIOD.end.isoformat()}"
OPEN = {"submitted", "accepted", "supplement"}
CLOSED = {"completed", "rejected", "delivered"}
STATUS = {"submitted": "待受理", "accepted": "已受理", "supplement": "待补正", "rejected": "不予受理",
          "completed": "已办结", "delivered": "已送达", "not_collected": "未收件（仅备案）"}
def _running(c: dict) -> bool:
    """Open with its clocks running: a case waiting for its 补正 materials is paused, never overdue."""
    return c["status"] in OPEN and not (c["status"] == "supplement" and not c["supplied_at"])


FULL_ID = re.compile(r"\b\d{17}[\dX]\b")


def _raw(month: MonthCopy) -> tuple[list[dict], dict]:
    path = Path(month.hub.instance_path) / "hub.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        cases = [dict(r) for r in conn.execute(
            "SELECT c.*, s.name AS station_name, s.code AS station_code FROM hub_case c "
            "JOIN hub_station s ON s.id = c.station_id")]
        settings = {r["key"]: json.loads(r["value"]) for r in conn.execute("SELECT key, value FROM hub_setting")}
    start, stop = PERIOD.start.isoformat(), (PERIOD.end + dt.timedelta(days=1)).isoformat()
    return [c for c in cases if c["received_time"] and start <= c["received_time"] < stop], settings


def _compute(month: MonthCopy) -> statistics.Statistics:
    with month.hub.app_context(), db.connection_context():
        return statistics.compute(PERIOD, TODAY)


def test_county_counts_match_the_rows(month: MonthCopy) -> None:
    stats = _compute(month)
    cases, settings = _raw(month)
    names = settings["area_names"]

    def decision(c: dict) -> str:
        if c["station_decision"] == "not_collected":
            return "一次性告知"
        if c["station_decision"] == "deferred":
            return "容缺"
        return "承诺" if c["commitment"] else "收件"

    assert stats.total == len(cases) >= 100
    expected = {
        "station": Counter(c["station_name"] for c in cases),
        "item": Counter(c["item_name"] for c in cases),
        "village": Counter(names.get(c["area_code"], c["area_code"]) for c in cases),
        "agent": Counter(f"{c['agent_name']}（{c['station_name']}）" for c in cases),
        "status": Counter(STATUS[c["status"]] for c in cases),
        "mode": Counter({"assisted": "帮办", "proxy": "代办"}[c["mode"]] for c in cases),
        "decision": Counter(decision(c) for c in cases),
    }
    for key, counted in expected.items():
        assert dict(stats.table(key).rows) == dict(counted), key
    assert set(expected["decision"]) == {"一次性告知", "容缺", "承诺", "收件"}
    assert "东关村" in expected["village"]


def test_county_on_time_rates_trend_and_ranking_match_the_rows(month: MonthCopy) -> None:
    stats = _compute(month)
    cases, _settings = _raw(month)
    tallies = {line: Counter() for line in ("statutory", "committed", "assessed")}
    for c in cases:
        for line in tallies:
            due = c[f"{line}_due"]
            if not due:
                continue
            if c["status"] in CLOSED and c["closed_at"]:
                tallies[line]["on_time" if c["closed_at"][:10] <= due else "late"] += 1
            elif _running(c) and due < TODAY.isoformat():
                tallies[line]["overdue"] += 1
    for figure in stats.on_time:
        t = tallies[figure.line]
        assert (figure.on_time, figure.late, figure.open_overdue) == (t["on_time"], t["late"], t["overdue"]), figure
    assert all(t["on_time"] and t["late"] for t in tallies.values())
    with sqlite3.connect(Path(month.hub.instance_path) / "hub.sqlite3") as conn:
        everything = conn.execute("SELECT received_time, closed_at, status FROM hub_case").fetchall()
    received = Counter(r[0][:10] for r in everything if r[0])
    closed = Counter(r[1][:10] for r in everything if r[1] and r[2] in CLOSED)
    assert [(d, a, b) for d, a, b in stats.trend] == [(d, received[d.isoformat()], closed[d.isoformat()])
                                                      for d, _a, _b in stats.trend]
    [(name, n, overdue, rate)] = stats.ranking
    committed = tallies["committed"]
    assert (n, overdue) == (len(cases), committed["overdue"])
    assert rate == committed["on_time"] / (committed["on_time"] + committed["late"])


def test_the_county_statistics_page_draws_charts_with_tables(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    page = clerk.get(f"/numbers/statistics?{RANGE}").get_data(as_text=True)
    for key in ("trend", "station", "item", "village", "agent", "status", "mode", "decision"):
        box = page.split(f'id="chart-{key}"', 1)[1].split("</div>", 1)[0]
        assert "<svg" in box and f'id="table-{key}"' in box, key
    assert 'id="table-ranking"' in page
    bad = clerk.get("/numbers/statistics?period=range&start=2026-12-01&end=2026-11-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in bad


def test_county_ledger_files_and_their_log(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    xlsx = clerk.get(f"/numbers/ledger.xlsx?{RANGE}")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert ws.freeze_panes == "A2" and ws["B1"].value == "服务站"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert sorted(r[3] for r in rows) == sorted(c["case_no"] for c in cases)
    assert all(isinstance(r[2], dt.datetime) for r in rows)
    sheet = clerk.get(f"/numbers/ledger.csv?{RANGE}")
    assert sheet.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    text = sheet.data
    assert text.startswith(b"\xef\xbb\xbf")
    body = text.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(body)))) == len(cases) + 1
    assert not FULL_ID.search(body) and "东关村" in body
    pdf = clerk.get(f"/numbers/ledger.pdf?{RANGE}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with month.hub.app_context(), db.connection_context():
        logged = [e for e in HubAccessLog.select().where(HubAccessLog.action == "ledger")]
    assert len(logged) == 3 and all(e.actor_name == "县审批员" for e in logged)
    assert "Excel" in logged[0].detail and "CSV" in logged[1].detail


def test_a_pdf_ledger_past_its_limit_is_refused_before_a_case_is_read(month: MonthCopy, monkeypatch) -> None:
    """A county's PDF ledger of a long period held a worker for hours; past the limit the clerk reads why
    and what to take instead, nothing is logged as exported, and the Excel file still comes."""
    from printouts import sheets

    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    taken = len(_raw(month)[0])
    monkeypatch.setattr(sheets, "LEDGER_PDF_MOST_ROWS", taken - 1)
    refused = clerk.get(f"/numbers/ledger.pdf?{RANGE}", follow_redirects=True).get_data(as_text=True)
    assert f"共 {taken} 件，超过 PDF 台账上限 {taken - 1} 件" in refused and "选择单个服务站" in refused
    with month.hub.app_context(), db.connection_context():
        assert not HubAccessLog.select().where(HubAccessLog.action == "ledger").exists()
    assert clerk.get(f"/numbers/ledger.xlsx?{RANGE}").status_code == 200
    monkeypatch.setattr(sheets, "LEDGER_PDF_MOST_ROWS", taken)
    assert clerk.get(f"/numbers/ledger.pdf?{RANGE}").data.startswith(b"%PDF")


def test_the_provincial_export_uses_the_standard_names_and_codes(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    cases = [c for c in cases if c["status"] != "not_collected"]  # 一次性告知: no 办件 (test_provincial_export.py)
    data = json.loads(clerk.get(f"/numbers/export/cases.json?{RANGE}").data)
    assert data["standard"] == "GB/T 39046-2020" and data["count"] == len(cases)
    records = data["records"]
    assert {r["SBLSH"] for r in records} == {c["case_no"] for c in cases}
    assert {r["INFOTYPE"] for r in records} <= {"1", "2"} and {r["APPLYERTYPE"] for r in records} == {"1"}
    assert all(re.fullmatch(r"\d{8}T\d{6}", r["RECEIVETIME"]) for r in records)
    by_no = {c["case_no"]: c for c in cases}
    for r in records:
        c = by_no[r["SBLSH"]]
        assert r["HANDLESTATE"] == {"submitted": "1", "supplement": "1", "accepted": "2"}.get(
            c["status"], "3")
        assert (r["TRANSACTTIME"] != "") == (c["status"] in CLOSED)
    assert not FULL_ID.search(json.dumps(records))
    exported = clerk.get(f"/numbers/export/cases.csv?{RANGE}")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [r["PROJPWD"] for r in rows] == [r["PROJPWD"] for r in records]
    refused = clerk.get(f"/numbers/export/cases.xml?{RANGE}", follow_redirects=True).get_data(as_text=True)
    assert "只能是 JSON、CSV 或 Excel" in refused


def test_county_warnings_and_dashboard_show_the_overdue_cases(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    overdue = [c for c in cases if _running(c) and c["committed_due"] and c["committed_due"] < TODAY.isoformat()]
    assert overdue
    page = clerk.get("/numbers/warnings?line=committed&days=0").get_data(as_text=True)
    assert all(c["case_no"] in page for c in overdue)
    assert not any(c["case_no"] in page for c in cases if c["status"] in CLOSED)
    dash = clerk.get("/numbers/").get_data(as_text=True)
    row = dash.split('id="station-dashboard"', 1)[1]
    assert f">{len(overdue)}</a>" in row
    assert "预警天数应为" in clerk.get("/numbers/warnings?days=-3", follow_redirects=True).get_data(as_text=True)


def test_the_warning_list_masks_the_applicants_name_as_the_stations_does(month: MonthCopy) -> None:
    """四条线 is the list leaders put on a screen: 赵*英 there, the full name on the case page."""
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    listed = clerk.get("/numbers/warnings?days=0").get_data(as_text=True).split('id="warning-list"', 1)[1]
    shown = [c for c in cases if c["case_no"] in listed and len(c["applicant_name"] or "") >= 2]
    assert shown
    for case in shown:
        name = case["applicant_name"]
        assert name not in listed and f"<td>{name[0]}*" in listed


def test_the_warning_list_starts_with_the_longest_overdue_case_whichever_line_it_is_on(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    page = clerk.get("/numbers/warnings?days=0").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td><a href=.*?</tr>", page.split('id="warning-list"', 1)[1], re.S)
    earliest = [min(re.findall(r"\d{4}-\d{2}-\d{2}", row)) for row in rows]
    no_committed = [row for row in rows if re.search(r'<td class="line-none">—</td>\s*<td class="line-', row)]
    assert len(rows) > 10 and no_committed and len(no_committed) < len(rows)  # both kinds are listed
    assert earliest == sorted(earliest)  # the clerk reads from the top: most overdue first
    cases, _settings = _raw(month)
    open_dues = [min(d for d in (c["statutory_due"], c["committed_due"], c["assessed_due"]) if d)
                 for c in cases if c["status"] in OPEN and (c["statutory_due"] or c["committed_due"] or c["assessed_due"])]
    assert earliest[0] == min(open_dues)


def test_assessed_limits_are_set_by_a_county_admin_and_sent_to_every_station(month: MonthCopy) -> None:
    admin = logged_in(month.hub, "boss", "admin", "县管理员")
    approver = logged_in(month.hub, "approver1", "approver", "县审批员")
    with month.hub.app_context(), db.connection_context():
        before = Setting.get(Setting.key == "assessed_days").value
        changes_before = Change.select().count()
    code = next(iter(before))
    assert approver.csrf_post("/numbers/settings", {"what": "assessed", f"assessed__{code}": "3"}).status_code == 403
    listed = admin.get("/numbers/settings").get_data(as_text=True)
    [name] = re.findall(rf"<tr><td>([^<]+)</td><td>{code}</td>", listed)  # as the form lists the item
    bad = admin.csrf_post("/numbers/settings", {"what": "assessed", f"assessed__{code}": "三天"}, follow_redirects=True)
    assert f"事项“{name}”的考核时限应为 0 到 365 之间的整数" in bad.get_data(as_text=True)  # named, not coded
    with month.hub.app_context(), db.connection_context():
        assert Setting.get(Setting.key == "assessed_days").value == before
        assert Change.select().count() == changes_before
    admin.csrf_post("/numbers/settings", {"what": "assessed", f"assessed__{code}": "3"})
    with month.hub.app_context(), db.connection_context():
        assert Setting.get(Setting.key == "assessed_days").value == {code: 3}
        change = Change.select().order_by(Change.id.desc()).get()
    assert change.station_id is None and change.payload["settings"] == {"assessed_days": {code: 3}}


def test_the_settings_page_gives_each_items_limits_with_their_unit(month: MonthCopy) -> None:
    """The admin sets 考核时限 in working days beside the catalog's limits: a bare "20" hides its unit."""
    page = logged_in(month.hub, "boss", "admin", "县管理员").get("/numbers/settings").get_data(as_text=True)
    rows = {m[0]: m[1:] for m in re.findall(r"<tr><td>([^<]+)</td><td>\d+</td>\s*<td>([^<]*)</td><td>([^<]*)</td>", page)}
    assert rows["城乡居民基本养老保险参保登记"] == ("20个工作日", "5个工作日")
    assert rows["社会保障卡临时挂失"] == ("0个工作日", "即时办结")  # an instant item, not "0"


def test_a_forged_settings_form_is_refused_and_saves_nothing(month: MonthCopy) -> None:
    admin = logged_in(month.hub, "boss", "admin", "县管理员")

    def stored() -> tuple:
        with month.hub.app_context(), db.connection_context():
            return [(r.key, r.value) for r in Setting.select().order_by(Setting.key)], Change.select().count()

    before = stored()
    for what in ("x", ""):
        response = admin.csrf_post("/numbers/settings", {"what": what, "areas": "141081102201 东关村"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "无法识别要保存的设置，未做任何修改" in page and "已保存" not in page
        assert stored() == before  # no setting changed, nothing sent to the stations


def test_a_superscript_digit_is_refused_in_chinese_and_full_width_digits_are_read(month: MonthCopy) -> None:
    """"²" passed isdigit() and then broke int(): each of these forms answered with an error page (500)."""
    admin = logged_in(month.hub, "boss", "admin", "县管理员")
    with month.hub.app_context(), db.connection_context():
        code = next(iter(Setting.get(Setting.key == "assessed_days").value))
    assert "预警天数应为 0 到 30 之间的整数" in admin.get("/numbers/warnings?days=²").get_data(as_text=True)
    refused = admin.csrf_post("/numbers/settings", {"what": "assessed", f"assessed__{code}": "²"},
                              follow_redirects=True).get_data(as_text=True)
    assert "的考核时限应为 0 到 365 之间的整数" in refused
    admin.csrf_post("/numbers/settings", {"what": "assessed", f"assessed__{code}": "１２"})
    admin.csrf_post("/numbers/settings", {"what": "areas", "areas": "１４１０８１１０２２０１　东关村"})  # an IME's digits and space
    with month.hub.app_context(), db.connection_context():
        assert Setting.get(Setting.key == "assessed_days").value == {code: 12}
        assert Setting.get(Setting.key == "area_names").value == {"141081102201": "东关村"}


@pytest.mark.parametrize("text", ["14108110220 东关村", "141081102201", "14108110220² 东关村"])
def test_village_names_refuse_a_bad_line(month: MonthCopy, text: str) -> None:
    admin = logged_in(month.hub, "boss", "admin", "县管理员")
    page = admin.csrf_post("/numbers/settings", {"what": "areas", "areas": text}, follow_redirects=True)
    assert "第 1 行应为" in page.get_data(as_text=True)


def test_county_case_search_by_name_item_state_and_line(month: MonthCopy) -> None:
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    with sqlite3.connect(Path(month.hub.instance_path) / "hub.sqlite3") as conn:
        everything = [dict(zip(("case_no", "name", "item", "status", "due", "supplied_at"), r, strict=True)) for r in conn.execute(
            "SELECT case_no, applicant_name, item_code, status, committed_due, supplied_at FROM hub_case")]

    def listed(query: str) -> set[str]:
        page = clerk.get(f"/cases?{query}").get_data(as_text=True)
        return set(re.findall(r">(\d{24})</a>", page))

    surname = everything[0]["name"][0]
    assert listed(f"name={surname}") == {c["case_no"] for c in everything if c["name"].startswith(surname)}
    item = everything[0]["item"]
    assert listed(f"item={item}") == {c["case_no"] for c in everything if c["item"] == item}
    assert listed("status=supplement") == {c["case_no"] for c in everything if c["status"] == "supplement"}
    overdue = {c["case_no"] for c in everything
               if _running(c) and c["due"] and c["due"] < TODAY.isoformat()}
    assert overdue and listed("line=committed") == overdue
    assert "请选择法定、承诺或考核时限" in clerk.get("/cases?line=yearly", follow_redirects=True).get_data(as_text=True)


def test_the_county_case_shows_the_station_notes_in_full_and_the_station_page_speaks_chinese(month: MonthCopy) -> None:
    from sync.hub.models import Event, HubCase

    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    with month.hub.app_context(), db.connection_context():
        event = Event.select().where(Event.kind == "case.note").first()
        case = HubCase.get(HubCase.case_id == event.case_id)
        station_code = case.station.code
    page = clerk.get(f"/cases/{case.case_id}").get_data(as_text=True)
    notes = page.split('id="station-notes"', 1)[1].split("</section>", 1)[0]
    assert "。" in notes and "无备注" not in notes
    station_page = clerk.get(f"/stations/{station_code}").get_data(as_text=True)
    assert "剩余磁盘" in station_page and "free_disk_bytes" not in station_page and "<textarea" not in station_page


def test_bundle_items_stay_together_on_the_list() -> None:
    from types import SimpleNamespace

    from sync.hub.services.case_search import group_bundles

    rows = [SimpleNamespace(id=1, bundle_group="g"), SimpleNamespace(id=2, bundle_group=None),
            SimpleNamespace(id=3, bundle_group="g"), SimpleNamespace(id=4, bundle_group=None)]
    assert [r.id for r in group_bundles(rows)] == [1, 3, 2, 4]


def test_the_county_case_shows_its_four_lines(month: MonthCopy) -> None:
    import chinese_calendar

    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    cases, _settings = _raw(month)
    case = next(c for c in cases if c["status"] in CLOSED and c["assessed_due"])
    page = clerk.get(f"/cases/{case['case_id']}").get_data(as_text=True)
    lines = page.split('id="four-lines"', 1)[1].split("</dd>", 1)[0]
    start, end = dt.date.fromisoformat(case["received_time"][:10]), dt.date.fromisoformat(case["closed_at"][:10])
    used = sum(chinese_calendar.is_workday(start + dt.timedelta(days=k)) for k in range(1, (end - start).days + 1))
    assert f"实际用时 {used} 个工作日" in lines and f"考核时限 {case['assessed_due']}" in lines


def test_county_deferred_materials_brought_on_time_match_the_station(month: MonthCopy) -> None:
    """The county counts 容缺 materials from the materials lists the station sent: the same figures."""
    from station.extensions import db as station_db
    from station.services import statistics as station_statistics

    hub_figures = _compute(month).deferred
    with month.station.app_context(), station_db.connection_context():
        at_station = station_statistics.compute(PERIOD, TODAY).deferred
    assert hub_figures.total == at_station.total > 0
    assert (hub_figures.on_time, hub_figures.late, hub_figures.outstanding) == (
        at_station.on_time, at_station.late, at_station.outstanding)
    assert hub_figures.outstanding_overdue is None


def test_an_unkept_promise_stays_not_brought_at_the_county_whatever_the_station_sends_next(
        any_hub_app, make_station, make_event) -> None:
    """A 容缺 material the agent recorded as unkept (逾期未补) was never brought: the county counted it 尚未补交
    until the station's next materials list turned it into 逾期补交 (brought late)."""
    from rules import events
    from sync.hub.models import Station

    station = make_station(any_hub_app, "ST-U", "容缺村便民服务站")
    due = "2026-11-24"

    def photo(status: str, **more: str) -> list[dict]:
        return [{"key": "photo", "name": "一寸照片", "status": status, "due_date": due, "e_license_no": None, **more}]

    taken = {no: make_event(payload=case_snapshot(case_no=no, query_code=f"UUUU0{n}", decision="deferred",
                                                  materials=photo("deferred")))
             for n, no in enumerate(("U-BROUGHT", "U-UNKEPT", "U-WAITING"), 1)}
    brought = make_event(case_id=taken["U-BROUGHT"]["case_id"], seq=2, kind=events.MATERIALS_UPDATED,
                         payload={"materials": photo("provided", received_at="2026-11-23T10:00:00+08:00"),
                                  "arrived": ["photo"]})
    unkept = make_event(case_id=taken["U-UNKEPT"]["case_id"], seq=2, kind=events.COMMITMENT_UNKEPT,
                        payload={"key": "photo", "name": "一寸照片", "due_date": due, "note": "申请人表示不再补交",
                                 "materials": photo("unkept")})
    scan_added = make_event(case_id=taken["U-UNKEPT"]["case_id"], seq=3, kind=events.MATERIALS_UPDATED,
                            payload={"materials": photo("unkept")})
    period = Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    want = (len(taken), 1, 0, len(taken) - 1)  # one brought on time; the unkept one and the waiting one not brought
    for sent in ([*taken.values(), brought, unkept], [scan_added]):
        assert {r["status"] for r in station.results(sent)} == {"accepted"}
        with any_hub_app.app_context(), db.connection_context():
            figures = statistics._compute(period, dt.date(2026, 11, 30), Station.get(Station.code == "ST-U")).deferred
        assert (figures.total, figures.on_time, figures.late, figures.outstanding) == want, sent[-1]["kind"]


def test_the_provincial_csv_never_hands_excel_a_formula(hub_app, station_a, make_event) -> None:
    from tests.fixtures.hub import case_snapshot

    names = ["=HYPERLINK(\"http://x.example/\",\"点我\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1+2", "\r=1+2", "张三"]
    sent = [make_event(payload=case_snapshot(case_no=f"C{i}", applicant={
        "name": name, "cert_type": "111", "id_number": "110105194912310021", "phone": "13800001234",
        "address": "示范村", "area_code": "140000001001"}, item_name="=1+1" if i == 0 else "低保申请"))
        for i, name in enumerate(names)]
    assert {r["status"] for r in station_a.results(sent)} == {"accepted"}
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    query = "period=range&start=2026-11-01&end=2026-11-30"
    rows = list(csv.DictReader(io.StringIO(clerk.get(f"/numbers/export/cases.csv?{query}").data.decode("utf-8-sig"))))
    by_no = {r["SBLSH"]: r for r in rows}
    for i, name in enumerate(names):
        assert by_no[f"C{i}"]["APPLYERNAME"] == (name if name == "张三" else "'" + name)
    assert by_no["C0"]["SERVICENAME"] == "'=1+1" and by_no["C1"]["SERVICENAME"] == "低保申请"
    records = json.loads(clerk.get(f"/numbers/export/cases.json?{query}").data)["records"]
    assert {r["APPLYERNAME"] for r in records} == set(names)  # JSON is data, not a sheet: kept as sent


def test_warnings_are_listed_by_their_earliest_due_date_on_both_databases(any_hub_app, make_station,
                                                                          make_event) -> None:
    """PostgreSQL sorts a missing 承诺时限 last, SQLite first: the order must hang on neither."""
    station = make_station(any_hub_app, "ST-W", "预警村便民服务站")
    a_day_late = case_snapshot(case_no="W-1", statutory_due="2026-12-18", committed_due="2026-11-27")
    long_past = case_snapshot(case_no="W-2", statutory_due="2026-11-02", committed_due=None)
    just_late = case_snapshot(case_no="W-3", statutory_due="2026-11-28", committed_due=None)
    station.results([make_event(payload=p) for p in (a_day_late, long_past, just_late)])
    with any_hub_app.app_context(), db.connection_context():
        found = warnings.find(dt.date(2026, 11, 30), 0)
    assert [w.case.case_no for w in found] == ["W-2", "W-1", "W-3"]


def test_a_case_taken_today_is_not_listed_among_the_warnings_as_normal(hub_app, station_a, make_event) -> None:
    """Not yet 即将到期 on the day it was taken, a case due tomorrow stood in the list reading 正常 on every line."""
    taken = dt.date(2026, 11, 24)  # a Tuesday: due the next working day
    due = dt.date(2026, 11, 25)
    for case_no, received in (("T-TODAY", taken), ("T-YESTERDAY", taken - dt.timedelta(days=1))):
        station_a.results([make_event(payload=case_snapshot(
            case_no=case_no, query_code=case_no[-6:], received_at=f"{received.isoformat()}T09:30:00+08:00",
            statutory_due=due.isoformat(), committed_due=due.isoformat()))])
    with hub_app.app_context(), db.connection_context():
        found = warnings.find(taken, 2)
    assert [w.case.case_no for w in found] == ["T-YESTERDAY"]
    assert found[0].lines.state["committed"] == "soon"


def test_each_overdue_count_on_the_dashboard_opens_a_list_of_as_many_cases(month: MonthCopy) -> None:
    """The count linked to the 四条线 warnings, which also list the cases due soon: 3 on the dashboard, 5 behind it."""
    clerk = logged_in(month.hub, "approver1", "approver", "县审批员")
    row = clerk.get("/numbers/").get_data(as_text=True).split('id="station-dashboard"', 1)[1]
    links = re.findall(r'<td class="[^"]*"><a href="([^"]+)">(\d+)</a></td>', row)
    assert len(links) == 3 and any(int(n) for _href, n in links)
    for href, n in links:
        listed = clerk.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert f"共 {n} 件" in listed, href


def test_the_provincial_export_says_where_a_cross_area_case_was_taken_accepted_and_closed(hub_app, station_a,
                                                                                        make_event) -> None:
    """GB/T 39046 keeps 申报地, 受理地 and 办结地 apart for 跨域办; the export had only 申报地 (the
    applicant's village), so a case county B handles looked like this county's own."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station

    hub_app.config["AREA_CODE"] = "141081"
    today = dt.datetime.now(CHINA_TZ).replace(microsecond=0).isoformat()
    ours = make_event(payload=case_snapshot(case_no="OWN-1", received_at=today))
    theirs = make_event(payload=case_snapshot(case_no="CROSS-1", received_at=today, received_area="141081102201",
                                              handling_area="141082", handling_area_name="邻县民政局"))
    peer = _make_station(hub_app, "HUB141083", "另一县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == peer.code).execute()
    forwarded = make_event(payload=case_snapshot(case_no="FROM-1", received_at=today, received_area="141083100201",
                                                 received_station_name="某村便民服务站", handling_area="141081",
                                                 handling_area_name="示范县民政局"))
    assert [r["status"] for r in station_a.results([ours, theirs]) + peer.results([forwarded])] == ["accepted"] * 3
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    data = json.loads(clerk.get(f"/numbers/export/cases.json?{RANGE}").data)
    places = {r["SBLSH"]: (r["APPLYAREACODE"], r["ACCEPTAREACODE"], r["TRANSACTAREACODE"], r["RECEIVEDEPTNAME"])
              for r in data["records"]}
    # 办结地 stays empty until a case is concluded (tests/hub/test_provincial_export.py covers a concluded one)
    assert places == {"OWN-1": ("140000001001", "141081", "", "甲村便民服务站"),
                      "CROSS-1": ("141081102201", "141082", "", "甲村便民服务站"),
                      "FROM-1": ("141083100201", "141081", "", "某村便民服务站")}
    assert data["fields"]["ACCEPTAREACODE"].startswith("受理地区划代码")
