"""跨域办 in the demo: a neighbouring county's platform beside the demo county, as a newcomer tries it.

The README's demo command starts a station, its county (A) and the neighbouring county (B) that
handles one item; the month leaves a few such cases forwarded to B. A newcomer logs in at B, decides
one, and the decision comes back through A to the station.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from demo.peer_county import B_AREA, ITEM_NAME, PEER_CODE

ROOT = Path(__file__).resolve().parents[2]
CROSS_AREA_CASES = f"SELECT c.id FROM \"case\" c JOIN service_item i ON i.id = c.item_id WHERE i.name = '{ITEM_NAME}'"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

pytestmark = pytest.mark.slow


def _rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


def test_the_demo_month_leaves_cross_area_cases_waiting_at_the_neighbouring_county(demo_dir: Path) -> None:
    taken = {case_id for (case_id,) in _rows(demo_dir / "station" / "station.sqlite3",
                                             CROSS_AREA_CASES)}
    assert len(taken) >= 3
    # at county B: exactly those cases, filed under county A as a peer, 办理地 B, waiting for B's clerk
    at_b = _rows(demo_dir / "hub-b" / "hub.sqlite3",
                 "SELECT c.case_id, c.status, c.handling_area, s.code, s.is_peer FROM hub_case c "
                 "JOIN hub_station s ON s.id = c.station_id")
    assert {row[0] for row in at_b} == taken
    assert {row[1:] for row in at_b} == {("submitted", B_AREA, PEER_CODE, 1)}
    # county A forwarded each of their events and holds none of them back
    assert _rows(demo_dir / "hub" / "hub.sqlite3", "SELECT state, COUNT(*) FROM hub_peer_forward GROUP BY state") \
        == [("acked", len(_rows(demo_dir / "hub" / "hub.sqlite3",
                                "SELECT event_id FROM hub_event WHERE case_id IN ("
                                + ",".join(f"'{c}'" for c in taken) + ")")))]
    said = (demo_dir / "stdout.txt").read_text(encoding="utf-8")
    assert f"跨域办：{len(taken)} 件“{ITEM_NAME}”已由本县平台转交邻县平台" in said
    assert "countyb" in json.loads((demo_dir / "DEMO-LOGINS.json").read_text(encoding="utf-8"))


def test_the_demo_run_again_still_tells_of_its_cross_area_cases(demo_dir: Path) -> None:
    """A newcomer who runs the demo again on the same folder gets the same month, and its banner says so."""
    again = subprocess.run([sys.executable, "-m", "station", "demo", "--no-serve", "--dir", str(demo_dir),
                            "--cases", "120"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    taken = _rows(demo_dir / "station" / "station.sqlite3", CROSS_AREA_CASES)
    assert f"跨域办：{len(taken)} 件“{ITEM_NAME}”已由本县平台转交邻县平台" in again.stdout


def _free_ports(n: int) -> list[int]:
    probes = [socket.socket() for _ in range(n)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _logged_in(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    token = CSRF.search(session.get(f"{base_url}/login", timeout=30).text).group(1)
    answer = session.post(f"{base_url}/login", data={"username": username, "password": password, "csrf_token": token},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:500]
    return session


def _post(session: requests.Session, base_url: str, token_page: str, path: str, data: dict[str, str]) -> None:
    token = CSRF.search(session.get(base_url + token_page, timeout=30).text).group(1)
    answer = session.post(base_url + path, data={**data, "csrf_token": token}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:500]


def _until(condition, what: str, timeout: float = 90) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_a_decision_taken_at_the_neighbouring_county_reaches_the_demo_station(tmp_path: Path) -> None:
    base = tmp_path / "demo-data"
    port, hub_port, peer_port = _free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATION_", "HUB_"))}
    demo = subprocess.Popen([sys.executable, "-m", "station", "demo", "--dir", str(base), "--cases", "20",
                             "--port", str(port), "--hub-port", str(hub_port), "--peer-hub-port", str(peer_port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _until(lambda: _listening(port) or demo.poll() is not None, "the demo station never listened", 240)
        assert demo.poll() is None, demo.stdout.read().decode("utf-8", "replace")[-3000:]
        logins = json.loads((base / "DEMO-LOGINS.json").read_text(encoding="utf-8"))
        station_db, hub_a_db = base / "station" / "station.sqlite3", base / "hub" / "hub.sqlite3"
        [(case_id,)] = _rows(station_db, CROSS_AREA_CASES + " ORDER BY c.id LIMIT 1")
        # the neighbouring county's clerk accepts and completes it on her own platform
        county_b, b_url = _logged_in(f"http://127.0.0.1:{peer_port}", "countyb", logins["countyb"]), \
            f"http://127.0.0.1:{peer_port}"
        _post(county_b, b_url, f"/cases/{case_id}", f"/cases/{case_id}/decide", {"kind": "accepted"})
        _post(county_b, b_url, f"/cases/{case_id}", f"/cases/{case_id}/decide",
              {"kind": "completed", "result": "approved", "result_text": "核准发放高龄津贴"})
        # county A's admin presses 立即同步 on the peers page: B's decisions come to A
        a_url = f"http://127.0.0.1:{hub_port}"
        county_a = _logged_in(a_url, "countyadmin", logins["countyadmin"])
        _post(county_a, a_url, "/peers", f"/peers/{B_AREA}/sync", {})
        _until(lambda: _rows(hub_a_db, f"SELECT status FROM hub_case WHERE case_id = '{case_id}'") == [("completed",)],
               "county A never recorded the neighbouring county's decision")
        # the station's clerk presses 立即同步: the case is completed at the village, as B decided it
        station_url = f"http://127.0.0.1:{port}"
        clerk = _logged_in(station_url, "clerk", logins["clerk"])
        _post(clerk, station_url, "/sync/", "/sync/now", {})
        _until(lambda: _rows(station_db, f"SELECT status, result FROM \"case\" WHERE id = '{case_id}'")
               == [("completed", "approved")], "the station never showed the neighbouring county's decision")
        page = clerk.get(f"{station_url}/cases/{case_id}", timeout=30).text
        assert "核准发放高龄津贴" in page
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
    # stopping the demo stops the neighbouring county's own process too
    _until(lambda: not _listening(peer_port), "county B's process outlived the demo", 20)
