"""The wire format on its own: signing round trips, tampering, body limits, envelopes."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from sync import protocol as p

SECRET = "s3cret-key-for-tests"


def _signed(body: bytes = b"", path: str = "/api/v1/events", **kw):
    return p.sign_request(SECRET, "POST", path, body, station="ST001", **kw)


def test_sign_verify_round_trip():
    body = p.encode_body({"a": "中文"})
    headers = _signed(body)
    signed = p.verify_request(SECRET, "POST", "/api/v1/events", headers, body)
    assert signed.station == "ST001"
    assert signed.version == p.PROTOCOL_VERSION
    assert signed.body_sha256 == p.sha256_hex(body)


def test_headers_are_found_whatever_their_case():
    """A proxy may pass header names in lower or upper case; a plain dict of them is read the same."""
    body = p.encode_body({"a": "中文"})
    headers = {name.lower() if n % 2 else name.upper(): value
               for n, (name, value) in enumerate(p.sign_request(SECRET, "POST", "/api/v1/events", body,
                                                                station="ST001", device=3).items())}
    signed = p.verify_request(SECRET, "POST", "/api/v1/events", headers, body)
    assert (signed.station, signed.device, signed.body_sha256) == ("ST001", 3, p.sha256_hex(body))


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h, b, path: (h, b + b"x", path), id="body"),
        pytest.param(lambda h, b, path: (h, b, path + "?x=1"), id="path"),
        pytest.param(lambda h, b, path: ({**h, p.H_TIMESTAMP: str(int(h[p.H_TIMESTAMP]) + 1)}, b, path),
                     id="timestamp"),
        pytest.param(lambda h, b, path: ({**h, p.H_NONCE: "0" * 32}, b, path), id="nonce"),
        pytest.param(lambda h, b, path: (h, b, path.upper()), id="path-case"),
    ],
)
def test_tampering_is_refused(mutate):
    body = p.encode_body({"n": 1})
    headers, body2, path = mutate(_signed(body), body, "/api/v1/events")
    with pytest.raises(p.ProtocolError) as info:
        p.verify_request(SECRET, "POST", path, headers, body2)
    assert info.value.code == p.ERR_BAD_SIGNATURE


def test_wrong_secret_and_method_refused():
    headers = _signed(b"")
    with pytest.raises(p.ProtocolError):
        p.verify_request("other", "POST", "/api/v1/events", headers, b"")
    with pytest.raises(p.ProtocolError):
        p.verify_request(SECRET, "GET", "/api/v1/events", headers, b"")


def test_clock_skew_refused_and_offset_corrects_it(monkeypatch):
    five_days = 5 * 86400
    real_now = time.time()
    monkeypatch.setattr(p.time, "time", lambda: real_now - five_days)  # the village PC's clock
    headers = _signed(b"")
    with pytest.raises(p.ProtocolError) as info:
        p.verify_request(SECRET, "POST", "/api/v1/events", headers, b"", now=real_now)
    assert info.value.code == p.ERR_CLOCK_SKEW
    # The station learned offset = server_time − local time and signs with it.
    fixed = _signed(b"", clock_offset_s=real_now - (real_now - five_days))
    p.verify_request(SECRET, "POST", "/api/v1/events", fixed, b"", now=real_now)


def test_versions():
    assert p.parse_version("1") == 1
    assert p.parse_version("0") == 0
    with pytest.raises(p.ProtocolError) as info:
        p.parse_version("2")
    assert info.value.code == p.ERR_VERSION and "不受支持" in info.value.message


def test_response_signature():
    body = b'{"ok":true}'
    sig = p.sign_response(SECRET, "ab" * 16, 200, body)
    assert p.verify_response(SECRET, "ab" * 16, 200, {p.H_HUB_SIGNATURE: sig}, body)
    assert not p.verify_response(SECRET, "ab" * 16, 200, {}, body)  # captive portal 200
    assert not p.verify_response(SECRET, "cd" * 16, 200, {p.H_HUB_SIGNATURE: sig}, body)
    assert not p.verify_response(SECRET, "ab" * 16, 500, {p.H_HUB_SIGNATURE: sig}, body)
    assert not p.verify_response(SECRET, "ab" * 16, 200, {p.H_HUB_SIGNATURE: sig}, body + b" ")


def test_body_round_trip_and_gzip_bomb():
    obj = {"events": [{"name": "张三"}]}
    encoded = p.encode_body(obj)
    assert encoded == p.encode_body(obj)  # reproducible bytes → same digest on resend
    assert p.decode_body(encoded, "gzip") == obj
    assert p.decode_body(p.encode_body(obj, compress=False), None) == obj
    bomb = gzip.compress(b"0" * (p.MAX_DECOMPRESSED_BYTES + 10))
    assert len(bomb) < 100_000
    with pytest.raises(p.ProtocolError) as info:
        p.decode_body(bomb, "gzip")
    assert info.value.status == 413
    with pytest.raises(p.ProtocolError):
        p.decode_body(b"not gzip", "gzip")


def _event(**over):
    event = {
        "event_id": p.new_id(), "case_id": p.new_id(), "seq": 1, "kind": "case.submitted",
        "occurred_at": "2026-11-20T09:30:00+08:00", "catalog_version": "v1", "deadline": None,
        "payload": {"case_no": "X"},
    }
    event.update(over)
    return event


def test_event_digest_ignores_identity_and_deadline():
    event = _event()
    same = {**event, "event_id": p.new_id(), "deadline": "2026-12-01"}
    assert p.event_digest(event) == p.event_digest(same)
    assert p.event_digest(event) != p.event_digest({**event, "payload": {"case_no": "Y"}})


@pytest.mark.parametrize(
    "over",
    [{"event_id": "nope"}, {"case_id": 5}, {"seq": 0}, {"seq": True}, {"kind": ""},
     {"occurred_at": "2026-11-20T09:30:00"}, {"catalog_version": None}, {"deadline": "12/01"},
     {"payload": []}],
)
def test_validate_event_rejects(over):
    assert p.validate_event(_event(**over))


@pytest.mark.parametrize("payload", [
    {"note": "a\x00b"},  # in a value
    {"form": {"k\x00": "1"}},  # in a key, one level down
    {"list": [1, ["x", "\x00"]]},  # inside lists
    {"big": 2**70, "note": "\x00"},  # beside an integer orjson refuses
    {"note": "\\u0000", "other": "\x00"},  # beside text that spells the escape
])
def test_a_nul_anywhere_in_an_event_is_refused(payload):
    """PostgreSQL text takes no NUL: the event is refused at the envelope, on every path of the check."""
    assert "空字符" in p.validate_event(_event(payload=payload))


@pytest.mark.parametrize("payload", [{"note": "\\u0000 typed as text"}, {"big": 2**70}, {"path": "C:\\u0000"}])
def test_text_that_only_looks_like_a_nul_is_taken(payload):
    """A backslash followed by ``u0000`` is six ordinary characters a clerk may type."""
    assert p.validate_event(_event(payload=payload)) is None


def test_validate_event_accepts_unknown_kind():
    assert p.validate_event(_event(kind="case.future_thing")) is None


def test_upgrade_v0_batch():
    v0 = {"station": "ST001", "batch_id": p.new_id(), "events": [{"event_id": "x"}]}
    up = p.upgrade_batch(v0, 0)
    assert up["heartbeat"] == {} and up["events"][0]["deadline"] is None and up["protocol"] == 0


def test_heartbeat_normalisation_drops_garbage():
    hb = p.normalize_heartbeat({"queue_length": "12", "clock_offset_s": "x", "free_disk_bytes": 5, "evil": 1})
    assert hb == {"queue_length": 12, "free_disk_bytes": 5}


def test_content_range():
    assert p.parse_content_range(p.content_range(0, 9, 20)) == (0, 9, 20)
    for bad in ("bytes 5-4/10", "bytes 0-10/10", "0-1/2", None):
        with pytest.raises(p.ProtocolError):
            p.parse_content_range(bad)


def _reference_canonical(obj) -> bytes:
    """What every stored digest was computed over (the definition before orjson)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_canonical_json_bytes_never_change_for_any_character():
    # every code point but the surrogates, in strings and as keys, escapes and controls included
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    chunks = ["".join(chars[i:i + 4096]) for i in range(0, len(chars), 4096)]
    value = {"strings": chunks, "keys": {ch: ch for ch in chars[:2000:7]}, "z": '引号"\\反斜杠\n\t\x7f\u2028'}
    assert p.canonical_json(value) == _reference_canonical(value)


