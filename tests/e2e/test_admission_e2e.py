"""A hub that admits no more work: the station waits as told, loses nothing, sends nothing twice."""

from __future__ import annotations

import time

import pytest

from sync import jobs
from sync.summary import SyncSummary
from tests.e2e.test_link_states import assert_shown, sync_page
from tests.fixtures.e2e import assert_exactly_once, hub_events, queue_cases, station_events, sync

pytestmark = pytest.mark.slow


def test_a_busy_hub_is_waited_for_and_nothing_is_lost(linked, hub, clerk):
    app = linked
    queue_cases(app, 3)
    before = station_events(app)
    gate = hub.app.extensions["hub_admission"]
    gate.wait_s = 0.01
    for _ in range(gate.slots):
        gate._free.acquire()
    try:
        summary = sync(app)
    finally:
        for _ in range(gate.slots):
            gate._free.release()
    assert summary.retry_after_s == hub.app.config["RETRY_AFTER_S"]
    assert "繁忙" in summary.error and summary.acknowledged == 0
    assert station_events(app) == before  # nothing marked sent or acknowledged
    assert hub_events(hub) == []
    assert_shown(sync_page(clerk), "县级平台繁忙", "繁忙")
    after = sync(app)
    assert after.error == "" and after.queue_left == 0
    assert_exactly_once(app, hub)


def test_after_a_503_the_runner_comes_back_when_told_plus_jitter(app, monkeypatch):
    monkeypatch.setattr(jobs, "sync_round", lambda _app, _hooks: SyncSummary(error="繁忙", retry_after_s=4))
    runner = jobs.SyncRunner(app, hooks=None)
    runner.failures = 2  # an earlier failure streak is neither reset nor lengthened by a busy hub
    delays = []
    for _ in range(20):
        runner.forced.set()
        started = time.time()
        runner.tick()
        delays.append(runner.next_allowed - started)
    assert runner.failures == 2
    assert all(4.0 <= d <= 8.1 for d in delays), delays
    assert max(delays) - min(delays) > 0.5  # jittered: stations turned away together spread out


def test_a_station_is_answered_while_many_others_hold_idle_connections(tmp_path):
    """Stations keep their connection open between syncs; a county has more of them than waitress's default limit.

    With waitress's default ``connection_limit`` (100) the hub stopped accepting once 100 were
    open and the next station waited unseen until an idle one timed out (two minutes).
    """
    import socket

    import requests

    from bench.hubs import hub_processes, register

    register(tmp_path / "hub", [])  # `run` serves an existing hub only
    with hub_processes(tmp_path / "hub", workers=1, threads=4, log=tmp_path / "hub.log") as hubs:
        [port] = hubs.ports
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(150)]
        try:
            time.sleep(0.5)  # let the hub accept them all
            t0 = time.perf_counter()
            answer = requests.get(f"http://127.0.0.1:{port}/api/v1/time", timeout=15)
            waited = time.perf_counter() - t0
        finally:
            for conn in idle:
                conn.close()
    assert answer.status_code == 200
    assert waited < 5, f"answered after {waited:.1f} s"
