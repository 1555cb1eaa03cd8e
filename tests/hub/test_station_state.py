"""GET /api/v1/station/state: what the hub holds of the asking station, and only of it."""

from __future__ import annotations

import datetime as dt

from rules import events
from tests.fixtures.hub import case_snapshot


def test_a_station_learns_its_cases_last_seq_and_each_days_last_case_number(station_a, station_b, make_event):
    first, second = make_event(), make_event(payload=case_snapshot(case_no="140000001001202611200007"))
    note = make_event(case_id=first["case_id"], seq=2, kind=events.NOTE)
    assert [r["status"] for r in station_a.results([first, second, note])] == ["accepted"] * 3
    other = make_event(payload=case_snapshot(case_no="140000001001202611200042"))
    assert station_b.results([other])[0]["status"] == "accepted"

    answer = station_a.request("GET", "/api/v1/station/state")
    assert answer.status_code == 200 and station_a.last_verified
    assert answer.json["cases"] == {first["case_id"]: 2, second["case_id"]: 1}  # not station B's case
    assert answer.json["case_numbers"] == {"20261120": 7}

    since = (dt.date.today() + dt.timedelta(days=3)).isoformat()  # nothing touched since then
    assert station_a.request("GET", f"/api/v1/station/state?since={since}").json["cases"] == {}
    today = dt.date.today().isoformat()
    assert len(station_a.request("GET", f"/api/v1/station/state?since={today}").json["cases"]) == 2


def test_a_malformed_since_is_a_signed_400(station_a):
    answer = station_a.request("GET", "/api/v1/station/state?since=yesterday")
    assert answer.status_code == 400 and station_a.last_verified
    assert answer.json["error"] == "bad_request"


def test_a_station_gets_back_its_own_cases_events_and_never_another_stations(station_a, station_b, make_event):
    first = make_event()
    note = make_event(case_id=first["case_id"], seq=2, kind=events.NOTE)
    assert [r["status"] for r in station_a.results([first, note])] == ["accepted"] * 2
    other = make_event(payload=case_snapshot(case_no="140000001001202611200042"))
    assert station_b.results([other])[0]["status"] == "accepted"

    answer = station_a.request("GET", f"/api/v1/station/cases/{first['case_id']}/events")
    assert answer.status_code == 200 and station_a.last_verified
    assert [(e["event_id"], e["seq"]) for e in answer.json["events"]] == [(first["event_id"], 1), (note["event_id"], 2)]
    assert answer.json["events"][0]["payload"] == first["payload"]  # opened, as the station sent it

    refused = station_a.request("GET", f"/api/v1/station/cases/{other['case_id']}/events")
    assert refused.status_code == 404 and refused.json["error"] == "not_found"  # station B's case
    assert "events" not in refused.json
    assert station_a.request("GET", "/api/v1/station/state").json["access_log"] == {"seq": 0, "hash": "0" * 64}
