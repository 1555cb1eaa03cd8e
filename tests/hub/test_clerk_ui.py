"""The county clerk's pages: login, CSRF, decisions through forms, stations, catalog, conflicts."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from sync.hub.models import CatalogVersion, Change, Station
from tests.fixtures.hub import case_snapshot, login, valid_catalog


@pytest.mark.parametrize("path", ["/", "/cases", "/stations", "/stations/ST-A", "/conflicts", "/catalog",
                                  "/cases/01ARZ3NDEKTSV4RRFFQ69G5FAV"])
def test_pages_need_login(hub_client, path):
    response = hub_client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_posts_need_login(hub_app, hub_client, case_id):
    response = hub_client.post(f"/cases/{case_id}/decide", data={"kind": "accepted"})
    assert response.status_code in (302, 400)  # CSRF or login: either way …
    with hub_app.app_context():
        assert Change.select().count() == 0  # … never processed


def test_wrong_password(hub_app, hub_client, approver):
    response = login(hub_app.test_client(), password="nope-nope-nope")
    assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)


def test_login_next_is_not_an_open_redirect(hub_app, approver):
    client = hub_app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "clerk", "password": "correct-horse-battery", "csrf_token": token})
    assert response.headers["Location"] == "/cases"


def test_login_form_needs_csrf(hub_app, approver):
    response = hub_app.test_client().post("/login", data={"username": "clerk", "password": "correct-horse-battery"})
    assert response.status_code == 400


@pytest.fixture
def case_id(station_a, make_event):
    event = make_event()
    station_a.results([event])
    return event["case_id"]


def test_decision_without_csrf_refused(hub_app, approver, case_id):
    response = approver.client.post(f"/cases/{case_id}/decide", data={"kind": "accepted"})
    assert response.status_code == 400
    with hub_app.app_context():
        assert Change.select().count() == 0


def test_case_list_and_detail(approver, case_id):
    page = approver.get("/cases").get_data(as_text=True)
    assert "城乡居民基本养老保险参保登记" in page and "张三" in page and "待受理" in page
    detail = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "110105********0021" in detail and "110105194912310021" not in detail  # masked on screen
    assert "138****1234" in detail
    for label in ("受理", "补正", "不予受理"):
        assert f"<h3>{label}</h3>" in detail
    assert "<h3>办结</h3>" not in detail  # not offered before 受理
    filtered = approver.get("/cases?status=completed").get_data(as_text=True)
    assert "张三" not in filtered


def test_the_case_page_uses_the_words_the_station_prints(approver, station_a, make_event):
    """Mode, the station's decision, each material's status and the event kind come from the one glossary."""
    materials = [{"key": "id_card", "name": "居民身份证", "status": "provided"},
                 {"key": "photo", "name": "照片", "status": "missing"}]
    event = make_event(payload=case_snapshot(mode="proxy", decision="deferred", materials=materials))
    station_a.results([event])
    detail = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    assert "<dd>代办</dd>" in detail and "<dd>容缺收件</dd>" in detail
    assert "<td>已提交</td>" in detail and "<td>缺少</td>" in detail  # as on the station's screen and paper
    assert "<td>收件提交</td>" in detail
    assert 'status-submitted">待受理</span>' in detail


def test_each_decision_through_the_form_reaches_the_station(hub_app, approver, station_a, case_id):
    page = f"/cases/{case_id}"
    response = approver.csrf_post(f"{page}/decide", {"kind": "supplement", "supplement": ["id_card"],
                                                   "reason": "身份证复印件不清晰"}, token_page=page,
                               follow_redirects=True)
    assert "已补正" in response.get_data(as_text=True)
    approver.csrf_post(f"{page}/decide", {"kind": "accepted", "hub_case_no": "HUB-1"}, token_page=page)
    approver.csrf_post(f"{page}/decide", {"kind": "completed", "result": "approved", "result_text": "准予"},
                    token_page=page)
    feed = station_a.changes().json
    statuses = [(c["payload"]["status"], c["payload"]["clerk"], c["payload"]["clerk_name"]) for c in feed["changes"]]
    assert statuses == [("supplement", "clerk", "县级窗口"), ("accepted", "clerk", "县级窗口"),
                        ("completed", "clerk", "县级窗口")]  # the account stays; the station shows the person
    decided = approver.get(page).get_data(as_text=True)
    assert decided.count("· 县级窗口") == 3 and "· clerk" not in decided  # who decided, by name, on the case page
    assert feed["changes"][0]["payload"]["supplement_items"] == [{"key": "id_card", "name": "居民身份证"}]


def test_a_second_click_on_supplement_sends_no_second_list_until_the_materials_come(
        approver, station_a, case_id, make_event):
    """一次性告知: one 补正 list per round; the second post of the form is refused, the station hears once."""
    page = f"/cases/{case_id}"
    form = {"kind": "supplement", "supplement": ["id_card"], "reason": "身份证复印件不清晰"}
    approver.csrf_post(f"{page}/decide", form, token_page=page)
    html = approver.get(page).get_data(as_text=True)
    assert "等待站点提交补正材料" in html and "一次性告知补正</button>" not in html  # the form is gone
    again = approver.csrf_post(f"{page}/decide", form, token_page=page, follow_redirects=True).get_data(as_text=True)
    assert "已一次性告知补正，申请人尚未补交材料，不能再次补正" in again
    assert len(station_a.changes().json["changes"]) == 1
    supplied = make_event(case_id=case_id, seq=2, kind="case.supplemented", payload={
        "supplied": [{"key": "id_card", "name": "居民身份证", "supplied_as": "copy", "note": ""}],
        "materials": case_snapshot()["materials"], "supplied_at": "2026-11-22T10:00:00+08:00"})
    assert station_a.results([supplied])[0]["status"] == "accepted"
    assert "一次性告知补正</button>" in approver.get(page).get_data(as_text=True)  # still not right: a new round
    approver.csrf_post(f"{page}/decide", {**form, "reason": "补交的复印件仍不清晰"}, token_page=page)
    assert [c["payload"]["reason"] for c in station_a.changes().json["changes"]] == ["身份证复印件不清晰", "补交的复印件仍不清晰"]


def test_a_supplement_answer_with_bare_rows_is_refused_and_the_case_page_still_opens(
        approver, station_a, case_id, make_event):
    """A 补正 answer whose ``supplied`` rows were bare strings was taken, and the county's case page then
    failed (500) for every clerk; it is refused with its reason and the case waits for a proper one."""
    page = f"/cases/{case_id}"
    approver.csrf_post(f"{page}/decide", {"kind": "supplement", "supplement": ["id_card"], "reason": "身份证不清晰"},
                       token_page=page)
    bare = make_event(case_id=case_id, seq=2, kind="case.supplemented", payload={
        "supplied": ["id_card"], "materials": case_snapshot()["materials"]})
    [result] = station_a.results([bare])
    assert (result["status"], result["code"]) == ("rejected", "bad_event") and "supplied" in result["reason"]
    response = approver.get(page)
    assert response.status_code == 200 and "已补正待审" not in response.get_data(as_text=True)


def test_reject_through_form(approver, station_a, case_id):
    page = f"/cases/{case_id}"
    approver.csrf_post(f"{page}/decide", {"kind": "rejected", "reason": "申请人不符合参保条件"}, token_page=page)
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["status"] == "rejected" and change["payload"]["reason"] == "申请人不符合参保条件"


def test_invalid_transition_shows_chinese_message(approver, case_id):
    page = f"/cases/{case_id}"
    response = approver.csrf_post(f"{page}/decide", {"kind": "completed", "result": "approved"}, token_page=page,
                               follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "办件当前状态为「待受理」，不能办结" in html


def test_a_decision_kind_the_form_never_offers_is_refused_in_chinese(approver, station_a, case_id):
    page = f"/cases/{case_id}"
    html = approver.csrf_post(f"{page}/decide", {"kind": "approve_all"}, token_page=page,
                              follow_redirects=True).get_data(as_text=True)
    assert "未知的决定类型" in html and "不能approve_all" not in html
    assert station_a.changes().json["changes"] == []  # nothing went to the station


def test_reject_without_reason_shows_message(approver, case_id):
    page = f"/cases/{case_id}"
    html = approver.csrf_post(f"{page}/decide", {"kind": "rejected", "reason": ""}, token_page=page,
                           follow_redirects=True).get_data(as_text=True)
    assert "不予受理须填写理由" in html


def test_a_pasted_page_long_reason_is_refused_and_the_case_stays_where_it_was(approver, station_a, case_id):
    page = f"/cases/{case_id}"
    html = approver.csrf_post(f"{page}/decide", {"kind": "rejected", "reason": "不符合条件。" * 200}, token_page=page,
                              follow_redirects=True).get_data(as_text=True)
    assert "不予受理理由最多 500 个字（现在 1200 个）" in html
    assert 'status-submitted">待受理</span>' in html  # not refused
    assert station_a.changes().json["changes"] == []  # nothing for the station's paper or the resident's page
    approver.csrf_post(f"{page}/decide", {"kind": "rejected", "reason": "不符合条件。" * 50}, token_page=page)
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["reason"] == "不符合条件。" * 50  # 300 characters go through whole


def test_station_list_shows_dark_and_ageing(hub_app, approver, station_a, station_b, make_event):
    station_a.results([make_event()], heartbeat={"queue_length": 3, "oldest_queued_age_s": 3 * 86400,
                                                  "clock_offset_s": 12.0, "set_aside_count": 2})
    with hub_app.app_context():
        Station.update(last_seen_at=dt.datetime(2020, 1, 1)).where(Station.code == "ST-B").execute()
    html = approver.get("/stations").get_data(as_text=True)
    a, b = _station_row(html, "ST-A"), _station_row(html, "ST-B")
    # the page's hint text names both flags too: only a station's own row says which it has
    assert _badges(a) == ["积压"] and "+12 秒" in a
    assert _badges(b) == ["失联"]


def test_station_seen_just_now_with_a_fresh_queue_is_normal(hub_app, approver, station_a, make_event):
    station_a.results([make_event()], heartbeat={"queue_length": 1, "oldest_queued_age_s": 60})
    assert _badges(_station_row(approver.get("/stations").get_data(as_text=True), "ST-A")) == ["正常"]


def _station_row(html: str, code: str) -> str:
    """The stations page's table row for one station."""
    rows = [row for row in re.findall(r"<tr class=.*?</tr>", html, re.S) if f"<small>{code}</small>" in row]
    assert len(rows) == 1, f"no single row for {code}"
    return rows[0]


