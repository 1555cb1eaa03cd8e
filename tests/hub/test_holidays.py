"""The county's holiday table: published from the State Council's notice, counted with at once, sent to stations."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from sync import protocol
from sync.hub.cli import cli
from sync.hub.models import Change, HolidayTable
from sync.hub.services import workdays

CSV_2027 = "day,kind,name\n2027-01-01,放假,元旦\n2027-02-06,放假,春节\n2027-02-07,上班,春节调休上班\n"


def test_a_published_year_is_counted_at_the_county_and_sent_to_every_station(hub_app, tmp_path, monkeypatch):
    with hub_app.app_context():
        before = workdays.due_after(dt.date(2026, 12, 31), 1)
    assert before.due == dt.date(2027, 1, 1) and before.provisional  # 元旦 counted as a working Friday
    notice = tmp_path / "2027.csv"
    notice.write_text(CSV_2027, encoding="utf-8")
    monkeypatch.setattr("sync.hub.cli._app", lambda: hub_app)
    said = CliRunner().invoke(cli, ["publish-holidays", str(notice)])
    assert said.exit_code == 0, said.output
    assert "已发布2027年节假日安排，版本 2027.1，共 3 天" in said.output
    with hub_app.app_context():
        after = workdays.due_after(dt.date(2026, 12, 31), 1)
        assert after.due == dt.date(2027, 1, 4) and not after.provisional
        [change] = Change.select().where(Change.kind == protocol.CHANGE_HOLIDAYS)
        assert change.station_id is None  # a broadcast
        assert change.payload["year"] == 2027 and change.payload["version"] == "2027.1"
        assert {"day": "2027-02-07", "is_workday": True, "name": "春节调休上班"} in change.payload["days"]


@pytest.mark.parametrize(("text", "words"), [
    ("day,kind,name\n2027-01-01,假,元旦\n", "kind 须为“放假”或“上班”"),
    ("day,kind,name\n2027-01-01,放假,元旦\n2028-01-01,放假,元旦\n", "同一年"),
    ("day,kind,name\n2027-13-01,放假,元旦\n", "日期“2027-13-01”不正确"),
    ("day,kind,name\n2027-01-01,放假,\n", "须有名称"),
    ("date,type\n2027-01-01,放假\n", "day, kind, name 三列"),
    ("day,kind,name\n2027-02-07,放假,春节\n2027-02-07,上班,春节调休上班\n", "2027-02-07 既写成“放假”又写成“上班”"),
    ("", "节假日文件是空的"),
])
def test_a_bad_notice_is_refused_in_chinese_and_nothing_is_sent(hub_app, tmp_path, monkeypatch, text, words):
    notice = tmp_path / "bad.csv"
    notice.write_text(text, encoding="utf-8")
    monkeypatch.setattr("sync.hub.cli._app", lambda: hub_app)
    said = CliRunner().invoke(cli, ["publish-holidays", str(notice)])
    assert said.exit_code == 1 and "未发布" in said.output and words in said.output
    with hub_app.app_context():
        assert HolidayTable.select().count() == 0
        assert not Change.select().where(Change.kind == protocol.CHANGE_HOLIDAYS).exists()


def _published_2027(hub_app) -> None:  # noqa: ANN001
    from sync.hub.services import holidays

    with hub_app.app_context():
        year, rows = holidays.parse_csv(CSV_2027)
        holidays.publish(year, rows, "县级管理员")


def test_a_stations_date_counted_before_the_county_published_stays_marked(hub_app, approver, station_a, make_event):
    """The station counted 2027-01-01 Monday–Friday; after the county publishes 2027 the station counts it
    again and says so in a note, while the county still holds the old date: it must not turn firm here."""
    import re

    from tests.fixtures.hub import case_snapshot

    before = make_event(payload=case_snapshot(committed_due="2027-01-01", statutory_due="2027-01-15"))
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    after = make_event(payload=case_snapshot(committed_due="2027-01-15", statutory_due="2027-01-29",
                                             received_at=f"{tomorrow.isoformat()}T09:30:00+08:00"))
    assert [r["status"] for r in station_a.results([before, after])] == ["accepted", "accepted"]
    _published_2027(hub_app)

    def dates(event) -> str:  # noqa: ANN001
        page = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
        return page.split("<dt>法定 / 承诺期限</dt>")[1].split("</dd>")[0]
    assert re.search(r'title="此日期在2027年节假日安排发布前按周一至周五推算[^"]*">（暂定）', dates(before))
    assert "暂定" not in dates(after)  # counted by a station after the county published


def test_a_notice_excel_saved_in_gbk_is_refused_in_chinese_saying_how_to_save_it(hub_app, tmp_path, monkeypatch):
    """Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK: the clerk saw a UnicodeDecodeError traceback."""
    notice = tmp_path / "2027.csv"
    notice.write_bytes(CSV_2027.encode("gbk"))
    monkeypatch.setattr("sync.hub.cli._app", lambda: hub_app)
    said = CliRunner().invoke(cli, ["publish-holidays", str(notice)])
    assert said.exit_code == 1 and isinstance(said.exception, SystemExit), said.output
    assert "未发布：2027.csv 不是 UTF-8 编码的文本文件" in said.output and "CSV UTF-8" in said.output
    with hub_app.app_context():
        assert HolidayTable.select().count() == 0
