"""Admission control: a hub process with no slot free turns work away at once with 503 + Retry-After.

The refusal comes before authentication, so it costs no database work: the nonce is not spent
and the very same signed request is accepted once a slot is free.
"""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from sync import protocol
from sync.hub import create_app
from sync.hub.admission import Admission, HubBusy
from sync.hub.models import Event, Nonce
from tests.fixtures.config import hub_test_config


def _fill(gate: Admission) -> None:
    for _ in range(gate.slots):
        assert gate._free.acquire(timeout=1)


def _empty(gate: Admission) -> None:
    for _ in range(gate.slots):
        gate._free.release()


def test_a_full_hub_answers_503_with_retry_after_and_spends_nothing(hub_app, station_a, make_event):
    gate: Admission = hub_app.extensions["hub_admission"]
    gate.wait_s = 0.01
    body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": station_a.code,
                                 "batch_id": protocol.new_id(), "heartbeat": {}, "events": [make_event()]})
    nonce, timestamp = secrets.token_hex(16), int(time.time())
    _fill(gate)
    try:
        busy = station_a.request("POST", "/api/v1/events", body, nonce=nonce, timestamp=timestamp, gzip_body=True)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == str(hub_app.config["RETRY_AFTER_S"])
        assert busy.json["error"] == "busy" and "繁忙" in busy.json["message"]
        assert busy.json["retry_after_s"] == hub_app.config["RETRY_AFTER_S"]
        # the heartbeat and the clock are not gated: a station can still say it is alive
        assert station_a.post_json("/api/v1/heartbeat", {"queue_length": 3}).status_code == 200
        with hub_app.app_context():
            assert Event.select().count() == 0
            assert not Nonce.select().where(Nonce.value == nonce).exists()  # the nonce was not spent
    finally:
        _empty(gate)
    again = station_a.request("POST", "/api/v1/events", body, nonce=nonce, timestamp=timestamp, gzip_body=True)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert [r["status"] for r in again.json["results"]] == ["accepted"]


def test_pulls_and_uploads_are_gated_too(hub_app, station_a):
    gate: Admission = hub_app.extensions["hub_admission"]
    gate.wait_s = 0.01
    _fill(gate)
    try:
        assert station_a.changes(0).status_code == 503
        assert station_a.request("PUT", "/api/v1/attachments/" + "a" * 64, b"x").status_code == 503
        assert station_a.post_json("/api/v1/access-log", {"entries": []}).status_code == 503
    finally:
        _empty(gate)
    assert station_a.changes(0).status_code == 200


def test_the_gate_admits_its_slots_and_turns_the_rest_away():
    gate = Admission(slots=2, wait_s=0.05, retry_after_s=3)
    admitted, refused = [], []
    start = threading.Barrier(5)

    def worker() -> None:
        start.wait()
        try:
            with gate.slot():
                admitted.append(1)
                time.sleep(0.4)
        except HubBusy as busy:
            refused.append(busy.retry_after_s)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 2 and refused == [3, 3, 3]
    assert (gate.admitted, gate.refused) == (2, 3)


def test_a_short_wait_absorbs_a_small_burst():
    gate = Admission(slots=1, wait_s=1.0, retry_after_s=3)
    done = []

    def worker() -> None:
        with gate.slot():
            time.sleep(0.05)
            done.append(1)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [1, 1, 1] and gate.refused == 0


def test_no_slots_means_no_gate():
    gate = Admission(slots=0, wait_s=0.0, retry_after_s=3)
    with gate.slot(), gate.slot():
        pass
    assert gate.refused == 0


def test_retry_after_is_bounded():
    assert protocol.parse_retry_after("7") == 7
    assert protocol.parse_retry_after("0") == 1
    assert protocol.parse_retry_after("99999") == protocol.MAX_RETRY_AFTER_S
    assert protocol.parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == 5
    assert protocol.parse_retry_after(None) == 5


def test_beyond_the_waiting_room_a_request_is_turned_away_without_waiting():
    """In a burst the server's threads must not each sit out the whole wait before their 503."""
    gate = Admission(slots=1, wait_s=1.0, retry_after_s=3, waiting=1)
    holding, release = threading.Event(), threading.Event()
    waited: list[float] = []

    def holder() -> None:
        with gate.slot():
            holding.set()
            release.wait(5)

    def waiter() -> None:
        with gate.slot():
            waited.append(1)

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(5)
    second = threading.Thread(target=waiter)  # takes the one place in the waiting room
    second.start()
    time.sleep(0.1)
    t0 = time.perf_counter()
    with pytest.raises(HubBusy):
        with gate.slot():
            pass
    refused_after = time.perf_counter() - t0
    release.set()
    first.join()
    second.join()
    assert refused_after < 0.5  # not the full second of the wait
    assert waited == [1] and (gate.admitted, gate.refused) == (2, 1)


def test_the_slots_are_twice_the_process_share_of_the_cores_unless_set(tmp_path, monkeypatch):
    """Four hub processes on a 2-core machine get 1 slot each (16 in all answered the burst's p95 late)."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)

    def slots(**settings: object) -> int:
        app = create_app(hub_test_config(**settings), tmp_path / f"hub-{len(settings)}-{settings}")
        return app.extensions["hub_admission"].slots

    assert slots() == 4  # one process, 2 cores: the old default
    assert slots(NODE_PROCESSES=2) == 2
    assert slots(NODE_PROCESSES=4) == 1
    assert slots(NODE_PROCESSES=8) == 1  # never none
    assert slots(NODE_PROCESSES=4, ADMISSION_SLOTS=3) == 3  # a setting wins
    assert slots(ADMISSION_SLOTS=0) == 0  # the gate off, as before
