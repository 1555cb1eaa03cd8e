"""Numbers at scale: the county statistics page over a month of 300 stations × 1,000 cases on
PostgreSQL, and a station's month ledger as .xlsx for 3,000 cases.

The county's cases are written with one INSERT … SELECT over generate_series (a benchmark may
seed in bulk; what is timed is the page a county clerk opens); the statistics roll-up is then
filled by migration 0017's backfill, the SQL a county upgrading runs, and its time is reported. The station's cases are cloned
from real intakes by bench.station_data, then its ledger is built through the service.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from pathlib import Path
from typing import Any

from bench.common import percentile, summary_ms
from demo.loopback import local_postgres_dsn, throwaway_schema

CASES_SQL = """
INSERT INTO hub_case (case_id, station_id, case_no, query_code, item_code, impl_code, item_name, applicant_name,
    mode, station_decision, status, catalog_version, statutory_due, committed_due, received_at, last_seq,
    snapshot, created_at, updated_at, received_time, area_code, agent_name, closed_at, assessed_due, commitment,
    deferred_total, deferred_on_time, deferred_late)
SELECT 'bench-' || n, s.id, 'C' || n, 'Q' || n, 'I' || (n %% 40), 'P' || (n %% 40), '事项' || (n %% 40), '申请人' || (n %% 97),
    CASE WHEN n %% 3 = 0 THEN 'proxy' ELSE 'assisted' END,
    (ARRAY['not_collected', 'deferred', 'collected', 'collected', 'collected', 'accepted'])[1 + n %% 6],
    (ARRAY['submitted', 'accepted', 'supplement', 'completed', 'completed', 'delivered', 'rejected'])[1 + n %% 7],
    'bench', r::date + 20 + n %% 7, r::date + 10 + n %% 5, r::text, 1, '{}', now(), now(), r,
    '141081102' || lpad((200 + n %% 12)::text, 3, '0'), '代办员' || (n %% 3),
    CASE WHEN n %% 7 IN (3, 4, 5, 6) THEN r + ((n %% 16) || ' days')::interval END,
    r::date + 7 + n %% 4, n %% 17 = 0,
    CASE WHEN n %% 6 = 1 THEN 1 ELSE 0 END, CASE WHEN n %% 12 = 1 THEN 1 ELSE 0 END,
    CASE WHEN n %% 12 = 7 THEN 1 ELSE 0 END