def _badges(row: str) -> list[str]:
    return re.findall(r'<span class="badge[^"]*">([^<]+)</span>', row)


def test_station_settings_form_emits_change(hub_app, county_admin, station_a):
    page = "/stations/ST-A"
    county_admin.csrf_post(page, {"sync_interval_seconds": "120"})
    [change] = station_a.changes().json["changes"]
    assert change["kind"] == "station.settings" and change["payload"]["settings"] == {"sync_interval_seconds": 120}
    html = county_admin.csrf_post(page, {"sync_interval_seconds": "两分钟"}).get_data(as_text=True)
    assert "自动同步间隔（秒）应为 10 到 86400 之间的整数" in html
    assert len(station_a.changes().json["changes"]) == 1  # nothing sent for the refused form
    shown = county_admin.get(page).get_data(as_text=True)
    assert "<textarea" not in shown and "自动同步间隔（秒）" in shown


def test_publish_catalog_by_paste_and_upload(hub_app, county_admin, station_a):
    catalog = valid_catalog("2026.12")
    response = county_admin.csrf_post("/catalog", {"catalog": json.dumps(catalog, ensure_ascii=False)},
                                      follow_redirects=True)
    assert "2026.12 已发布" in response.get_data(as_text=True)
    upload = valid_catalog("2026.13")
    county_admin.csrf_post("/catalog", {"file": (io.BytesIO(json.dumps(upload).encode()), "catalog.json")},
                           content_type="multipart/form-data")
    with hub_app.app_context():
        assert [v.version for v in CatalogVersion.select().order_by(CatalogVersion.id)] == ["2026.12", "2026.13"]
    kinds = [(c["kind"], c["payload"]["catalog_version"]) for c in station_a.changes().json["changes"]]
    assert kinds == [("catalog.published", "2026.12"), ("catalog.published", "2026.13")]
    listed = county_admin.get("/catalog").get_data(as_text=True)
    assert listed.count("<td>县级管理员</td>") == 2 and "<td>countyadmin</td>" not in listed  # who published, by name


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "请选择目录文件，或把目录 JSON 粘贴到文本框中"), ("  \n", "请选择目录文件"),
     ("not json", "不是有效的"), ("{}", "缺少版本号"), ('{"catalog_version": "x", "items": []}', "缺少事项列表"),
     ('{"catalog_version": "x", "items": [{"name": "无编码"}]}', "缺少事项编码"),
     ('{"catalog_version": "x", "items": [{"item_code": "1"}]}', "站点无法导入")],
)
def test_publish_catalog_validation(county_admin, text, message):
    html = county_admin.csrf_post("/catalog", {"catalog": text}).get_data(as_text=True)
    assert message in html


