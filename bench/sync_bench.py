"""Pushing a backlog to the county: throughput, bytes on the wire, a naive client, the ceiling, a thin link.

The station side is the real ``sync.round.Syncer`` over one ``HubClient`` session; the hub is
``python -m sync.hub run`` (waitress, SQLite) in its own process; between them a
:class:`bench.link.LinkProxy` counts bytes (and, for the thin link, plays 64 kbit/s with
300 ms each way).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from flask import Flask

from bench.hubs import count_events, hub_processes, register
from bench.link import LinkProxy
from bench.station_data import STATION_CODE, fill, make_station
from station.extensions import db
from station.sync_hooks import station_hooks
from sync import protocol
from sync.outbox import OutboxEvent
from sync.round import Syncer
from sync.summary import SyncSummary
from sync.transport import HubClient, HubLink

BATCH_EVENTS = 200  # Syncer's default batch size
HUB_WORKERS = 3  # hub processes behind the proxy, as a county server runs several; the station keeps 3 batches in flight


def _station(workdir: Path, name: str, cases: int) -> tuple[Flask, dict[str, Any]]:
    app = make_station(workdir / name)
    filled = fill(app, cases, events="queued")
    return app, filled


def _queued(app: Flask) -> int:
    with app.app_context(), db.connection_context():
        return OutboxEvent.select().where(OutboxEvent.state == "queued").count()


def _push(app: Flask, link: HubLink, *, full_round: bool = False) -> tuple[float, SyncSummary, int]:
    """Push (or run a full round) with the station's own Syncer; (seconds, summary, batches in flight)."""
    with app.app_context(), db.connection_context():
        syncer = Syncer(HubClient(link), station_hooks(app))
        summary = SyncSummary()
        t0 = time.perf_counter()
        if full_round:
            summary = syncer.run()
        else:
            syncer.push(summary)
        return time.perf_counter() - t0, summary, syncer.in_flight


def _exactly_once(app: Flask, hub_events: list[tuple[str, str, int]]) -> bool:
    with app.app_context(), db.connection_context():
        station = {(e.event_id, e.case_id, e.seq) for e in OutboxEvent.select()}
        all_acked = not OutboxEvent.select().where(OutboxEvent.state != "acked").exists()
    return all_acked and len(hub_events) == len(set(hub_events)) and set(hub_events) == station


def throughput(workdir: Path, cases: int) -> dict[str, Any]:
    """The real client pushes `cases` × 3 queued events to a hub on loopback."""
    app, filled = _station(workdir, "sync-station", cases)
    instance = workdir / "hub-throughput"
    secret = register(instance, [STATION_CODE])[STATION_CODE]
    with hub_processes(instance, workers=HUB_WORKERS, log=workdir / "hub-throughput.log") as hubs:
        proxy = LinkProxy(hubs.ports)
        elapsed, summary, in_flight = _push(app, HubLink(proxy.url, STATION_CODE, secret))
        proxy.close()
    events = filled["events"] + filled["seeds"]
    if summary.error or summary.acknowledged != events:
        raise RuntimeError(f"push incomplete: {summary.as_dict()}")
    return {
        "cases": filled["cases"],
        "events": events,
        "batches": summary.batches,
        "seconds": round(elapsed, 2),
        "events_per_s": round(events / elapsed),
        "request_bytes": proxy.up.bytes,
        "response_bytes": proxy.down.bytes,
        "bytes_per_event": round(proxy.total_bytes / events, 1),
        "exactly_once": _exactly_once(app, count_events(instance)),
        "hub_workers": HUB_WORKERS,
        "batches_in_flight": in_flight,
        "db": app.config["DATABASE"],
    }


def naive(workdir: Path, events: int) -> dict[str, Any]:
    """The same events, one signed POST each (no batching), on the same client and hub."""
    app, _filled = _station(workdir, "naive-station", -(-events // 3))
    instance = workdir / "hub-naive"
    secret = register(instance, [STATION_CODE])[STATION_CODE]
    with hub_processes(instance, log=workdir / "hub-naive.log") as hubs:
        proxy = LinkProxy(hubs.ports[0])
        with app.app_context(), db.connection_context():
            client = HubClient(HubLink(proxy.url, STATION_CODE, secret))
            queued = list(OutboxEvent.select().where(OutboxEvent.state == "queued").order_by(OutboxEvent.id))
            queued = queued[:events]
            t0 = time.perf_counter()
            for event in queued:
                body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": STATION_CODE,
                                             "batch_id": protocol.new_id(), "events": [event.envelope()]})
                status, payload = client.call("POST", "/api/v1/events", body,
                                              headers={"Content-Encoding": "gzip",
                                                       "Content-Type": "application/json"})
                result = (payload.get("results") or [{}])[0]
                if status != 200 or result.get("status") not in ("accepted", "duplicate"):
                    raise RuntimeError(f"naive push refused: {status} {payload}")
                event.state = "acked"
                event.save()
            elapsed = time.perf_counter() - t0
        proxy.close()
    return {
        "events": len(queued),
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(queued) / elapsed),
        "bytes_per_event": round(proxy.total_bytes / len(queued), 1),
    }


