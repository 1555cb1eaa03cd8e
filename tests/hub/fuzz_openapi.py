"""Schemathesis against ``docs/hub-openapi.yaml``: every generated request, signed as a real
station would sign it, must get an answer below 500 from a hub served on loopback.

Not collected by pytest (schemathesis is not a pinned dependency: see docs/reliability.md). Run::

    pip install schemathesis==4.32.5      # or: pip install --target DIR, then PYTHONPATH
    python -m tests.hub.fuzz_openapi --examples 100 [--postgres]

Requests are signed after schemathesis has built them (a requests session that signs in
``send``), so the generated bodies and query strings reach the handlers instead of stopping at
the signature check. Positive and negative (schema-breaking) cases both run. The JSON line
printed at the end counts requests and server errors; the exit status is 1 if any answer was 5xx.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from demo.loopback import local_postgres_dsn, register_station, start_hub, throwaway_schema
from sync import protocol
from tests.fixtures.config import hub_test_config

SPEC = Path(__file__).resolve().parents[2] / "docs" / "hub-openapi.yaml"
STATION = "ST-FUZZ"


class SigningSession(requests.Session):
    """Signs each prepared request with the station's key, over the exact path and body bytes."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        request.headers.pop("Content-Encoding", None)  # the generated body is never really gzipped
        request.headers.update(protocol.sign_request(self.secret, request.method or "GET", request.path_url, body,
                                                     station=STATION))
        return super().send(request, **kwargs)


def run(base_url: str, secret: str, examples: int) -> dict[str, Any]:
    """Generate and send every operation's cases; return the counts and the first server errors."""
    schema = schemathesis.openapi.from_path(str(SPEC))
    session = SigningSession(secret)
    counts = {"requests": 0, "server_errors": 0, "by_status": {}}
    errors: list[dict[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: Any) -> None:
                response = case.call(base_url=base_url, session=session)
                counts["requests"] += 1
                key = str(response.status_code)
                counts["by_status"][key] = counts["by_status"].get(key, 0) + 1
                if response.status_code >= 500:
                    counts["server_errors"] += 1
                    if len(errors) < 10:
                        errors.append({"operation": case.operation.label, "status": response.status_code,
                                       "body": response.text[:300]})

            try:
                send()
            except Unsatisfiable:
                continue  # nothing to break (GET /time has no parameters and no body)
    return {**counts, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    """Serve a hub (SQLite, or PostgreSQL with ``--postgres``), fuzz it, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="cases per operation and mode")
    parser.add_argument("--postgres", action="store_true", help="a hub on 127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per request otherwise
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        config: dict[str, Any] = {"NONCE_PRUNE_PROBABILITY": 0.0}
        if args.postgres:
            dsn = local_postgres_dsn()
            if dsn is None:
                print("PostgreSQL not reachable", file=sys.stderr)
                return 2
            schema_cm = throwaway_schema(dsn, "fuzz")
            config["DATABASE_URL"] = schema_cm.__enter__()
        try:
            hub = start_hub(Path(folder) / "hub", config_class=hub_test_config(**config))
            try:
                secret = register_station(hub.app, STATION, "模糊测试站")
                report = run(hub.url + "/api/v1", secret, args.examples)
            finally:
                hub.stop()
                database = hub.app.extensions["hub_db"]
                if hasattr(database, "close_all"):
                    database.close_all()
        finally:
            if args.postgres:
                schema_cm.__exit__(None, None, None)
    report.update(backend="postgres" if args.postgres else "sqlite", seconds=round(time.monotonic() - started, 1))
    print(json.dumps(report, ensure_ascii=False))
    return 1 if report["server_errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