def test_canonical_json_matches_for_ints_nesting_and_what_orjson_refuses():
    value = {"b": [1, -1, 0, 2**63 - 1, -(2**63), True, False, None, {"y": 2, "x": [], "w": {}}],
             "a": "中文", "big": 2**64 + 1, "c": {"2": 1, "10": 2}}
    assert p.canonical_json(value) == _reference_canonical(value)
    assert p.canonical_json({1: "int key"}) == _reference_canonical({1: "int key"})


def test_floats_from_the_wire_keep_their_digest():
    # orjson writes 1e-05 as 0.00001: a float from a station must still hash as before
    body = b'{"seq": 1, "payload": {"rate": 1e-05, "share": 0.1, "huge": 1.5e300, "n": [2.0, -0.0]}}'
    decoded = p.decode_body(body)
    assert isinstance(decoded["payload"]["rate"], p.WireFloat)
    assert p.canonical_json(decoded) == _reference_canonical(json.loads(body))
    assert json.loads(p.json_text(decoded)) == json.loads(body)  # stored exactly too


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_numbers_are_refused(constant):
    with pytest.raises(p.ProtocolError) as err:
        p.decode_body(b'{"payload": {"x": ' + constant + b"}}")
    assert err.value.status == 400 and "JSON" in err.value.message


