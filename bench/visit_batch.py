"""A batch carrying a home visit among case events: the hub still takes the case events at once.

A visit's events file a visit, not a case, and go through the hub's one-event-per-transaction path;
the case events beside them must not follow them there (first version: 400 events took 6.8 s instead
of 0.4 s). Real outbox events: cloned intake cases and one visit recorded through the station's
service; the hub in-process on SQLite, a fresh one per sample.

    python -m bench.visit_batch [--cases 400] [--samples 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hubs import _config, register
from bench.station_data import STATION_CODE, fill, make_station
from station.extensions import db
from station.models import User
from station.services import home_visits
from sync import protocol
from sync.hub import create_app
from sync.outbox import OutboxEvent


def _events(workdir: Path, cases: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`cases` case events and one visit's event, as the station queues them."""
    app = make_station(workdir / "station")
    fill(app, cases, events="queued")
    with app.app_context(), db.connection_context():
        home_visits.record(home_visits.VisitInput(
            visited_on=dt.date.today().isoformat(), started_at="09:30", ended_at="10:40", staff="王代办",
            resident_name="孙福贵", resident_phone="13700002222", address="东关村五组3号", purpose="代办参保登记",
            outcome="done"), User.get(User.username == "agent"))
        queued = [e.envelope() for e in OutboxEvent.select().order_by(OutboxEvent.id)]
    visit = [e for e in queued if e["kind"].startswith("visit.")]
    return [e for e in queued if not e["kind"].startswith("visit.")][:cases], visit


def _post_once(instance: Path, events: list[dict[str, Any]]) -> float:
    """Seconds for a fresh hub to answer one batch of `events`, every one accepted."""
    secret = register(instance, [STATION_CODE])[STATION_CODE]
    app = create_app(_config(None, AUTO_MIGRATE=False), instance)
    client = app.test_client()
    body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": STATION_CODE,
                                 "batch_id": protocol.new_id(), "events": events})
    headers = protocol.sign_request(secret, "POST", "/api/v1/events", body, station=STATION_CODE)
    headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
    t0 = time.perf_counter()
    response = client.post("/api/v1/events", data=body, headers=headers)
    elapsed = time.perf_counter() - t0
    statuses = {r["status"] for r in response.get_json()["results"]}
    app.extensions["hub_db"].close_all()
    if response.status_code != 200 or statuses != {"accepted"}:
        raise RuntimeError(f"{response.status_code} {statuses}")
    return elapsed


def run(workdir: Path, cases: int = 400, samples: int = 3) -> dict[str, Any]:
    case_events, visit = _events(workdir, cases)
    out: dict[str, Any] = {"events": len(case_events), "samples": samples}
    for label, events in (("cases_only", case_events), ("cases_and_a_visit", case_events + visit)):
        times = [_post_once(workdir / f"hub-{label}-{n}", events) for n in range(samples)]
        out[f"{label}_ms"] = round(statistics.median(times) * 1000, 1)
        out[f"{label}_runs_ms"] = [round(t * 1000, 1) for t in times]
    out["ratio"] = round(out["cases_and_a_visit_ms"] / out["cases_only_ms"], 2)
    out["target"] = "cases_and_a_visit_ms < 2 × cases_only_ms"
    out["pass"] = out["ratio"] < 2
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.visit_batch", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--json", help="write the JSON object to this file")
    args = parser.parse_args(argv)
    result = run(Path(tempfile.mkdtemp(prefix="bench-visit-")), args.cases, args.samples)
    text = json.dumps(result, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