def test_publish_same_version_twice_refused(county_admin):
    body = {"catalog": json.dumps(valid_catalog("v1"), ensure_ascii=False)}
    county_admin.csrf_post("/catalog", body)
    assert "已发布过" in county_admin.csrf_post("/catalog", body).get_data(as_text=True)


def test_conflicts_page_and_resolve(hub_app, approver, station_a, make_event):
    event = make_event()
    station_a.results([event])
    station_a.results([{**event, "payload": {**event["payload"], "case_no": "CHANGED"}}])
    html = approver.get("/conflicts").get_data(as_text=True)
    [card] = re.findall(r'<section class="card.*?</section>', html, re.S)  # the hint names the kinds too
    assert "同一事件编号内容不同 · case.submitted" in card and "CHANGED" in card and event["case_id"] in card
    from sync.hub.models import Conflict

    with hub_app.app_context():
        conflict_id = Conflict.get().id
    approver.csrf_post(f"/conflicts/{conflict_id}/resolve", {"resolution": "keep_county", "note": "已电话核实，以平台版本为准"},
                    token_page="/conflicts")
    with hub_app.app_context():
        assert Conflict.get().resolved_by == "clerk"  # the account, for the record
    assert "已由 县级窗口 于" in approver.get("/conflicts").get_data(as_text=True)  # the person, on the page
    [change] = [c["payload"] for c in station_a.changes().json["changes"] if c["kind"] == "conflict.resolved"]
    assert (change["resolved_by"], change["resolved_by_name"]) == ("clerk", "县级窗口")


