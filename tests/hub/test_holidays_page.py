"""The county administrator's 节假日安排 page: upload the State Council's notice, see what changes, publish."""

from __future__ import annotations

import html
import io
import re

import pytest

from sync import protocol
from sync.hub.models import Change, HolidayTable, HubAccessLog
from tests.hub.test_holidays import CSV_2027, _published_2027

CSV_2027_REVISED = ("day,kind,name\n2027-01-01,放假,元旦\n2027-02-07,放假,春节\n"
                    "2027-02-08,放假,春节\n2027-02-13,上班,春节调休上班\n")


def _upload(user, text: str | bytes, filename: str = "2027.csv"):  # noqa: ANN001, ANN202
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return user.csrf_post("/holidays/preview", {"file": (io.BytesIO(raw), filename)}, token_page="/holidays",
                          content_type="multipart/form-data")


def _confirm(user, page: str):  # noqa: ANN001, ANN202
    """Press 确认发布 on a preview page: post back the form it holds."""
    form = page.split('action="/holidays/publish"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(csv|current_version)" value="([^"]*)"', form))
    return user.csrf_post("/holidays/publish", {k: html.unescape(v) for k, v in fields.items()},
                          token_page="/holidays", follow_redirects=True)


def _holiday_changes(hub_app) -> list[Change]:  # noqa: ANN001
    with hub_app.app_context():
        return list(Change.select().where(Change.kind == protocol.CHANGE_HOLIDAYS))


def test_an_approver_is_refused_the_page_and_cannot_publish(hub_app, approver):
    assert approver.get("/holidays").status_code == 403
    assert "节假日安排" not in approver.get("/cases").get_data(as_text=True)  # not in the menu either
    refused = approver.csrf_post("/holidays/publish", {"csv": CSV_2027, "current_version": ""}, token_page="/cases")
    assert refused.status_code == 403 and "无权" in refused.get_data(as_text=True)
    assert _upload_as_approver(approver).status_code == 403
    assert _holiday_changes(hub_app) == []


def _upload_as_approver(approver):  # noqa: ANN001, ANN202
    return approver.csrf_post("/holidays/preview", {"file": (io.BytesIO(CSV_2027.encode()), "2027.csv")},
                              token_page="/cases", content_type="multipart/form-data")


def test_the_admin_menu_links_the_page_and_it_shows_the_table_in_force(hub_app, county_admin):
    assert 'href="/holidays"' in county_admin.get("/cases").get_data(as_text=True)
    assert "尚未发布过节假日安排" in county_admin.get("/holidays").get_data(as_text=True)
    _published_2027(hub_app)
    row = county_admin.get("/holidays").get_data(as_text=True).split("<td>2027</td>")[1].split("</tr>")[0]
    holidays_cell, workdays_cell = re.findall(r"<td>(.*?)</td>", row, re.S)[:2]
    assert "2027-01-01 元旦" in holidays_cell and "2027-02-06 春节" in holidays_cell
    assert "2027-02-07 春节调休上班" in workdays_cell and "2027-02-07" not in holidays_cell
    assert "2027.1" in row and "县级管理员" in row


def test_the_preview_shows_what_changes_and_stores_nothing(hub_app, county_admin):
    _published_2027(hub_app)
    page = _upload(county_admin, CSV_2027_REVISED).get_data(as_text=True)
    assert "与现行版本 2027.1 相比" in page
    rows = {re.sub(r"<[^>]+>", " ", r).split()[1]: re.sub(r"<[^>]+>", " ", r).split()
            for r in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]}
    assert rows["2027-02-08"][0] == "新增"
    assert rows["2027-02-13"][0] == "新增"
    assert rows["2027-02-06"][0] == "删除"
    assert rows["2027-02-07"][:2] == ["改变", "2027-02-07"] and "上班" in rows["2027-02-07"][2] \
        and "放假" in rows["2027-02-07"][4]
    assert "2027-01-01" not in rows  # the same in both
    with hub_app.app_context():
        assert HolidayTable.get_by_id(2027).version == "2027.1"
    assert len(_holiday_changes(hub_app)) == 1  # only the first publication


