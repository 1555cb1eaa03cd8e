"""Two hub processes on one PostgreSQL, requests alternating between them as a load balancer would.

What the protocol promises must not live in one process: a nonce spent at one node is a replay at
the other, the public page's rate limit counts lookups at both, and the changes feed pages through
both nodes without skipping or repeating a change. Real processes (`python -m sync.hub run`), so
no module-level state can be shared by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.hubs import hub_processes, register
from demo.loopback import local_postgres_dsn, throwaway_schema
from sync import protocol
from sync.hub import create_app
from sync.hub.config import Config
from sync.hub.extensions import db
from sync.hub.models import HubCase
from sync.hub.services import decisions
from tests.fixtures.hub import case_snapshot

pytestmark = pytest.mark.slow

CODE = "ST000001"


@pytest.fixture
def two_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], str, str, Path]]:
    dsn = local_postgres_dsn()
    if dsn is None:
        pytest.skip("!!! POSTGRESQL NOT REACHABLE at 127.0.0.1:5432 — the two-node hub test did NOT run !!!")
    instance = tmp_path / "hub"
    monkeypatch.setenv("HUB_PUBLIC_LOOKUP_LIMIT", "6")  # the hub processes inherit it
    with throwaway_schema(dsn, "nodes") as url:
        secret = register(instance, [CODE], url)[CODE]
        with hub_processes(instance, workers=2, threads=8, database_url=url, log=tmp_path / "nodes.log") as hubs:
            yield hubs.urls(), secret, url, instance


def _signed(secret: str, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return protocol.sign_request(secret, method, path, body, station=CODE)


def _push(url: str, secret: str, events: list[dict]) -> requests.Response:
    body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": CODE,
                                 "batch_id": protocol.new_id(), "heartbeat": {}, "events": events})
    headers = {**_signed(secret, "POST", "/api/v1/events", body), "Content-Encoding": "gzip"}
    return requests.post(url + "/api/v1/events", data=body, headers=headers, timeout=30)


def _event(n: int) -> dict:
    snapshot = case_snapshot(case_no=f"1400000010012026120100{n:02d}", query_code=f"K7P2{'ABCDEFGHJKLM'[n]}Q")
    return {"event_id": protocol.new_id(), "case_id": protocol.new_id(), "seq": 1, "kind": "case.submitted",
            "occurred_at": "2026-12-01T09:00:00+08:00", "catalog_version": "2026.11-demo",
            "deadline": "2026-12-18", "payload": snapshot}


def test_a_nonce_spent_at_one_node_is_a_replay_at_the_other(two_nodes):
    (a, b), secret, _url, _instance = two_nodes
    headers = _signed(secret, "GET", "/api/v1/changes?cursor=0")
    assert requests.get(a + "/api/v1/changes?cursor=0", headers=headers, timeout=30).status_code == 200
    again = requests.get(b + "/api/v1/changes?cursor=0", headers=headers, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "replay"


def test_the_public_pages_limit_counts_lookups_at_both_nodes(two_nodes):
    (a, b), _secret, _url, _instance = two_nodes
    statuses = [requests.get((a, b)[n % 2] + "/q/ABCD2345", timeout=30).status_code for n in range(8)]
    assert statuses == [404] * 6 + [429, 429], statuses  # 6 allowed in all, not 6 per node


def test_the_changes_feed_pages_through_both_nodes_without_a_gap_or_a_repeat(two_nodes):
    (a, b), secret, url, instance = two_nodes
    events = [_event(n) for n in range(12)]
    for n in range(0, 12, 3):  # pushes alternate between the nodes too
        response = _push((a, b)[n // 3 % 2], secret, events[n:n + 3])
        assert response.status_code == 200, response.text
        assert {r["status"] for r in response.json()["results"]} == {"accepted"}
    # the same batch again, at the other node: every event is a duplicate, nothing stored twice
    resent = _push(b, secret, events[0:3])
    assert [r["status"] for r in resent.json()["results"]] == ["duplicate"] * 3
    # the county decides every case (a third process writing on the same database)
    county = create_app(Config.with_overrides(DATABASE_URL=url, READ_INSTANCE_CONFIG=False, AUTO_MIGRATE=False),
                        instance)
    with county.app_context(), db.connection_context():
        assert HubCase.select().count() == 12
        for event in events:
            decisions.decide(event["case_id"], decisions.DecisionInput(kind="accepted"), clerk="county")
    county.extensions["hub_db"].close_all()
    seen: list[int] = []
    cursor, turn = 0, 0
    while True:  # one change per page, each page from the other node
        path = f"/api/v1/changes?cursor={cursor}&limit=1"
        page = requests.get((a, b)[turn % 2] + path, headers=_signed(secret, "GET", path), timeout=30).json()
        turn += 1
        seen += [c["change_id"] for c in page["changes"] if c["kind"] != "catalog.published"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 12, seen
    assert seen == sorted(seen)