def ceiling(station_db: str, workdir: Path) -> dict[str, Any]:
    """The same event rows read from the station outbox and inserted into a plain SQLite table.

    Batches of the client's size, one transaction each, WAL and synchronous=normal like the hub:
    moving rows from one SQLite file to another with no network, no protocol and no checks.
    """
    source = sqlite3.connect(station_db)
    target_path = workdir / "ceiling.sqlite3"
    target_path.unlink(missing_ok=True)
    target = sqlite3.connect(target_path, isolation_level=None)
    target.execute("PRAGMA journal_mode=wal")
    target.execute("PRAGMA synchronous=normal")
    target.execute("CREATE TABLE event (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, case_id TEXT, seq INTEGER, "
                   "kind TEXT, occurred_at TEXT, catalog_version TEXT, deadline TEXT, body TEXT, "
                   "UNIQUE (case_id, seq))")
    t0 = time.perf_counter()
    rows = source.execute("SELECT event_id, case_id, seq, kind, occurred_at, catalog_version, deadline, payload "
                          "FROM outbox_event ORDER BY id").fetchall()
    for start in range(0, len(rows), BATCH_EVENTS):
        target.execute("BEGIN")
        target.executemany("INSERT INTO event (event_id, case_id, seq, kind, occurred_at, catalog_version, "
                           "deadline, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows[start:start + BATCH_EVENTS])
        target.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    source.close()
    target.close()
    return {"events": len(rows), "seconds": round(elapsed, 3), "events_per_s": round(len(rows) / elapsed),
            "batch_events": BATCH_EVENTS}


def thin_link(workdir: Path, cases: int = 200, rate_bps: float = 64_000, latency_s: float = 0.3) -> dict[str, Any]:
    """A day's cases through 64 kbit/s with 300 ms each way: one full sync round (push + pull)."""
    app, filled = _station(workdir, "thin-station", cases - 8)  # + 8 real seed cases = `cases`
    instance = workdir / "hub-thin"
    secret = register(instance, [STATION_CODE])[STATION_CODE]
    with hub_processes(instance, log=workdir / "hub-thin.log") as hubs:
        proxy = LinkProxy(hubs.ports[0], rate_bps=rate_bps, latency_s=latency_s)
        elapsed, summary, _in_flight = _push(app, HubLink(proxy.url, STATION_CODE, secret), full_round=True)
        proxy.close()
    if summary.error or _queued(app):
        raise RuntimeError(f"thin-link sync incomplete: {summary.as_dict()}")
    events = filled["events"] + filled["seeds"]
    return {
        "cases": filled["cases"],
        "events": events,
        "link": f"{rate_bps / 1000:g} kbit/s each way, {latency_s * 1000:g} ms latency each way",
        "seconds": round(elapsed, 2),
        "request_bytes": proxy.up.bytes,
        "response_bytes": proxy.down.bytes,
        "bytes_per_event": round(proxy.total_bytes / events, 1),
        "connections": proxy.connections,
    }


def payload_sizes(station_db: str) -> dict[str, float]:
    """Average raw JSON size of each event kind in the backlog (what gzip starts from)."""
    conn = sqlite3.connect(station_db)
    sizes = {kind: round(avg, 0) for kind, avg in conn.execute(
        "SELECT kind, avg(length(CAST(payload AS BLOB))) FROM outbox_event GROUP BY kind")}
    conn.close()
    return sizes


def run(workdir: Path, cases: int, naive_events: int) -> dict[str, Any]:
    result = throughput(workdir, cases)
    result["payload_bytes_by_kind"] = payload_sizes(result["db"])
    result["ceiling"] = ceiling(result.pop("db"), workdir)
    result["naive"] = naive(workdir, naive_events)
    result["vs_naive"] = round(result["events_per_s"] / result["naive"]["events_per_s"], 1)
    result["vs_ceiling"] = round(result["events_per_s"] / result["ceiling"]["events_per_s"], 3)
    return result


__all__ = ["ceiling", "naive", "run", "thin_link", "throughput"]
