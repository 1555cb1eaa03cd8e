"""本站设置: villages, paper per document and margins, sync interval and window, backup folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from station.extensions import db
from station.services import backups, station_settings
from sync import jobs
from sync import state as sync_state
from tests.fixtures.pdf import pdfinfo
from tests.station.test_rare_characters_page import _case_for

GOOD = {"villages": "东关村\n西关村\n东关村\n", "margin_mm": "5", "sync_interval_s": "300",
        "sync_window_from": "8:00", "sync_window_to": "18:30", "backup_dir": "", "paper_receipt": "roll80"}


def _stored(app) -> station_settings.StationSettings:
    with app.app_context(), db.connection_context():
        return station_settings.get_settings()


def test_admin_sets_the_station_once_and_sees_it_back(app, admin, tmp_path):
    answer = admin.post("/admin/settings", {**GOOD, "backup_dir": str(tmp_path / "备份")}, follow_redirects=True)
    assert answer.status_code == 200 and "本站设置已保存" in answer.get_data(as_text=True)
    saved = _stored(app)
    assert saved.villages == ["东关村", "西关村"] and saved.margin_mm == 5 and saved.sync_interval_s == 300
    assert saved.sync_window == "08:00-18:30" and saved.paper["receipt"] == "roll80"
    assert saved.backup_dir == str(tmp_path / "备份")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "西关村" in page and 'value="18:30"' in page


def test_the_receipt_prints_on_the_paper_the_station_chose(app, admin, agent):
    case_id = _case_for(app, "王秀兰")
    a4 = pdfinfo(agent.get(f"/cases/{case_id}/print/receipt").data)["Page size"]
    admin.post("/admin/settings", GOOD)
    roll = pdfinfo(agent.get(f"/cases/{case_id}/print/receipt").data)["Page size"]
    assert a4.startswith("595.") and roll.startswith("226.")  # 210 mm, then 80 mm wide


@pytest.mark.parametrize("field,value,message", [
    ("margin_mm", "abc", "页边距"),
    ("sync_interval_s", "5", "同步间隔"),
    ("sync_window_from", "25:00", "同步时段"),
    ("backup_dir", "备份", "完整路径"),
    ("paper_receipt", "a3", "纸张只能选"),
])
def test_a_bad_value_is_refused_in_chinese_and_nothing_changes(app, admin, field, value, message):
    before = _stored(app)
    answer = admin.post("/admin/settings", {**GOOD, field: value})
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert _stored(app) == before


@pytest.mark.parametrize("role", ["agent", "clerk"])
def test_only_the_admin_changes_the_settings(app, request, role):
    user = request.getfixturevalue(role)
    before = _stored(app)
    assert user.post("/admin/settings", GOOD).status_code == 403
    assert _stored(app) == before


def test_background_sync_waits_for_the_window_and_sync_now_does_not(app, monkeypatch):
    rounds = []
    monkeypatch.setattr(jobs, "sync_round", lambda *_a: rounds.append(1))
    runner = jobs.SyncRunner(app, None)
    now = dt.datetime.now()
    closed = f"{(now.hour + 2) % 24:02d}:00-{(now.hour + 3) % 24:02d}:00"
    with app.app_context(), db.connection_context():
        sync_state.set_value(sync_state.WINDOW, closed)
    runner.tick()
    assert rounds == []  # due, but outside the window
    runner.forced.set()
    runner.tick()
    assert rounds == [1]  # 立即同步 always runs
    assert jobs.within_window("22:00-06:00", dt.time(23, 30)) and not jobs.within_window("22:00-06:00", dt.time(12))


def test_the_daily_backup_goes_to_the_folder_set_on_the_page(app, admin, tmp_path: Path):
    folder = tmp_path / "usb"
    admin.post("/admin/settings", {**GOOD, "backup_dir": str(folder)})
    made = backups.backup_station(app)
    assert made.database.parent.parent == folder or folder in made.database.parents
