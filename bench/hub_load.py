"""The county hub under load: many stations pushing at once to several workers on PostgreSQL.

Each simulated station is a thread with its own ``requests.Session`` that signs its batches
exactly as ``sync.transport.HubClient`` does and checks the hub's answer signature. The events are
real station outbox events (cloned intake cases, three events each) split between stations.
All stations start together on a barrier; each pushes its backlog in batches, then resends its
first batch as if the acknowledgement had been lost. At the end the hub's Event table must hold
every sent event exactly once and nothing else.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import summary_ms
from bench.hubs import count_events, hub_processes, register
from bench.station_data import fill, make_station
from demo.loopback import local_postgres_dsn, throwaway_schema
from station.extensions import db
from sync import protocol
from sync.jobs import busy_delay
from sync.outbox import OutboxEvent


def _backlogs(workdir: Path, stations: int, cases_per_station: int) -> list[list[dict[str, Any]]]:
    """Real outbox events for stations × cases, split by case between the stations."""
    app = make_station(workdir / "load-station")
    fill(app, stations * cases_per_station - 8, events="queued")
    by_case: dict[str, list[dict[str, Any]]] = {}
    with app.app_context(), db.connection_context():
        for event in OutboxEvent.select().order_by(OutboxEvent.case_id, OutboxEvent.seq):
            by_case.setdefault(event.case_id, []).append(event.envelope())  # exactly what the station sends
    backlogs: list[list[dict[str, Any]]] = [[] for _ in range(stations)]
    for n, events in enumerate(by_case.values()):
        backlogs[n % stations].extend(events)
    return backlogs


def batch_body(code: str, events: list[dict[str, Any]], queued_after: int) -> bytes:
    """A batch as a station sends it (sync/push.batch_body): the events and the station's heartbeat.

    Every real batch carries a heartbeat, which the hub parses (one float among it: the clock
    offset) and stores on the station's row; a bench batch without it measured less than the hub does.
    """
    beat = {"app_version": "0.9.0", "schema_version": "0026_appointment_personal_purged",
            "protocol": protocol.PROTOCOL_VERSION, "queue_length": queued_after, "oldest_queued_age_s": 86_400,
            "set_aside_count": 0, "clock_offset_s": 0.125, "free_disk_bytes": 52_000_000_000,
            "station_time": "2026-12-02T08:00:00+08:00"}
    return protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": code, "batch_id": protocol.new_id(),
                                 "heartbeat": beat, "events": events})


class _Station(threading.Thread):
    """A station pushing its backlog: all at once, or (``interval_s``) a batch per scheduled sync with jitter.

    ``resend_first``: after the backlog, the first batch again, as if its acknowledgement was lost.
    """

    def __init__(self, code: str, secret: str, url: str, events: list[dict[str, Any]], batch_events: int,
                 barrier: threading.Barrier, delay_s: float = 0.0, *, interval_s: float = 0.0,
                 resend_first: bool = True) -> None:
        super().__init__(name=code, daemon=True)
        self.delay_s = delay_s
        self.interval_s = interval_s
        self.resend_first = resend_first
        self.code, self.secret, self.url = code, secret, url
        self.bodies = [batch_body(code, events[i:i + batch_events], max(0, len(events) - i - batch_events))
                       for i in range(0, len(events), batch_events)]
        self.sent_ids = [e["event_id"] for e in events]
        self.barrier = barrier
        self.latencies: list[float] = []  # accepted batches (200), from send to verified answer
        self.busy_latencies: list[float] = []  # 503 answers: how fast a turned-away station hears it
        self.rng = random.Random(code)
        self.finished_at = 0.0
        self.statuses: dict[str, int] = {}
        self.resend_statuses: dict[str, int] = {}
        self.error = ""

    def _post(self, session: requests.Session, body: bytes) -> dict[str, Any]:
        """Send one batch; on 503 wait as the station does (Retry-After × 1–2, sync/jobs.busy_delay) and resend."""
        while True:
            headers = protocol.sign_request(self.secret, "POST", "/api/v1/events", body, station=self.code)
            headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
            t0 = time.perf_counter()
            response = session.post(self.url + "/api/v1/events", data=body, headers=headers, timeout=(5, 120))
            elapsed = time.perf_counter() - t0
            if response.status_code != 503:
                break
            self.busy_latencies.append(elapsed)
            time.sleep(busy_delay(protocol.parse_retry_after(response.headers.get("Retry-After")), self.rng))
        self.latencies.append(elapsed)
        if response.status_code != 200 or not protocol.verify_response(
                self.secret, headers[protocol.H_NONCE], response.status_code, response.headers, response.content):
            raise RuntimeError(f"{self.code}: {response.status_code} {response.text[:200]}")
        return response.json()

    def run(self) -> None:
        session = requests.Session()
        try:
            self.barrier.wait()
            time.sleep(self.delay_s)
            for body in self.bodies:
                for result in self._post(session, body)["results"]:
                    self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1
                if self.interval_s:
                    time.sleep(self.interval_s * self.rng.uniform(0.5, 1.5))
            if self.resend_first:  # the acknowledgement of the first batch was "lost": the station sends it again
                for result in self._post(session, self.bodies[0])["results"]:
                    self.resend_statuses[result["status"]] = self.resend_statuses.get(result["status"], 0) + 1
            self.finished_at = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - reported in the figure
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()


def run(workdir: Path, stations: int, cases_per_station: int, workers: int, threads: int,
        batch_events: int = 30, spread_s: float = 0.0) -> dict[str, Any]:
    """Push from `stations` threads to `workers` hub processes on PostgreSQL.

    ``spread_s`` 0: all at the same instant (the worst case). Otherwise each station starts at a
    random moment within that many seconds, as scheduled syncs with jitter arrive.
    """
    dsn = local_postgres_dsn()
    if dsn is None:
        return {"skipped": "PostgreSQL not reachable at 127.0.0.1:5432 (db test, user postgres/root)"}
    backlogs = _backlogs(workdir, stations, cases_per_station)
    codes = [f"ST{n:06d}" for n in range(stations)]
    instance = workdir / "hub-load"
    with throwaway_schema(dsn, "bench") as url:
        secrets = register(instance, codes, url)
        with hub_processes(instance, workers=workers, threads=threads, database_url=url,
                           log=workdir / "hub-load.log") as hubs:
            urls = hubs.urls()
            barrier = threading.Barrier(stations + 1)
            rng = random.Random(7)
            clients = [_Station(code, secrets[code], urls[n % len(urls)], backlogs[n], batch_events, barrier,
                                rng.uniform(0, spread_s)) for n, code in enumerate(codes)]
            for client in clients:
                client.start()
            barrier.wait()
            t0 = time.perf_counter()
            for client in clients:
                client.join()
            elapsed = time.perf_counter() - t0
        stored = count_events(instance, url)
    errors = [c.error for c in clients if c.error]
    sent = [i for c in clients for i in c.sent_ids]
    events = len(sent)
    accepted = sum(c.statuses.get("accepted", 0) for c in clients)
    resent = sum(sum(c.resend_statuses.values()) for c in clients)
    resent_dup = sum(c.resend_statuses.get("duplicate", 0) for c in clients)
    stored_ids = [e[0] for e in stored]
    exactly_once = (not errors and accepted == events and resent_dup == resent
                    and len(stored_ids) == len(set(stored_ids)) and set(stored_ids) == set(sent))
    latencies = [t for c in clients for t in c.latencies]
    busy = [t for c in clients for t in c.busy_latencies]
    drained = sorted(c.finished_at - t0 for c in clients if c.finished_at)
    return {
        "database": "PostgreSQL (throwaway schema, dropped afterwards)",
        "stations": stations,
        "spread_s": spread_s,
        "workers": workers,
        "threads_per_worker": threads,
        "events": events,
        "batches": len(latencies),
        "batch_events": batch_events,
        "seconds": round(elapsed, 2),
        "events_per_s": round((events + resent) / elapsed),
        "batch": summary_ms(latencies) if latencies else None,
        "busy_answers": len(busy),
        "busy_answer": summary_ms(busy) if busy else None,
        "station_drained_s": {"p50": round(drained[len(drained) // 2], 2), "max": round(drained[-1], 2)}
        if drained else None,
        "accepted": accepted,
        "resent": resent,
        "resent_duplicates": resent_dup,
        "stored": len(stored_ids),
        "exactly_once": exactly_once,
        "errors": errors[:5],
    }


def run_both(workdir: Path, stations: int, cases_per_station: int, workers: int, threads: int,
             spread_s: float) -> dict[str, Any]:
    """The burst (the figure with a target), then the same load spread over ``spread_s`` seconds."""
    burst = run(workdir / "burst", stations, cases_per_station, workers, threads)
    if "skipped" not in burst:
        burst["spread"] = run(workdir / "spread", stations, cases_per_station, workers, threads, spread_s=spread_s)
    return burst
