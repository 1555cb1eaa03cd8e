"""Odds and ends of the API: heartbeat alone, nonce pruning, JSON 404s, one event failing inside."""

from __future__ import annotations

import time

from rules import events
from sync import protocol
from sync.hub.models import Event, Nonce, Station
from sync.hub.services import auth, case_view


def test_heartbeat_alone_gzip_wrapped(hub_app, station_a):
    body = protocol.encode_body({"heartbeat": {"queue_length": 0, "app_version": "0.3.0", "free_disk_bytes": 123}})
    response = station_a.request("POST", "/api/v1/heartbeat", body, gzip_body=True)
    assert response.status_code == 200 and response.json["ok"] and station_a.last_verified
    with hub_app.app_context():
        station = Station.by_code(station_a.code)
        assert station.app_version == "0.3.0" and station.free_disk_bytes == 123 and station.heartbeat_at


def test_nonces_pruned_after_three_windows(hub_app, station_a):
    station_a.changes()
    with hub_app.app_context():
        assert Nonce.select().count() == 1
        assert auth.prune_nonces(300, now=time.time() + 60) == 0
        assert auth.prune_nonces(300, now=time.time() + 901) == 1


def test_unknown_api_path_is_json_404(hub_client):
    response = hub_client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_one_event_crashing_is_retryable_and_others_land(hub_app, station_a, make_event, monkeypatch):
    def explode(case, event, now):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(case_view.APPLY, events.NOTE, explode)
    good, bad = make_event(), make_event(kind="case.note")
    results = station_a.results([good, bad])
    assert results[0]["status"] == "accepted"
    assert (results[1]["status"], results[1]["code"], results[1]["retryable"]) == ("rejected", "internal_error", True)
    with hub_app.app_context():
        assert Event.select().count() == 1  # the crashed event's transaction rolled back
    monkeypatch.undo()
    assert station_a.results([bad])[0]["status"] == "accepted"


def test_crash_outside_events_is_signed_json_500(hub_app, station_a, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(hub_app.extensions["hub_platform"], "changes", boom)
    response = station_a.changes()
    assert response.status_code == 500 and response.json["error"] == "internal_error"


def test_case_page_renders_without_snapshot(hub_app, station_a, make_event, approver):
    event = make_event(kind="case.note", payload={"text": "先到的备注"})
    station_a.results([event])
    html = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    assert "未收到办件快照" in html
    from sync.hub.services import decisions

    with hub_app.app_context():
        try:
            decisions.decide(event["case_id"], decisions.DecisionInput(kind="accepted"), clerk="c")
        except decisions.InvalidTransition as exc:
            assert "完整信息" in exc.message
        else:
            raise AssertionError("a case without its snapshot must not be decided")


def test_changes_bad_cursor(station_a):
    response = station_a.request("GET", "/api/v1/changes?cursor=abc")
    assert response.status_code == 400 and station_a.last_verified


def test_unknown_paths_and_methods_answer_json_on_the_api_and_text_elsewhere(hub_client):
    missing = hub_client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json == {"error": "not_found", "message": "接口不存在。"}
    wrong_method = hub_client.delete("/api/v1/time")
    assert wrong_method.status_code == 405 and wrong_method.json["error"] == "method_not_allowed"
    page = hub_client.get("/no-such-page")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and '<h1 id="error-text">页面不存在</h1>' in html
    assert 'name="viewport"' in html and 'href="/q"' in html  # a phone's size, and the way to the progress page
