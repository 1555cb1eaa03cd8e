"""The hub's CPU per accepted event, counted in one process: what the province target is made of.

The province run (bench/province.py) measures the hub's CPU from the outside, with HTTP servers,
hundreds of client threads and the machine's other work around it. This counts only the work:
real station batches (cloned intakes, as in hub_load) posted through Flask's test client to a hub
on PostgreSQL, the hub's Python CPU from ``time.process_time`` (the client's signing is under
1 % of it) and the database backends' CPU from /proc, for two batch sizes — 30 (the province
run's) and 100 (a station's first batch, sync/push.py) — so the per-request part and the
per-event part can be told apart.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, host_speed_ms, python_speed_ms
from bench.hub_load import _backlogs, batch_body
from bench.hubs import _config, register
from bench.province import _backend_pids
from demo.loopback import local_postgres_dsn, throwaway_schema
from sync import protocol
from sync.hub import create_app
from sync.hub.extensions import db
from sync.hub.services import tally

APPLICATION_NAME = "bench-ingest-cpu"


def _backend_cpu_s(dsn: str) -> float:
    """CPU seconds of the PostgreSQL backends this bench opened."""
    return sum(cpu_seconds(pid) for pid in _backend_pids(dsn, APPLICATION_NAME))


def _one(workdir: Path, dsn: str, backlogs: list[list[dict[str, Any]]], batch_events: int) -> dict[str, Any]:
    codes = [f"IC{n:06d}" for n in range(len(backlogs))]
    instance = workdir / f"hub-{batch_events}"
    with throwaway_schema(dsn, "ingestcpu") as url:
        secrets = register(instance, codes, url)
        app = create_app(_config(url + f"&application_name={APPLICATION_NAME}"), instance)
        client = app.test_client()
        requests = [(code, batch_body(code, backlogs[n][i:i + batch_events],
                                      max(0, len(backlogs[n]) - i - batch_events)))
                    for n, code in enumerate(codes) for i in range(0, len(backlogs[n]), batch_events)]
        accepted = 0
        pg_before = _backend_cpu_s(dsn)
        cpu_before = time.process_time()
        for code, body in requests:
            headers = protocol.sign_request(secrets[code], "POST", "/api/v1/events", body, station=code)
            headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
            answer = client.post("/api/v1/events", data=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code} {answer.get_data(as_text=True)[:200]}")
            accepted += sum(1 for r in answer.get_json()["results"] if r["status"] == "accepted")
        with app.app_context(), db.connection_context():
            tally.fold()  # the roll-up changes not folded yet are part of the work taken
        hub_cpu = time.process_time() - cpu_before
        pg_cpu = _backend_cpu_s(dsn) - pg_before
        app.extensions["hub_db"].close_all()
    return {
        "batch_events": batch_events,
        "requests": len(requests),
        "accepted": accepted,
        "hub_us_per_event": round(hub_cpu / accepted * 1e6, 1),
        "postgres_us_per_event": round(pg_cpu / accepted * 1e6, 1),
        "cpu_us_per_event": round((hub_cpu + pg_cpu) / accepted * 1e6, 1),
    }


def run(workdir: Path, stations: int, cases_per_station: int, batches: tuple[int, ...] = (30, 100),
        repeats: int = 3) -> dict[str, Any]:
    """Hub + PostgreSQL CPU per accepted event for each batch size: the median of ``repeats`` runs.

    On a shared virtual machine the same code read anywhere from 250 to 450 µs from one minute to
    the next (CPU time stretches when the host is busy); the median of three, with every run kept
    in ``all``, is steadier than one.
    """
    dsn = local_postgres_dsn()
    if dsn is None:
        return {"skipped": "PostgreSQL not reachable at 127.0.0.1:5432 (db test, user postgres/root)"}
    backlogs = _backlogs(workdir / "ingest-cpu-station", stations, cases_per_station)
    before, python_before = host_speed_ms(), python_speed_ms()
    runs = []
    for size in batches:
        tries = sorted((_one(workdir, dsn, backlogs, size) for _ in range(max(1, repeats))),
                       key=lambda r: r["cpu_us_per_event"])
        runs.append({**tries[len(tries) // 2], "all": [r["cpu_us_per_event"] for r in tries]})
    return {"database": "PostgreSQL (throwaway schemas, dropped afterwards)", "stations": stations,
            "events": sum(len(b) for b in backlogs), "runs": runs,
            "host_speed_ms": [before, host_speed_ms()],  # the machine's pace before and after (bench.common)
            "python_speed_ms": [python_before, python_speed_ms()]}


def _post_all(url: str, secrets: dict[str, str], requests_: list[tuple[str, bytes]], connections: int) -> int:
    """Post every batch over ``connections`` keep-alive connections at once; the events accepted.

    A 503 of admission control is waited out and sent again, as a station does; with no more
    connections than the gate's slots (bench/hubs.py starts one process: four) none comes.
    """
    import threading

    import requests

    accepted: list[int] = []

    def worker(k: int) -> None:
        session, taken = requests.Session(), 0
        for n, (code, body) in enumerate(requests_):
            if n % connections != k:
                continue
            while True:
                headers = protocol.sign_request(secrets[code], "POST", "/api/v1/events", body, station=code)
                headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
                answer = session.post(url + "/api/v1/events", data=body, headers=headers, timeout=(5, 120))
                if answer.status_code != 503:
                    break
                time.sleep(0.05)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")
            taken += sum(1 for r in answer.json()["results"] if r["status"] == "accepted")
        accepted.append(taken)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(accepted) != connections:
        raise RuntimeError("a sending thread failed")
    return sum(accepted)


def over_http(workdir: Path, stations: int, cases_per_station: int, connections: tuple[int, ...] = (1, 2, 4),
              batch_events: int = 30) -> dict[str, Any]:
    """The same batches over HTTP to one hub process under waitress, 1, 2 and 4 requests in flight.

    Why: the in-process figure (one request at a time) and the province run's (hundreds of
    stations at once) differed by half again. This tells apart what HTTP costs (one connection,
    one request at a time) from what requests in flight together cost the same process (threads
    taking turns at the GIL, the database backends' contention), which is what a province pays
    at its peak hour and why docs/scaling.md sizes processes by it.
    """
    from bench.common import cpu_seconds as _cpu
    from bench.hubs import hub_processes

    dsn = local_postgres_dsn()
    if dsn is None:
        return {"skipped": "PostgreSQL not reachable at 127.0.0.1:5432 (db test, user postgres/root)"}
    backlogs = _backlogs(workdir / "ingest-http-station", stations, cases_per_station)
    codes = [f"IH{n:06d}" for n in range(len(backlogs))]
    before = python_speed_ms()
    runs = []
    for count in connections:
        instance = workdir / f"hub-http-{count}"
        with throwaway_schema(dsn, "ingesthttp") as url:
            secrets = register(instance, codes, url)
            requests_ = [(code, batch_body(code, backlogs[n][i:i + batch_events],
                                           max(0, len(backlogs[n]) - i - batch_events)))
                         for n, code in enumerate(codes) for i in range(0, len(backlogs[n]), batch_events)]
            with hub_processes(instance, workers=1, threads=24, database_url=url + f"&application_name={APPLICATION_NAME}",
                               log=workdir / f"hub-http-{count}.log") as hubs:
                pg_before = {pid: _cpu(pid) for pid in _backend_pids(dsn, APPLICATION_NAME)}
                hub_before = _cpu(hubs.procs[0].pid)
                accepted = _post_all(hubs.urls()[0], secrets, requests_, count)
                hub_cpu = _cpu(hubs.procs[0].pid) - hub_before
                pg_cpu = sum(_cpu(pid) - pg_before.get(pid, 0.0) for pid in _backend_pids(dsn, APPLICATION_NAME))
        runs.append({"connections": count, "requests": len(requests_), "accepted": accepted,
                     "hub_us_per_event": round(hub_cpu / accepted * 1e6, 1),
                     "postgres_us_per_event": round(pg_cpu / accepted * 1e6, 1),
                     "cpu_us_per_event": round((hub_cpu + pg_cpu) / accepted * 1e6, 1)})
    return {"database": "PostgreSQL (throwaway schemas, dropped afterwards)", "batch_events": batch_events,
            "stations": stations, "runs": runs, "python_speed_ms": [before, python_speed_ms()]}