def _json_reference(body: bytes):
    """What the hub parsed with ``json`` alone before the fast parse: the values decode_body must give."""
    return json.loads(body.decode("utf-8"), parse_float=p.WireFloat)


@pytest.mark.parametrize("body", [
    b'{"events": [{"seq": 1, "n": 18446744073709551616, "m": -9223372036854775809}]}',  # beyond 64 bits
    b'{"payload": {"deep": [[{"rate": 0.5}]]}}',  # a fraction under three levels
    b'[123456789012345678901234567890]',
    b'{"heartbeat": {"clock_offset_s": 0.12}, "events": [{"payload": {"rate": 1e-05, "n": [2.0, -0.0, 1e19]}}]}',
    b'{"a": [0.5, {"b": 18446744073709551616}]}',  # a fraction marked, then an integer orjson would round
    b'2.5',
    b'{"whole": 1e19}',
    b'{"name": "x", "a": 1, "a": 2}',  # a repeated key: the last, in both
])
def test_a_body_decodes_to_what_json_gives_with_every_type_kept(body):
    decoded = p.decode_body(body)
    assert decoded == _json_reference(body)
    assert p.canonical_json(decoded) == _reference_canonical(_json_reference(body))


def test_what_orjson_refuses_but_json_takes_still_parses_as_before():
    body = b'{"name": "\\ud800 lone"}'  # a lone surrogate: orjson refuses it, json did not
    assert p.decode_body(body) == _json_reference(body)


def test_a_batch_with_the_heartbeat_s_float_keeps_every_float_exact():
    """A station's batch carries one float (the clock offset): its events' digests must not move."""
    body = b'{"heartbeat": {"clock_offset_s": 0.12}, "events": [{"payload": {"rate": 1e-05, "share": 0.1}}]}'
    decoded = p.decode_body(body)
    assert isinstance(decoded["heartbeat"]["clock_offset_s"], p.WireFloat)
    payload = decoded["events"][0]["payload"]
    assert all(isinstance(v, p.WireFloat) for v in payload.values())
    assert p.canonical_json(payload) == b'{"rate":1e-05,"share":0.1}'  # json's notation, not orjson's 0.00001


def test_a_big_integer_stays_an_integer_and_its_digest_unchanged():
    # orjson alone parses 2**64 as 1.8446744073709552e+19: a station's number would hash (and be stored) wrong
    decoded = p.decode_body(b'{"case_id": "x", "payload": {"amount": 18446744073709551617}}')
    assert decoded["payload"]["amount"] == 2**64 + 1 and isinstance(decoded["payload"]["amount"], int)


@pytest.mark.parametrize("depth, refused", [(p.MAX_JSON_DEPTH, False), (p.MAX_JSON_DEPTH + 1, True),
                                            (5000, True)])
def test_nesting_past_the_limit_is_refused_with_its_reason(depth, refused):
    body = b"[" * depth + b"]" * depth
    if not refused:
        assert p.decode_body(body) is not None
        return
    with pytest.raises(p.ProtocolError) as err:
        p.decode_body(body)
    assert err.value.status == 400
    assert ("嵌套过深" in err.value.message) == (depth < 1000)  # deeper than json's recursion: "not JSON"
