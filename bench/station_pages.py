"""The station as an agent meets it: page latency, intake, cold start and memory.

The station runs as the operator starts it — ``python -m station --instance DIR run`` (waitress)
in its own process — on a database holding 100,000 cases (10,000 in quick mode). Pages are
fetched over loopback HTTP by a ``requests.Session`` logged in through the form, so every figure
includes the WSGI server, the session cookie, the queries and the template.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from bench.common import free_port, rss_mb, spawn, stop, summary_ms
from bench.station_data import PASSWORDS, fill, id_number, intake_items, make_station
from station.samples import complete_form

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(html: str) -> str:
    match = TOKEN.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def login(base: str, role: str = "agent") -> tuple[requests.Session, str]:
    """Log in through the form like a browser; return the session and a CSRF token."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    response = session.post(base + "/login", data={"username": role, "password": PASSWORDS[role],
                                                    "csrf_token": _token(page.text)},
                            allow_redirects=False, timeout=10)
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return session, _token(session.get(base + "/", timeout=10).text)


def cold_start(instance: Path, log: Path) -> tuple[Any, str, float]:
    """Start `python -m station run` on the prepared database; time until /login answers 200."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = spawn(["-m", "station", "--instance", str(instance), "run", "--host", "127.0.0.1", "--port", str(port)],
                 env={"PYTHONDONTWRITEBYTECODE": "0"}, log_path=log)
    deadline = t0 + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"station exited with {proc.returncode}; see {log}")
        try:
            if requests.get(base + "/login", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.perf_counter() > deadline:
            stop(proc)
            raise TimeoutError("station did not answer within 30 s")
        time.sleep(0.01)
    return proc, base, time.perf_counter() - t0


def _sample(session: requests.Session, url: str) -> float:
    t0 = time.perf_counter()
    response = session.get(url, timeout=30)
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed


def _list_urls(db_path: Path, rng: random.Random, total_pages: int) -> dict[str, list[str]]:
    """Case-list queries an agent really makes: by status, village, item, overdue, name, number, page."""
    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute('SELECT applicant_name FROM "case" ORDER BY random() LIMIT 20')]
    numbers = [r[0] for r in conn.execute('SELECT case_no FROM "case" ORDER BY random() LIMIT 20')]
    items = [r[0] for r in conn.execute(
        'SELECT DISTINCT s.item_code FROM "case" c JOIN service_item s ON s.id = c.item_id LIMIT 8')]
    conn.close()
    return {
        "all, page 1": ["/cases/"],
        "status, page 2": [f"/cases/?status={s}&page=2" for s in ("accepted", "completed", "collected")],
        "village, page 3": [f"/cases/?area=141081102{v}&page=3" for v in (203, 205, 207)],
        "item + status": [f"/cases/?item={i}&status=completed" for i in items],
        "overdue": ["/cases/?overdue=1"],
        "name search": [f"/cases/?q={n}" for n in names],
        "case number": [f"/cases/?q={n}" for n in numbers],
        "deep page": [f"/cases/?page={rng.randrange(total_pages // 2, total_pages)}" for _ in range(5)],
    }


CATALOG_QUERIES = ("养老", "ylbx", "shebaoka", "医保", "低保", "dbsq", "高龄", "gljt", "残疾", "户口", "yanglao", "生育")


def run(workdir: Path, cases: int, samples: int, intakes: int) -> dict[str, Any]:
    """Build the station, start it cold, measure pages and intake, read its memory."""
    instance = workdir / "station-pages"
    t0 = time.perf_counter()
    app = make_station(instance)
    filled = fill(app, cases, events="acked")
    setup_s = time.perf_counter() - t0
    db_path = instance / "station.sqlite3"
    forms = _intake_forms(app, intakes)

    proc, base, cold_s = cold_start(instance, workdir / "station-pages.log")
    try:
        session, token = login(base)
        rng = random.Random(5)
        per_page = 30
        lists = _list_urls(db_path, rng, max(2, filled["cases"] // per_page))
        conn = sqlite3.connect(db_path)
        detail_ids = [r[0] for r in conn.execute('SELECT id FROM "case" ORDER BY random() LIMIT ?', (samples,))]
        conn.close()

        # warm-up: every page once (templates compiled, catalog index built, SQLite cache primed)
        for urls in lists.values():
            for url in urls[:2]:
                _sample(session, base + url)
        for q in CATALOG_QUERIES:
            _sample(session, base + "/catalog/?q=" + q)
        for case_id in detail_ids[:5]:
            _sample(session, base + "/cases/" + case_id)

        list_times: list[float] = []
        by_kind: dict[str, list[float]] = {}
        for n in range(samples):
            for kind, urls in lists.items():
                elapsed = _sample(session, base + urls[n % len(urls)])
                list_times.append(elapsed)
                by_kind.setdefault(kind, []).append(elapsed)
        detail_times = [_sample(session, base + "/cases/" + cid) for cid in detail_ids]
        catalog_times = [_sample(session, base + "/catalog/?q=" + CATALOG_QUERIES[n % len(CATALOG_QUERIES)])
                         for n in range(samples)]

        intake_times, new_cases = _intakes(session, base, token, forms)
        rss = rss_mb(proc.pid)
        rss_printed = _print_receipts(session, new_cases[:6], proc.pid)
    finally:
        stop(proc)
    return {
        "cases_in_db": filled["cases"],
        "setup_s": round(setup_s, 1),
        "http": "loopback HTTP to `python -m station run` (waitress, own process), requests.Session",
        "case_list": summary_ms(list_times),
        "case_list_by_query": {k: summary_ms(v) for k, v in by_kind.items()},
        "case_detail": summary_ms(detail_times),
        "catalog_search": summary_ms(catalog_times),
        "intake": summary_ms(intake_times),
        "cold_start_s": round(cold_s, 3),
        "rss_mb": rss,
        "rss_after_receipts_mb": rss_printed,
    }


def _intake_forms(app: Any, count: int) -> list[tuple[int, dict[str, str]]]:
    """Complete forms for several items, each for a new applicant (none is a suspected duplicate)."""
    from station.extensions import db

    rng = random.Random(99)
    with app.app_context(), db.connection_context():
        items = intake_items()
        # applicants from another county (141082): never the same person as a cloned case
        return [(items[n % len(items)].id,
                 complete_form([items[n % len(items)]], id_number(n, rng, county="141082"),
                               name="钱" + "秀英建国志强"[n % 6]))
                for n in range(count)]


def _intakes(session: requests.Session, base: str, token: str,
             forms: list[tuple[int, dict[str, str]]]) -> tuple[list[float], list[str]]:
    """Post complete intake forms; time form post → redirect to the new case. Also the new cases' URLs."""
    times, cases = [], []
    opened: set[int] = set()
    for item_id, form in forms:
        url = f"{base}/intake/item/{item_id}"
        if item_id not in opened:
            session.get(url, timeout=10)  # the agent opens the form first; not timed
            opened.add(item_id)
        data = dict(form, csrf_token=token)
        t0 = time.perf_counter()
        response = session.post(url, data=data, allow_redirects=False, timeout=30)
        elapsed = time.perf_counter() - t0
        if response.status_code != 302 or "/cases/" not in response.headers.get("Location", ""):
            raise RuntimeError(f"intake did not redirect to the case: {response.status_code}")
        times.append(elapsed)
        cases.append(urljoin(url, urlsplit(response.headers["Location"]).path))  # without ?new=1
    return times, cases


def _print_receipts(session: requests.Session, case_urls: list[str], pid: int) -> float:
    """Print receipts (A4 and 80 mm, alternately) as the agent does after intake; the station's memory then.

    The warm-up's pages draw nothing, so its figure leaves out the CJK font a station loads
    with its first PDF (~24 MB for Micro Hei): this one is the station's real day.
    """
    for n, url in enumerate(case_urls):
        doc = ("receipt", "receipt_roll")[n % 2]
        response = session.get(f"{url}/print/{doc}", timeout=30, allow_redirects=False)
        if response.status_code != 200 or response.headers.get("Content-Type") != "application/pdf":
            raise RuntimeError(f"{doc} of {url} answered {response.status_code}")
    return rss_mb(pid)
