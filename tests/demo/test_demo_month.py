"""The demo comes with a month of cases, taken through intake, sync and the county's decisions."""

from __future__ import annotations

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
