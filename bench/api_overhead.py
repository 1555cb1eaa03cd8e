"""The hub's CPU per HTTP request before any of our work: a do-nothing signed-API call and a 503.

Every batch a station sends pays this once, and every 503 of a burst pays it for nothing
accepted, so it is part of the province's CPU per event (docs/scaling.md). Counted in process
through the hub's WSGI callable (``time.process_time``, environs built beforehand, so only the
hub's work is timed) and, for ``GET /api/v1/time``, over waitress on loopback (the hub process's
CPU from /proc, its idle CPU subtracted): what a real server adds on top of Flask.
"""

from __future__ import annotations

import http.client
import io
import time
from pathlib import Path
from statistics import median
from typing import Any

from werkzeug.test import EnvironBuilder

from bench.common import cpu_seconds, free_port, spawn, stop, wait_for_port
from bench.hubs import _config, register
from sync import protocol
from sync.hub import create_app


def _cpu_us_per_request(app: Any, environs: list[dict[str, Any]]) -> float:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        return None

    before = time.process_time()
    for environ in environs:
        body = app(environ, start_response)
        b"".join(body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return (time.process_time() - before) / len(environs) * 1e6


def _environs(path: str, method: str, n: int, body: bytes = b"") -> list[dict[str, Any]]:
    template = EnvironBuilder(path=path, method=method, data=body,
                              headers={"Content-Type": "application/json"} if body else None).get_environ()
    environs = []
    for _ in range(n):
        environ = dict(template)
        if body:
            environ["wsgi.input"] = io.BytesIO(body)
        environs.append(environ)
    return environs


def in_process(instance: Path, requests: int, repeats: int) -> dict[str, Any]:
    """µs of the hub's CPU per GET /api/v1/time and per 503 (every slot held), median of ``repeats``."""
    register(instance, [])
    app = create_app(_config(None), instance)
    body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "events": []}, compress=False)
    _cpu_us_per_request(app, _environs("/api/v1/time", "GET", 200))  # warm up
    times = [_cpu_us_per_request(app, _environs("/api/v1/time", "GET", requests)) for _ in range(repeats)]
    gate = app.extensions["hub_admission"]
    gate.wait_s = 0.0  # a refusal that waited cost no CPU while waiting; count only the work
    for _ in range(gate.slots):
        gate.acquire()
    try:
        busy = [_cpu_us_per_request(app, _environs("/api/v1/events", "POST", requests, body))
                for _ in range(repeats)]
    finally:
        for _ in range(gate.slots):
            gate.release()
    app.extensions["hub_db"].close_all()
    return {"requests": requests, "time_us": round(median(times), 1), "time_all": [round(t, 1) for t in times],
            "busy_503_us": round(median(busy), 1), "busy_all": [round(b, 1) for b in busy],
            "refused": gate.refused}


def over_waitress(instance: Path, requests: int) -> dict[str, Any]:
    """µs of the hub process's CPU per GET /api/v1/time on one keep-alive connection over loopback."""
    port = free_port()
    proc = spawn(["-m", "sync.hub", "run", "--port", str(port), "--threads", "4"],
                 env={"HUB_INSTANCE_PATH": str(instance)})
    try:
        wait_for_port(port, 30, proc)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def get() -> None:
            connection.request("GET", "/api/v1/time")
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"GET /api/v1/time: {answer.status}")

        for _ in range(200):
            get()
        idle_before, idle_t0 = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(1.0)
        idle_rate = (cpu_seconds(proc.pid) - idle_before) / (time.perf_counter() - idle_t0)
        cpu_before, t0 = cpu_seconds(proc.pid), time.perf_counter()
        for _ in range(requests):
            get()
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(proc.pid) - cpu_before - idle_rate * wall
        connection.close()
    finally:
        stop(proc)
    return {"requests": requests, "time_us": round(cpu / requests * 1e6, 1),
            "requests_per_s": round(requests / wall, 1)}


def run(workdir: Path, requests: int, repeats: int = 3) -> dict[str, Any]:
    """Both measurements on one hub instance (SQLite: neither request reaches the database)."""
    instance = workdir / "api-overhead-hub"
    result = in_process(instance, requests, repeats)
    result["waitress"] = over_waitress(instance, requests)
    return result