def test_a_conflict_note_too_long_is_refused_and_the_conflict_stays_open(hub_app, approver, station_a, make_event):
    event = make_event()
    station_a.results([event])
    station_a.results([{**event, "payload": {**event["payload"], "case_no": "CHANGED"}}])
    from sync.hub.models import Conflict

    with hub_app.app_context():
        conflict_id = Conflict.get().id
    html = approver.csrf_post(f"/conflicts/{conflict_id}/resolve", {"resolution": "keep_county", "note": "核" * 501},
                              token_page="/conflicts", follow_redirects=True).get_data(as_text=True)
    assert "处理说明最多 500 个字（现在 501 个）" in html
    with hub_app.app_context():
        assert Conflict.get().resolved_at is None
    assert station_a.changes().json["changes"] == []


def test_logout_needs_post(approver):
    assert approver.get("/logout").status_code == 405
    approver.csrf_post("/logout", {}, token_page="/cases")
    assert approver.get("/cases").status_code == 302


def test_static_css_is_local(hub_client):
    assert hub_client.get("/static/hub.css").status_code == 200
    html = hub_client.get("/login").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html


def test_publishing_a_catalog_with_a_bad_material_condition_is_refused(hub_app, county_admin):
    """Issue 19: the hub runs the stations' catalog check, the conditional-material field included."""
    catalog = valid_catalog("2026.14")
    catalog["items"][0]["materials"][0]["condition"] = "  "
    html = county_admin.csrf_post("/catalog", {"catalog": json.dumps(catalog, ensure_ascii=False)}).get_data(
        as_text=True)
    assert "condition（适用条件）应为非空文字" in html
    with hub_app.app_context():
        assert not CatalogVersion.select().where(CatalogVersion.version == "2026.14").exists()


