"""Request authentication on the real endpoints: signatures, clock, replays, versions."""

from __future__ import annotations

import hashlib
import hmac
import time

from sync import protocol


def test_time_endpoint_is_open(hub_client):
    response = hub_client.get("/api/v1/time")
    assert response.status_code == 200
    assert abs(response.json["server_time"] - time.time()) < 5
    assert response.json["supported_versions"] == [0, 1]


def test_signed_request_gets_signed_answer(station_a):
    response = station_a.changes()
    assert response.status_code == 200
    assert station_a.last_verified
    assert "server_time" in response.json


def test_unknown_station_refused(hub_app, station_a):
    station_a.code = "NOPE"
    response = station_a.changes()
    assert response.status_code == 401
    assert response.json["error"] == "unknown_station"
    assert "server_time" in response.json
    assert protocol.H_HUB_SIGNATURE not in response.headers


def test_wrong_secret_refused(station_a):
    station_a.secret = "wrong"
    response = station_a.changes()
    assert response.status_code == 401 and response.json["error"] == "bad_signature"


def test_tampered_body_refused(station_a, make_event):
    body = protocol.encode_body({"events": [make_event()]})
    headers = protocol.sign_request(station_a.secret, "POST", "/api/v1/events", body, station=station_a.code)
    tampered = protocol.encode_body({"events": [make_event()]})
    response = station_a.client.post("/api/v1/events", data=tampered,
                                     headers={**headers, "Content-Encoding": "gzip"})
    assert response.status_code == 401 and response.json["error"] == "bad_signature"


def test_tampered_path_refused(station_a):
    headers = protocol.sign_request(station_a.secret, "GET", "/api/v1/changes?cursor=0", b"", station=station_a.code)
    response = station_a.client.get("/api/v1/changes?cursor=5", headers=headers)
    assert response.status_code == 401 and response.json["error"] == "bad_signature"


def test_tampered_timestamp_refused(station_a):
    headers = protocol.sign_request(station_a.secret, "GET", "/api/v1/changes", b"", station=station_a.code)
    headers[protocol.H_TIMESTAMP] = str(int(headers[protocol.H_TIMESTAMP]) - 10)
    response = station_a.client.get("/api/v1/changes", headers=headers)
    assert response.status_code == 401 and response.json["error"] == "bad_signature"


def test_replayed_request_refused(station_a):
    headers = protocol.sign_request(station_a.secret, "GET", "/api/v1/changes", b"", station=station_a.code)
    assert station_a.client.get("/api/v1/changes", headers=headers).status_code == 200
    again = station_a.client.get("/api/v1/changes", headers=headers)
    assert again.status_code == 401 and again.json["error"] == "replay"


def test_clock_five_days_wrong_learns_offset(station_a):
    skew = -5 * 86400  # the village PC believes it is five days ago
    station_a.clock_offset_s = skew  # SignedStation signs with time.time() + offset = its wrong clock
    refused = station_a.changes()
    assert refused.status_code == 401 and refused.json["error"] == "clock_skew"
    assert "时间" in refused.json["message"]
    learned = refused.json["server_time"] - (time.time() + skew)  # offset = hub − station
    assert abs(learned - 5 * 86400) < 5
    station_a.clock_offset_s = skew + learned
    assert station_a.changes().status_code == 200
    assert station_a.last_verified


def test_missing_headers_refused(hub_client):
    response = hub_client.get("/api/v1/changes")
    assert response.status_code == 401
    assert response.json["error"] == "version"
    response = hub_client.get("/api/v1/changes", headers={protocol.H_VERSION: "1"})
    assert response.json["error"] == "bad_signature"


def test_v2_refused_with_clear_message(station_a):
    response = station_a.request("GET", "/api/v1/changes", version=2)
    assert response.status_code == 401
    assert response.json["error"] == "version"
    assert "不受支持" in response.json["message"]
    assert response.json["supported_versions"] == [0, 1]


def test_inactive_station_refused(hub_app, station_a):
    from sync.hub.models import Station

    with hub_app.app_context():
        Station.update(active=False).where(Station.code == station_a.code).execute()
    assert station_a.changes().json["error"] == "unknown_station"


def test_unsigned_200_is_not_an_ack(station_a):
    """A captive portal answering 200 with plausible JSON fails verification."""
    body = b'{"results":[]}'
    assert not protocol.verify_response(station_a.secret, "ab" * 16, 200, {"Content-Type": "application/json"}, body)


def test_response_signature_binds_the_request(station_a):
    response = station_a.changes()
    assert station_a.last_verified
    assert not protocol.verify_response(station_a.secret, protocol.new_nonce(), 200, response.headers,
                                        response.get_data())


def _resend_with_version(station, signed_as: int, sent_as: str):
    """A batch signed as one protocol version, its version header then changed on the way."""
    body = protocol.encode_body({"station": station.code, "batch_id": protocol.new_id(), "events": []})
    headers = protocol.sign_request(station.secret, "POST", "/api/v1/events", body, station=station.code,
                                    version=signed_as)
    headers[protocol.H_VERSION] = sent_as
    headers["Content-Encoding"] = "gzip"
    return station.client.post("/api/v1/events", data=body, headers=headers)


def test_version_header_is_under_the_signature(station_a):
    # a proxy turning a v1 request into v0 (whose rules are looser) is caught by the signature…
    response = _resend_with_version(station_a, signed_as=1, sent_as="0")
    assert response.status_code == 401 and response.json["error"] == "bad_signature"
    # …and so is one turning a v0 request into v1
    response = _resend_with_version(station_a, signed_as=0, sent_as="1")
    assert response.status_code == 401 and response.json["error"] == "bad_signature"


def _old_form_headers(station, body: bytes, version_header: str) -> dict[str, str]:
    """Headers signed the version 0 way: five lines, the version not among them."""
    ts, nonce = str(int(time.time())), protocol.new_nonce()
    old_form = "\n".join(["POST", "/api/v1/events", ts, nonce, protocol.sha256_hex(body)]).encode()
    return {protocol.H_STATION: station.code, protocol.H_TIMESTAMP: ts, protocol.H_NONCE: nonce,
            protocol.H_CONTENT_SHA256: protocol.sha256_hex(body), protocol.H_VERSION: version_header,
            protocol.H_SIGNATURE: hmac.new(station.secret.encode(), old_form, hashlib.sha256).hexdigest(),
            "Content-Encoding": "gzip"}


def test_previous_version_signs_the_old_form_and_is_served(station_a):
    """A v0 station (served one version behind) signed five lines, without the version."""
    body = protocol.encode_body({"station": station_a.code, "batch_id": protocol.new_id(), "events": []})
    response = station_a.client.post("/api/v1/events", data=body, headers=_old_form_headers(station_a, body, "0"))
    assert response.status_code == 200, response.get_data(as_text=True)
    # the same old form under the current version's header is refused
    response = station_a.client.post("/api/v1/events", data=body, headers=_old_form_headers(station_a, body, "1"))
    assert response.status_code == 401 and response.json["error"] == "bad_signature"
