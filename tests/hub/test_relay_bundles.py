"""POST /api/v1/relay/bundles: a village's sealed bundle forwarded by a township, checked whole."""

from __future__ import annotations

import base64
import io

import pytest

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Event
from sync.usb_bundle import open_bundle, write_bundle

PATH = "/api/v1/relay/bundles"


def bundle_of(village, events, *, batch_secret: str | None = None, seal_secret: str | None = None,
              kind: str = "outbound", station: str | None = None) -> bytes:
    """A bundle as `bundle export` writes it: one signed batch, sealed with the village's key."""
    body = protocol.encode_body({"protocol": 1, "station": village.code, "batch_id": protocol.new_id(),
                                 "heartbeat": {}, "events": events})
    headers = protocol.sign_request(batch_secret or village.secret, "POST", "/api/v1/events", body,
                                    station=village.code, timestamp=1_000_000)  # signed days ago: no clock window
    out = io.BytesIO()
    write_bundle(out, seal_secret or village.secret,
                 {"kind": kind, "bundle_id": protocol.new_id(), "station": station or village.code,
                  "township": "141081102", "seq": 1},
                 {"cursor": 0, "batches": [{"length": len(body), "headers": headers, "events": len(events)}],
                  "files": []}, [body], total_bytes=len(body))
    return out.getvalue()


def forward(township, data: bytes):
    return township.request("POST", PATH, data, headers={"Content-Type": "application/octet-stream"})


def stored(app) -> int:
    with app.app_context(), db.connection_context():
        return Event.select().count()


def test_a_forwarded_bundle_is_taken_once_and_answered_with_a_return_bundle_for_the_village(
        hub_app, station_a, station_b, make_event):
    events = [make_event(), make_event()]
    data = bundle_of(station_a, events)
    first = forward(station_b, data)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert station_b.last_verified  # signed for the township that asked
    assert [r["status"] for r in first.json["results"]] == ["accepted", "accepted"]
    again = forward(station_b, data)  # the township's answer got lost: it forwards the same file again
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert stored(hub_app) == 2
    returned = open_bundle(base64.b64decode(again.json["return_bundle"]), station_a.secret)
    assert returned.header.station == station_a.code and returned.header.kind == "return"
    assert {r["event_id"] for r in returned.content["results"]} == {e["event_id"] for e in events}
    with pytest.raises(Exception, match="被改动|不是用本站密钥"):
        open_bundle(base64.b64decode(again.json["return_bundle"]), station_b.secret)  # the township cannot read it


@pytest.mark.parametrize(("case", "status", "words"), [
    ("garbage", 400, "不是离线包"),
    ("cut", 400, "不完整"),
    ("batch_not_signed_by_the_village", 403, "签名核验"),
    ("sealed_with_another_key", 400, "无法解开"),
    ("unknown_village", 403, "未登记"),
    ("return_bundle", 400, "只接收村站"),
])
def test_a_bundle_that_is_not_the_villages_own_is_refused_whole(hub_app, station_a, station_b, make_event,
                                                                case, status, words):
    events = [make_event()]
    data = {
        "garbage": lambda: b"<html>portal</html>" * 10,
        "cut": lambda: bundle_of(station_a, events)[:-10],
        "batch_not_signed_by_the_village": lambda: bundle_of(station_a, events, batch_secret=station_b.secret),
        "sealed_with_another_key": lambda: bundle_of(station_a, events, seal_secret=station_b.secret),
        "unknown_village": lambda: bundle_of(station_a, events, station="ST999"),
        "return_bundle": lambda: bundle_of(station_a, events, kind="return"),
    }[case]()
    response = forward(station_b, data)
    assert response.status_code == status, response.get_data(as_text=True)
    assert words in response.json["message"]
    assert stored(hub_app) == 0