def test_without_the_holiday_package_every_county_date_is_counted_the_same_way_and_marked_provisional(
        hub_app, approver, station_a, make_event, monkeypatch):
    """The hub's requirements do not include chinesecalendar. Without it the county's one working-day
    calendar counts Monday to Friday and marks the dates （暂定）: a case with a 考核时限 is still taken,
    its page shows the same due date the 整改 and the 四条线 warnings count with, and nothing fails."""
    import sys

    from sync.hub.services import county_settings, workdays

    monkeypatch.setitem(sys.modules, "chinese_calendar", None)  # `import chinese_calendar` raises ImportError
    workdays.forget()
    try:
        with hub_app.app_context():
            county_settings.set_assessed_days({"000111001000": 3}, clerk="countyadmin")
        event = make_event(payload=case_snapshot())  # received Friday 2026-11-20
        assert station_a.results([event])[0]["status"] == "accepted"
        lines = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True).split('id="four-lines"', 1)[1]
        lines = lines.split("</dd>", 1)[0]
        assert "考核时限 2026-11-25" in lines and "（暂定）" in lines  # Mon–Fri: 23, 24, 25
        warned = approver.get("/numbers/warnings?days=3")
        assert warned.status_code == 200 and "140000001001202611200001" in warned.get_data(as_text=True)
    finally:
        workdays.forget()


def test_an_unknown_station_code_is_said_in_chinese_on_the_list_and_the_numbers_pages(approver, case_id):
    """A typed or old link with a station code no station has: every county page says so in Chinese and
    shows the whole county (never 共 0 件 on one page and a bare 404 on another); an export is refused."""
    said = "没有编码为 ST-GONE 的站点，请从列表中选择站点。"
    listed = approver.get("/cases?station=ST-GONE")
    assert listed.status_code == 200
    html = listed.get_data(as_text=True)
    assert said in html and "共 1 件" in html and "张三" in html  # the county's cases, not 0
    for page in ("/numbers/statistics?station=ST-GONE", "/numbers/warnings?station=ST-GONE",
                 "/numbers/visits?station=ST-GONE"):
        response = approver.get(page)
        assert response.status_code == 200 and said in response.get_data(as_text=True), page
        assert "全县" in response.get_data(as_text=True), page
    export = approver.get("/numbers/ledger.csv?station=ST-GONE&period=month", follow_redirects=True)
    assert export.mimetype == "text/html" and said in export.get_data(as_text=True)  # no county-wide file


def test_a_page_past_the_end_of_the_case_list_says_so_and_offers_the_last_page(approver, case_id):
    html = approver.get("/cases?page=3").get_data(as_text=True)
    assert "第 3 页没有办件：符合条件的共 1 件，只有 1 页。" in html
    assert re.search(r'href="/cases\?[^"]*page=1">转到最后一页（第 1 页）</a>', html)
    none = approver.get("/cases?status=completed&page=1").get_data(as_text=True)
    assert "没有符合条件的办件。" in none and "转到最后一页" not in none  # nothing matches: nothing to offer


def test_a_period_too_long_for_the_statistics_page_is_said_for_a_page_not_only_for_a_file(approver):
    page = approver.get("/numbers/statistics?period=range&start=2024-01-01&end=2026-01-01").get_data(as_text=True)
    assert "自定义周期最长 366 天，请分段查看或导出。" in page  # it said 请分段导出 to someone viewing a page