def test_confirming_publishes_to_every_station_and_records_who(hub_app, county_admin, station_a):
    page = _upload(county_admin, CSV_2027).get_data(as_text=True)
    assert "2027年尚未发布过" in page
    done = _confirm(county_admin, page).get_data(as_text=True)
    assert "已发布2027年节假日安排，版本 2027.1，共 3 天" in done
    [change] = [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_HOLIDAYS]
    assert change["payload"]["year"] == 2027 and change["payload"]["version"] == "2027.1"
    assert {"day": "2027-02-07", "is_workday": True, "name": "春节调休上班"} in change["payload"]["days"]
    with hub_app.app_context():
        assert HolidayTable.get_by_id(2027).published_by == "countyadmin"
        [entry] = HubAccessLog.select().where(HubAccessLog.action == "holiday_publish")
        assert (entry.actor_name, entry.role, entry.object) == ("县级管理员", "admin", "2027") and "版本 2027.1" in entry.detail
    assert "2027-02-07 春节调休上班" in county_admin.get("/holidays").get_data(as_text=True)


def test_a_year_the_county_never_published_is_compared_with_the_calendar_the_software_ships(hub_app, county_admin):
    """Stations count 2026 with chinese_calendar's days: a notice for 2026 is shown against those, not as all new."""
    notice = "day,kind,name\n2026-01-01,放假,元旦\n2026-01-02,放假,元旦\n2026-01-04,上班,元旦调休上班\n"
    page = _upload(county_admin, notice).get_data(as_text=True)
    assert "与软件自带的2026年日历相比" in page
    body = re.sub(r"<[^>]+>", " ", page.split("<tbody>")[1].split("</tbody>")[0])
    assert "新增" not in body  # 元旦 2026 is in the shipped calendar already
    assert "删除 2026-10-01" in " ".join(body.split())  # 国庆节, not in this (partial) notice


def test_a_preview_overtaken_by_another_publication_is_refused(hub_app, county_admin):
    page = _upload(county_admin, CSV_2027_REVISED).get_data(as_text=True)
    _published_2027(hub_app)  # someone else published meanwhile
    said = _confirm(county_admin, page).get_data(as_text=True)
    assert "预览之后2027年节假日安排已由他人更新" in said
    with hub_app.app_context():
        assert HolidayTable.get_by_id(2027).version == "2027.1"
    assert len(_holiday_changes(hub_app)) == 1


@pytest.mark.parametrize(("raw", "words"), [
    (CSV_2027.encode("gbk"), "2027.csv 不是 UTF-8 编码的文本文件"),
    ("day,kind,name\n2027-13-01,放假,元旦\n", "日期“2027-13-01”不正确"),
    ("day,kind,name\n2027-02-07,放假,春节\n2027-02-07,上班,春节调休上班\n", "2027-02-07 既写成“放假”又写成“上班”"),
    ("day,kind,name\n2027-01-01,放假,元旦\n2028-01-01,放假,元旦\n", "同一年"),
    ("", "节假日文件是空的"),
    ("day,kind,name\n", "节假日文件没有任何日期"),
])
def test_a_bad_file_says_why_in_chinese_and_changes_nothing(hub_app, county_admin, station_a, raw, words):
    _published_2027(hub_app)
    response = _upload(county_admin, raw)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "未发布：" in page and words in page, page[-2000:]
    assert "确认发布" not in page
    with hub_app.app_context():
        assert HolidayTable.get_by_id(2027).version == "2027.1"
    assert len(_holiday_changes(hub_app)) == 1


def test_a_forged_confirmation_is_checked_like_an_upload(hub_app, county_admin):
    said = county_admin.csrf_post("/holidays/publish", {"csv": "day,kind,name\n2027-02-30,放假,春节\n"},
                                  token_page="/holidays")
    assert said.status_code == 400 and "日期“2027-02-30”不正确" in said.get_data(as_text=True)
    assert _holiday_changes(hub_app) == []


def test_the_form_needs_its_csrf_token(hub_app, county_admin):
    response = county_admin.client.post("/holidays/publish", data={"csv": CSV_2027, "current_version": ""})
    assert response.status_code == 400
    assert _holiday_changes(hub_app) == []