FROM generate_series(1, __TOTAL__) AS n
CROSS JOIN LATERAL (SELECT __START__::timestamp + ((n::bigint * 7919) %% (__DAYS__ * 86400)) * interval '1 second' AS r) AS t
JOIN hub_station s ON s.code = 'BS' || lpad((1 + n %% __STATIONS__)::text, 4, '0')
"""


def county_statistics(workdir: Path, stations: int, per_station: int, samples: int) -> dict[str, Any]:
    """p95 of the county statistics page (all stations, one month) and of the dashboard, on PostgreSQL."""
    dsn = local_postgres_dsn()
    if dsn is None:
        return {"skipped": "PostgreSQL not reachable at 127.0.0.1:5432"}
    from sync.hub import create_app
    from sync.hub.config import Config
    from sync.hub.extensions import db
    from sync.hub.services import users

    start = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = start.replace(day=1)
    days = (start - month).days + 1
    with throwaway_schema(dsn, "bench_numbers") as url:
        app = create_app(Config.with_overrides(DATABASE_URL=url, READ_INSTANCE_CONFIG=False, TESTING=True,
                                               WTF_CSRF_ENABLED=False), workdir / "numbers-hub")
        t0 = time.perf_counter()
        with app.app_context(), db.connection_context():
            db.execute_sql(
                "INSERT INTO hub_station (code, name, secret, active, created_at, settings, heartbeat) "
                "SELECT 'BS' || lpad(i::text, 4, '0'), '示范站' || i, 'x', true, now(), '{}', '{}' "
                "FROM generate_series(1, %s) AS i", (stations,))
            sql = CASES_SQL
            for name, value in (("TOTAL", stations * per_station), ("START", f"'{month.isoformat()}'"), ("DAYS", days),
                                ("STATIONS", stations)):
                sql = sql.replace(f"__{name}__", str(value))
            db.execute_sql(sql)
            db.execute_sql("ANALYZE hub_case")
            seeded_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            # the roll-up through migration 0017's own backfill: what a county upgrading pays once
            importlib.import_module("sync.hub.migrations.0017_case_tally").backfill(db)
            db.execute_sql("ANALYZE hub_case_tally")
            rollup_s = time.perf_counter() - t0
            tally_rows = db.execute_sql("SELECT COUNT(*) FROM hub_case_tally").fetchone()[0]
            users.create_user("bench", "bench-county-pass-1", name="统计员", role="approver")
        client = app.test_client()
        client.post("/login", data={"username": "bench", "password": "bench-county-pass-1"})
        url_month = f"/numbers/statistics?period=month&day={month.isoformat()}"
        first = client.get(url_month)
        assert first.status_code == 200, first.status_code
        assert f"共 {stations * per_station} 件" in first.get_data(as_text=True)
        from sync.hub.services import statistics

        cold = []  # counted afresh: the first clerk to open the page in two minutes
        for _ in range(max(10, samples // 4)):
            statistics._kept.forget()
            t = time.perf_counter()
            client.get(url_month)
            cold.append(time.perf_counter() - t)
        timings = []  # as every other clerk sees it (figures kept two minutes)
        for _ in range(samples):
            t = time.perf_counter()
            response = client.get(url_month)
            timings.append(time.perf_counter() - t)
            assert response.status_code == 200
        from sync.hub.services import dashboard

        page = client.get("/numbers/").get_data(as_text=True)  # every case in the states' total row
        assert f"<td>{stations * per_station}</td></tr></tbody>" in page, "dashboard total"
        dash_cold = []  # the dashboard's sums counted afresh (kept two minutes, like the statistics)
        for _ in range(max(10, samples // 4)):
            dashboard._kept.forget()
            t = time.perf_counter()
            client.get("/numbers/")
            dash_cold.append(time.perf_counter() - t)
        dash = []  # as every other clerk sees it (station health is always read fresh)
        for _ in range(samples):
            t = time.perf_counter()
            response = client.get("/numbers/")
            dash.append(time.perf_counter() - t)
            assert response.status_code == 200
        app.extensions["hub_db"].close_all()
    return {"stations": stations, "cases": stations * per_station, "month": month.isoformat(),
            "seed_s": round(seeded_s, 1), "rollup_backfill_s": round(rollup_s, 1), "rollup_rows": tally_rows,
            "statistics_page": summary_ms(timings), "statistics_page_cold": summary_ms(cold),
            "dashboard": summary_ms(dash), "dashboard_cold": summary_ms(dash_cold),
            "dashboard_p95_ms": round(percentile(dash, 0.95) * 1000, 1),
            "dashboard_cold_p95_ms": round(percentile(dash_cold, 0.95) * 1000, 1), "p95_ms": round(percentile(timings, 0.95) * 1000, 1),
            "cold_p95_ms": round(percentile(cold, 0.95) * 1000, 1)}


def station_ledger(workdir: Path, cases: int, runs: int = 3) -> dict[str, Any]:
    """Seconds to build a station's month ledger as .xlsx (the worst of `runs`)."""
    from bench.station_data import fill, make_station
    from rules.periods import Period
    from station.extensions import db
    from station.models import User
    from station.services import ledger

    app = make_station(workdir / "ledger-station")
    per_day = max(1, cases // 30)
    fill(app, cases, per_day=per_day)
    today = dt.date.today()
    period = Period("range", today - dt.timedelta(days=31), today)
    timings, cpu = [], []
    size = count = 0
    with app.app_context(), db.connection_context():
        clerk = User.get(User.username == "clerk")
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            made = ledger.export(period, "xlsx", clerk, "127.0.0.1")
            timings.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            size, count = len(made.data), made.count
    # the CPU time says what the work costs when other processes share the cores
    return {"cases": count, "bytes": size, "seconds": round(max(timings), 3),
            "runs_s": [round(t, 3) for t in timings], "cpu_s": [round(t, 3) for t in cpu]}
