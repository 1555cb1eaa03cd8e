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
