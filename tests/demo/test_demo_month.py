"""The demo comes with a month of cases, taken through intake, sync and the county's decisions."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path


def _rows(base: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(base / "station" / "station.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_the_demo_station_holds_a_month_of_cases_in_many_states(demo_dir: Path) -> None:
    by_status = dict(_rows(demo_dir, 'SELECT status, COUNT(*) FROM "case" GROUP BY status'))
    assert sum(by_status.values()) >= 100
    assert len(by_status) >= 5, by_status
    # the county's decisions came back through sync: closed cases and 补正 exist at the station
    assert by_status.get("supplement") and (by_status.get("completed", 0) + by_status.get("delivered", 0))
    [(first, last)] = _rows(demo_dir, 'SELECT MIN(received_at), MAX(received_at) FROM "case"')
    assert first[:10] < last[:10], "every case on one day is no month"
    assert "演示办件：" in (demo_dir / "stdout.txt").read_text(encoding="utf-8")


def test_every_demo_event_reached_the_county(demo_dir: Path) -> None:
    assert _rows(demo_dir, "SELECT state, COUNT(*) FROM outbox_event GROUP BY state")[0][0] == "acked"
    assert len(_rows(demo_dir, "SELECT DISTINCT state FROM outbox_event")) == 1
    with sqlite3.connect(demo_dir / "hub" / "hub.sqlite3") as hub:
        [(at_hub,)] = hub.execute("SELECT COUNT(*) FROM hub_case").fetchall()
    [(at_station,)] = _rows(demo_dir, 'SELECT COUNT(*) FROM "case"')
    assert at_hub == at_station


def _cells(html: str, table_id: str) -> list[list[str]]:
    """The body rows of one table on a page, as the clerk reads them (tags dropped, cells trimmed)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, f"no table {table_id} on the page"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_demo_county_statistics_show_the_months_ratings(demo_dir: Path) -> None:
    """好差评 in the demo: the county's statistics page counts the month's ratings by level, with a rate."""
    from rules.evaluations import LEVELS
    from sync.hub import create_app
    from sync.hub.config import Config
    from tests.fixtures.hub import login

    with sqlite3.connect(demo_dir / "hub" / "hub.sqlite3") as hub:
        by_level = dict(hub.execute("SELECT level, COUNT(*) FROM hub_evaluation GROUP BY level").fetchall())
        remedies = dict(hub.execute("SELECT status, COUNT(*) FROM hub_remedy GROUP BY status").fetchall())
        [(first, last)] = hub.execute("SELECT MIN(created_at), MAX(created_at) FROM hub_evaluation").fetchall()
    total = sum(by_level.values())
    # a realistic month: mostly 非常满意/满意, a few 基本满意, one or two 不满意 — each with its 整改
    assert total >= 60 and by_level["very_satisfied"] > by_level["satisfied"] > by_level["basically_satisfied"] > 0
    assert 1 <= by_level.get("dissatisfied", 0) <= 2 and "very_dissatisfied" not in by_level
    assert sum(remedies.values()) == by_level["dissatisfied"] and remedies.get("closed")
    assert first[:10] < last[:10], "every rating on one day is no month"
    station_rated = _rows(demo_dir, "SELECT COUNT(*) FROM evaluation")[0][0]
    assert station_rated == total  # the kiosk's ratings all reached the county

    app = create_app(Config, demo_dir / "hub")
    client = app.test_client()
    password = json.loads((demo_dir / "DEMO-LOGINS.json").read_text(encoding="utf-8"))["county"]
    assert login(client, "county", password).status_code == 302
    start = (dt.date.fromisoformat(first[:10]) - dt.timedelta(days=1)).isoformat()
    end = (dt.date.fromisoformat(last[:10]) + dt.timedelta(days=1)).isoformat()
    html = client.get(f"/numbers/statistics?period=range&start={start}&end={end}").get_data(as_text=True)

    good = total - by_level.get("dissatisfied", 0)
    assert _cells(html, "table-satisfaction-summary") == [
        [str(total), str(good), str(total - good), f"{good / total * 100:.1f}%"]]
    assert _cells(html, "table-satisfaction") == [[word, str(by_level.get(level, 0))] for level, word in LEVELS.items()]


def test_the_demo_prints_a_county_admin_who_can_open_the_admin_pages(demo_dir: Path) -> None:
    """Publishing a catalog, station settings and devices are the county admin's: the demo must have one."""
    from sync.hub import create_app
    from sync.hub.config import Config
    from tests.fixtures.hub import login

    password = json.loads((demo_dir / "DEMO-LOGINS.json").read_text(encoding="utf-8"))["countyadmin"]
    client = create_app(Config, demo_dir / "hub").test_client()
    assert login(client, "countyadmin", password).status_code == 302
    for page in ("/catalog", "/access-log", "/numbers/settings"):
        assert client.get(page).status_code == 200, page
