"""What an API request costs the hub before any work: no cookie session, no login user, and a 503
answered in front of Flask — while the clerk's pages keep their sessions, idle timeout and CSRF.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import request_started

from sync import protocol
from sync.hub import create_app
from tests.fixtures.config import hub_test_config
from tests.fixtures.hub import SignedStation, _make_station
from tests.station.test_headers import assert_safety_headers


@pytest.fixture
def one_slot_hub(tmp_path):
    """A hub process with one admission slot and a short wait, as under a burst."""
    return create_app(hub_test_config(ADMISSION_SLOTS=1, ADMISSION_WAIT_S=0.05), tmp_path / "hub-instance")


@pytest.fixture(params=[0, 1], ids=["direct", "behind-a-proxy"])
def one_slot_hub_any_proxy(request, tmp_path):
    """The same, served directly or behind a trusted proxy (ProxyFix wraps the gate)."""
    return create_app(hub_test_config(ADMISSION_SLOTS=1, ADMISSION_WAIT_S=0.05, TRUSTED_PROXIES=request.param),
                      tmp_path / "hub-instance")


@contextmanager
def _slot_held(app, station, monkeypatch) -> Iterator[list]:  # noqa: ANN001
    """The hub's one slot held by another signed pull of ``station``, stopped inside its view until the block ends.

    Yields the list its answer is put in once released.
    """
    platform = app.extensions["hub_platform"]
    entered, release = threading.Event(), threading.Event()
    real = platform.changes

    def slow_changes(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        entered.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(platform, "changes", slow_changes)
    holder = SignedStation(app, station.code, station.secret)
    answers: list = []
    pulling = threading.Thread(target=lambda: answers.append(holder.changes(0)))
    pulling.start()
    assert entered.wait(10)
    try:
        yield answers
    finally:
        release.set()
        pulling.join(10)
        monkeypatch.setattr(platform, "changes", real)


def test_an_api_answer_sets_no_cookie_and_never_reads_the_clerk_behind_the_cookie(hub_app, approver, station_a,
                                                                                  caplog):
    """A clerk's cookie sent along (same browser, a proxy) is ignored: no user loaded, no session refreshed."""
    cookie = approver.client.get_cookie("session").value
    station_a.client.set_cookie("session", cookie)
    with approver.client.session_transaction() as session:
        seen = session["_seen"]
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        answers = [station_a.client.get("/api/v1/time"), station_a.post_json("/api/v1/heartbeat", {}),
                   station_a.changes(0)]
    for answer in answers:
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert "Set-Cookie" not in answer.headers
        assert "Cookie" not in answer.headers.get("Vary", "")
    queries = [record.getMessage() for record in caplog.records if record.name == "peewee"]
    assert queries and not [q for q in queries if "hub_user" in q]
    with approver.client.session_transaction() as session:
        assert session["_seen"] == seen  # the clerk's session is neither refreshed nor ended by the API


def test_a_page_still_refreshes_its_idle_clock_and_refuses_a_post_without_csrf(hub_app, approver):
    with approver.client.session_transaction() as session:
        session["_seen"] -= 20 * 60
    assert approver.get("/cases").status_code == 200
    with approver.client.session_transaction() as session:
        assert session["_seen"] >= time.time() - 5  # refreshed by the page
    refused = approver.client.post("/logout", data={})  # no CSRF token
    assert refused.status_code == 400
    assert approver.get("/cases").status_code == 200  # still logged in


def test_a_busy_hub_answers_503_in_front_of_flask_with_the_full_shape(one_slot_hub_any_proxy, monkeypatch):
    app = one_slot_hub_any_proxy
    station = _make_station(app, "ST-A", "站点甲")
    started, connected = [], []
    database = app.extensions["hub_db"]
    real_connect = database._connect

    def counting_connect(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        connected.append(threading.get_ident())
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(database, "_connect", counting_connect)
    with _slot_held(app, station, monkeypatch) as first:
        request_started.connect(lambda sender, **extra: started.append(1), app, weak=False)  # from now on
        busy = station.post_json("/api/v1/events", {"protocol": protocol.PROTOCOL_VERSION, "events": []})
    assert busy.status_code == 503
    assert set(busy.json) == {"error", "message", "server_time", "retry_after_s"}
    assert busy.json["error"] == "busy" and "繁忙" in busy.json["message"]
    assert abs(busy.json["server_time"] - time.time()) < 5
    assert busy.json["retry_after_s"] == app.config["RETRY_AFTER_S"]
    assert busy.headers["Retry-After"] == str(app.config["RETRY_AFTER_S"])
    assert busy.headers["Content-Type"] == "application/json"
    assert_safety_headers("api.post_events", busy)
    assert "Set-Cookie" not in busy.headers
    assert started.count(1) == 0, "Flask built a request for the refusal"
    assert threading.get_ident() not in connected, "the refusal opened a database connection"
    assert first[0].status_code == 200  # the admitted pull was answered as usual
    gate = app.extensions["hub_admission"]
    assert (gate.admitted, gate.refused) == (1, 1)


def test_the_slot_is_held_until_flask_is_done_and_given_back_even_on_an_error(one_slot_hub, monkeypatch):
    app = one_slot_hub
    station = _make_station(app, "ST-A", "站点甲")
    with _slot_held(app, station, monkeypatch) as answers:
        assert station.changes(0).status_code == 503  # the one slot is held inside the view
        assert station.post_json("/api/v1/heartbeat", {}).status_code == 200  # not gated
    assert answers[0].status_code == 200
    assert station.changes(0).status_code == 200  # given back once Flask answered

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("platform down")

    monkeypatch.setattr(app.extensions["hub_platform"], "changes", broken)
    assert station.changes(0).status_code == 500
    monkeypatch.undo()
    assert station.changes(0).status_code == 200  # the failed request gave its slot back
    # and when what is behind the gate raises out of it (Flask turned the view's error into a 500 above)
    monkeypatch.setattr(app.wsgi_app, "inner", broken)
    with pytest.raises(RuntimeError):
        station.changes(0)
    monkeypatch.undo()
    assert station.changes(0).status_code == 200  # the one slot came back: not a 503 after the wait
    gate = app.extensions["hub_admission"]
    assert (gate.admitted, gate.refused) == (6, 1)

