"""The station ⇄ hub wire format: versions, signing, body encoding, event envelopes.

Pure functions with no Flask and no database, so both ends (``sync/transport.py`` on the station,
``sync/hub/`` on the county side) share one definition of what goes on
the wire, and it can be tested directly. ``docs/sync-protocol.md`` is the prose version.

Signing: every request carries ``X-Station``, ``X-Timestamp``, ``X-Nonce``,
``X-Content-SHA256`` (digest of the exact body bytes as sent, i.e. after gzip),
``X-Protocol-Version`` and ``X-Signature`` = HMAC-SHA256 over
``METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nBODY_SHA256\\nVERSION`` (version 1; a version 0
station signs the same lines without ``VERSION``, and the hub checks the form its header names, so
a changed header no longer matches the signature). The hub signs its answer with
``X-Hub-Signature`` = HMAC-SHA256 over ``REQUEST_NONCE\\nSTATUS\\nRESPONSE_BODY_SHA256``, so a
captive portal or proxy page that answers 200 can never pass for an acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ulid import ULID

try:
    import orjson
except ImportError:  # no wheel for this PC's platform: ``json`` writes the same bytes, only slower
    orjson = None

# --- versions -------------------------------------------------------------------------------

PROTOCOL_VERSION = 1
#: Every path of the hub's signed API starts so, and no page's does (no cookie session, no login user there).
API_PREFIX = "/api/"
#: The hub serves stations one version behind (DESIGN.md "Sync: what must hold"). Version 0
#: batches had no ``protocol``/``heartbeat`` keys and events had no ``deadline``; the hub
#: upgrades them with :func:`upgrade_batch`.
PREVIOUS_VERSION = 0
SUPPORTED_VERSIONS = (PREVIOUS_VERSION, PROTOCOL_VERSION)

# --- headers --------------------------------------------------------------------------------

H_STATION = "X-Station"
H_TIMESTAMP = "X-Timestamp"
H_NONCE = "X-Nonce"
H_CONTENT_SHA256 = "X-Content-SHA256"
H_VERSION = "X-Protocol-Version"
H_SIGNATURE = "X-Signature"
H_HUB_SIGNATURE = "X-Hub-Signature"
#: Sent by a second device of a station (a laptop on a home visit): its number under the station,
#: 1…MAX_DEVICE_NO. Absent for the station PC. The hub signs and verifies with that device's own
#: secret, so a changed header meets the wrong key and fails as ``bad_signature``.
H_DEVICE = "X-Device"
MAX_DEVICE_NO = 99
REQUEST_HEADERS = (H_STATION, H_TIMESTAMP, H_NONCE, H_CONTENT_SHA256, H_VERSION, H_SIGNATURE)

# --- limits (the hub may configure its own; these are the defaults both sides assume) -------

CLOCK_WINDOW_S = 300
MIN_NONCE_BYTES = 16
MAX_EVENTS_PER_BATCH = 500
MAX_BATCH_BYTES = 2 * 1024 * 1024  # compressed body as sent
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024  # guards against gzip bombs
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_CHANGES_PER_PAGE = 500
#: How deep a JSON body may nest (objects and lists); deeper is refused with 400 before anything
#: recurses over it. Real bodies nest about 5 levels.
MAX_JSON_DEPTH = 64
#: Bounds of what the hub stores in fixed-width columns; beyond them an event is refused as
#: malformed (the same on SQLite, which would store anything, and PostgreSQL, which would fail).
MAX_SEQ = 2**31 - 1
MAX_CATALOG_VERSION_CHARS = 64
MAX_KIND_CHARS = 64
MAX_OCCURRED_AT_CHARS = 40
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
#: The largest changes-feed cursor (change ids are 64-bit at most).
MAX_CURSOR = MAX_INT64

# --- events ---------------------------------------------------------------------------------

# The event kinds and the shape of each body are shared rules: see :mod:`rules.events`. The hub
# answers a kind it does not know with ``rejected``/``unknown_kind`` instead of failing the batch.

#: Fields whose content decides duplicate vs conflict. ``event_id`` is the identity, and
#: ``deadline`` is only a priority hint that v0 lacked, so a queued v0 event re-sent after the
#: station upgraded is still recognised as the same event.
DIGEST_FIELDS = ("case_id", "seq", "kind", "occurred_at", "catalog_version", "payload")

STATUS_ACCEPTED = "accepted"
STATUS_DUPLICATE = "duplicate"
STATUS_CONFLICT = "conflict"
STATUS_REJECTED = "rejected"
EVENT_STATUSES = (STATUS_ACCEPTED, STATUS_DUPLICATE, STATUS_CONFLICT, STATUS_REJECTED)

# Machine codes in per-event results.
CODE_OUT_OF_ORDER = "out_of_order"
CODE_UNKNOWN_KIND = "unknown_kind"
CODE_NOT_YOUR_CASE = "not_your_case"
CODE_CATALOG_STALE = "catalog_stale"
CODE_BAD_EVENT = "bad_event"
CODE_SEQ_TAKEN = "seq_taken"
CODE_CONTENT_MISMATCH = "content_mismatch"
CODE_INTERNAL = "internal_error"
CODE_NOT_YOUR_FILE = "not_your_file"  # an attachment this station never uploaded
CODE_CONFLICT_PENDING = "conflict_pending"  # a later event of a case whose conflict is still open

# --- changes (hub → station) ----------------------------------------------------------------

CHANGE_CASE_STATUS = "case.status"
CHANGE_CATALOG_PUBLISHED = "catalog.published"
CHANGE_STATION_SETTINGS = "station.settings"
#: The county settled a conflict: ``{event_id, resolution, note, resolved_by, resolved_at}``.
CHANGE_CONFLICT_RESOLVED = "conflict.resolved"
#: A rating given on the county's public page (好差评), so the station shows it on the case.
CHANGE_EVALUATION = "evaluation.recorded"
#: A 差评's follow-up (整改) opened or moved on at the county: the station sees it about its own service.
CHANGE_REMEDY = "remedy.updated"
# The hub's database was restored from a backup (python -m sync.hub restored): a station checks
# what the hub still holds of it and sends again what the restore lost (sync/hub_restore.py)
CHANGE_HUB_RESTORED = "hub.restored"
#: A case of this station taken on another of its devices (or on the station PC, for a device):
#: ``{case_id, origin_device}`` at rest; served with ``case`` (the county's view of it) attached.
CHANGE_CASE_SHARED = "case.shared"
#: A booking made or cancelled at the county (a resident on the public page): ``{appointment_id}``
#: at rest; served with the booking (name, phone, address opened) attached.
CHANGE_APPOINTMENT = "appointment.changed"
#: A handover of a transfer batch of paper originals (物料流转) recorded elsewhere — at the county or at
#: another station that scanned the batch: ``{transfer_id, batch_no, handover_id, giver, receiver, place,
#: at, missing, extra, arrived, recorded_where, …}``, to each station holding the batch.
CHANGE_TRANSFER_HANDOVER = "transfer.handover"
#: A handover a station sent of a batch the county did not know yet, stored then, and refused once the
#: batch became known (the station is off its route): ``{transfer_id, batch_no, handover_id, reason}``, to
#: that station alone, ``handover_id`` as the station named it and ``reason`` in Chinese.
CHANGE_TRANSFER_HANDOVER_REFUSED = "transfer.handover_refused"
#: One year's holidays and make-up workdays as the county published them (to every station):
#: ``{year, version, days: [{day, is_workday, name}]}`` — the whole year, replacing what came before.
CHANGE_HOLIDAYS = "calendar.holidays"
#: 跨域办: the county's forward of a case to the handling county was set aside by that county (``held``
#: true) or went through again after it was sent again or settled there (``held`` false):
#: ``{held, county, seq}`` — ``county`` the handling county's platform by name, ``seq`` the event concerned.
CHANGE_FORWARD_HELD = "case.forward_held"
#: The case's 法定/承诺 due dates in force at the county, where they may differ from the station's (the county
#: moved them by the days a 补正 took, with its own calendar; or kept them over a station's recount it did not
#: take, or settled a conflict over the case's events): ``{reason}`` at rest, served with the case's dates as they are now ``{statutory_due, committed_due,
#: statutory_provisional, committed_provisional, reason}``. An older station ignores the kind.
CHANGE_CASE_DUES = "case.dues"
CHANGE_KINDS = (CHANGE_CASE_STATUS, CHANGE_CATALOG_PUBLISHED, CHANGE_STATION_SETTINGS, CHANGE_CONFLICT_RESOLVED,
                CHANGE_EVALUATION, CHANGE_REMEDY, CHANGE_CASE_SHARED, CHANGE_APPOINTMENT,
                CHANGE_HUB_RESTORED, CHANGE_TRANSFER_HANDOVER, CHANGE_TRANSFER_HANDOVER_REFUSED, CHANGE_HOLIDAYS,
                CHANGE_FORWARD_HELD, CHANGE_CASE_DUES)

RESOLVE_KEEP_COUNTY = "keep_county"  # the county's copy stands; the station's is dropped
RESOLVE_TAKE_STATION = "take_station"  # the station's copy replaces the county's
RESOLVE_MERGE = "merge"  # the county's copy, with what only the station's had added
RESOLUTIONS = (RESOLVE_KEEP_COUNTY, RESOLVE_TAKE_STATION, RESOLVE_MERGE)

CASE_STATUS_ACCEPTED = "accepted"  # 受理
CASE_STATUS_SUPPLEMENT = "supplement"  # 补正
CASE_STATUS_REJECTED = "rejected"  # 不予受理
CASE_STATUS_COMPLETED = "completed"  # 办结
RESULT_APPROVED = "approved"
RESULT_DENIED = "denied"

# --- request-level errors (401/4xx bodies) --------------------------------------------------

ERR_BAD_SIGNATURE = "bad_signature"
ERR_CLOCK_SKEW = "clock_skew"
ERR_REPLAY = "replay"
ERR_UNKNOWN_STATION = "unknown_station"
ERR_VERSION = "version"
ERR_TOO_LARGE = "too_large"
ERR_BAD_REQUEST = "bad_request"
ERR_FORBIDDEN = "forbidden"
ERR_NOT_FOUND = "not_found"  # a case that is not the asking station's
ERR_UNKNOWN_DEVICE = "unknown_device"
ERR_DEVICE_REVOKED = "device_revoked"
ERR_BUSY = "busy"  # 503 with Retry-After: the hub admits no more work for now (sync/hub/admission.py)

#: The longest ``Retry-After`` a station obeys; a larger (or garbled) value is taken as this.
MAX_RETRY_AFTER_S = 600

ERROR_MESSAGES = {
    ERR_BAD_SIGNATURE: "请求签名无效，请检查站点密钥是否正确。",
    ERR_CLOCK_SKEW: "本机时间与县级平台相差过大，已按平台时间校正，请重试。",
    ERR_REPLAY: "重复的请求已被拒绝（请求编号已使用）。",
    ERR_UNKNOWN_STATION: "站点未登记或已停用，请联系县级平台管理员。",
    ERR_VERSION: "同步协议版本不受支持，请升级本站软件。",
    ERR_TOO_LARGE: "本次上传的数据过大，请分批上传。",
    ERR_BAD_REQUEST: "请求格式不正确。",
    ERR_FORBIDDEN: "无权访问其他站点的数据。",
    ERR_UNKNOWN_DEVICE: "本设备未在县级平台登记为该站点的设备，请联系县级平台管理员。",
    ERR_DEVICE_REVOKED: "本设备已被县级平台停用，不能再同步，请联系县级平台管理员。",
    ERR_BUSY: "县级平台繁忙，本站稍后自动重试，无需处理。",
    ERR_NOT_FOUND: "县级平台没有本站的这个办件。",
}

#: Integer heartbeat fields and the largest value each column holds; a value outside is dropped.
HEARTBEAT_INT_LIMITS: dict[str, int] = {
    "protocol": MAX_INT32, "queue_length": MAX_INT32, "set_aside_count": MAX_INT32,
    "oldest_queued_age_s": MAX_INT64, "free_disk_bytes": MAX_INT64,
}

#: The largest float heartbeat value kept (a clock offset of 30 years is already nonsense).
MAX_HEARTBEAT_FLOAT = 1e9

HEARTBEAT_FIELDS: dict[str, type] = {
    "app_version": str,
    "schema_version": str,
    "protocol": int,
    "queue_length": int,
    "oldest_queued_age_s": int,
    "set_aside_count": int,
    "clock_offset_s": float,
    "free_disk_bytes": int,
    "station_time": str,
}

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX_NONCE = re.compile(rf"^[0-9a-f]{{{MIN_NONCE_BYTES * 2},128}}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_STATION_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # as the hub registers them
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class ProtocolError(Exception):
    """A request or body that breaks the protocol; ``code`` is the machine code on the wire."""

    def __init__(self, code: str, message: str | None = None, *, status: int = 401) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, ERROR_MESSAGES[ERR_BAD_REQUEST])
        self.status = status
        super().__init__(f"{code}: {self.message}")


# --- ids and time ---------------------------------------------------------------------------


def new_id() -> str:
    """Return a new ULID string: sortable by creation, made offline without coordination."""
    return str(ULID())


def new_nonce() -> str:
    """Return 16 random bytes as hex; the hub refuses a nonce it has seen inside the window."""
    return secrets.token_hex(MIN_NONCE_BYTES)


def is_client_id(value: Any) -> bool:
    """Tell whether ``value`` looks like a client-made id (ULID or UUID) the hub can key on."""
    return isinstance(value, str) and bool(_ULID.match(value) or _UUID.match(value))


def is_station_code(value: Any) -> bool:
    """Tell whether ``value`` is shaped like a station code as a hub registers them (letters, digits, - and _)."""
    return isinstance(value, str) and _STATION_CODE.fullmatch(value) is not None


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``; the digest used for bodies, responses and attachments."""
    return hashlib.sha256(data).hexdigest()


def sha256_hex_file(src: BinaryIO, end: int | None = None, chunk: int = 1024 * 1024) -> str:
    """Hex SHA-256 of a seekable file's first ``end`` bytes (all of it by default), read ``chunk`` at a time."""
    src.seek(0)
    digest = hashlib.sha256()
    left = end
    while left is None or left > 0:
        data = src.read(chunk if left is None else min(chunk, left))
        if not data:
            break
        digest.update(data)
        if left is not None:
            left -= len(data)
    src.seek(0)
    return digest.hexdigest()


# --- bodies ---------------------------------------------------------------------------------


class WireFloat(float):
    """A float as :func:`decode_body` decodes it: orjson refuses to serialise float subclasses.

    That refusal is what keeps :func:`canonical_json` exact: orjson writes floats in another
    notation than ``json`` (``0.00001`` for ``1e-05``), so a value holding one must go through
    ``json``, and marking floats while parsing costs nothing when there are none.
    """

    __slots__ = ()


def _json_canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` deterministically (sorted keys, compact, UTF-8) for hashing.

    The bytes are those of ``json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``: every digest a hub has stored was computed over them, so they must
    never change. orjson writes strings, integers, booleans, null, lists and objects to exactly
    these bytes in a tenth of the time (a hub digests every event it receives); it refuses
    integers beyond 64 bits, non-string keys and :class:`WireFloat` — the floats of a decoded
    body — so a value holding any of those is serialised by ``json``. Pass values as
    :func:`decode_body` returns them: a plain ``float`` would be written in orjson's notation.
    Without orjson installed every value takes the ``json`` path: the same bytes, slower.
    """
    if orjson is None:
        return _json_canonical(obj)
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _json_canonical(obj)


def json_text(obj: Any) -> str:
    """Compact UTF-8 JSON text for storage and answers (orjson; ``json`` for what it refuses).

    Unlike :func:`canonical_json` nothing is hashed over these bytes, so floats may be written
    in either library's (equally exact, round-tripping) notation.
    """
    return json_bytes(obj).decode("utf-8")


def json_bytes(obj: Any) -> bytes:
    """:func:`json_text` as the UTF-8 bytes it is sent or sealed as.

    orjson writes bytes; taking them as text and encoding that again walked every character of a
    batch's Chinese twice more (about 5 % of the hub's instructions for a batch).
    """
    if orjson is None:
        return _json_text(obj).encode("utf-8")
    try:
        return orjson.dumps(obj)
    except TypeError:
        return _json_text(obj).encode("utf-8")


def _json_text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _wire_float(text: str) -> WireFloat:
    """A JSON number with a fraction or exponent; ``1e400`` (infinity once parsed) is refused.

    Stored again it would be written ``Infinity``, which no JSON column (PostgreSQL's) takes.
    """
    value = WireFloat(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def encode_body(obj: Any, *, compress: bool = True) -> bytes:
    """Serialise a request body: compact UTF-8 JSON, gzip unless ``compress`` is false.

    ``mtime=0`` makes the bytes reproducible, so a resent batch has the same body digest.
    """
    raw = json_bytes(obj)
    return compress_body(raw) if compress else raw


def compress_body(raw: bytes) -> bytes:
    """Gzip already-serialised JSON the way `encode_body` does (reproducible: ``mtime=0``)."""
    return gzip.compress(raw, compresslevel=6, mtime=0)


def decode_body(data: bytes, content_encoding: str | None = None, *,
                max_bytes: int = MAX_DECOMPRESSED_BYTES) -> Any:
    """Parse a body as sent (gzip or identity), refusing more than ``max_bytes`` once inflated.

    Inflation is streamed with a cap, so a small gzip bomb cannot exhaust the hub's memory.
    Raises :class:`ProtocolError` (``too_large`` with status 413, or ``bad_request``).
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(data, max_bytes + 1)
        except zlib.error as exc:
            raise ProtocolError(ERR_BAD_REQUEST, "压缩数据已损坏。", status=400) from exc
        if len(raw) > max_bytes or inflater.unconsumed_tail:
            raise ProtocolError(ERR_TOO_LARGE, status=413)
        if not inflater.eof:
            raise ProtocolError(ERR_BAD_REQUEST, "压缩数据不完整。", status=400)
    elif encoding in ("identity", ""):
        if len(data) > max_bytes:
            raise ProtocolError(ERR_TOO_LARGE, status=413)
        raw = data
    else:
        raise ProtocolError(ERR_BAD_REQUEST, f"不支持的内容编码：{encoding}", status=415)
    if not raw:
        return None
    value = _parse_fast(raw)
    if value is _EXACT:
        try:
            # Nesting deeper than the interpreter's recursion limit raises RecursionError here.
            value = json.loads(raw.decode("utf-8"), parse_float=_wire_float, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProtocolError(ERR_BAD_REQUEST, "请求内容不是有效的 JSON。", status=400) from exc
        too_deep = _too_deep(value, MAX_JSON_DEPTH)[0]
    else:
        too_deep = value is _TOO_DEEP
    if too_deep:
        raise ProtocolError(ERR_BAD_REQUEST, f"请求内容嵌套过深（最多 {MAX_JSON_DEPTH} 层）。", status=400)
    return value


_EXACT = object()  # parse again with ``json``: the fast parse would not give the same values
_TOO_DEEP = object()


def _parse_fast(raw: bytes) -> Any:
    """orjson's parse made exactly what ``json`` gives, else ``_EXACT``; ``_TOO_DEEP`` past the limit.

    The hub parses every batch it takes, and ``json`` cost about a tenth of a batch's CPU. For
    strings, integers up to 64 bits, booleans, null, objects (the last of a repeated key wins in
    both) and lists orjson's values are ``json``'s. Numbers differ: a fraction is a plain float,
    not the :class:`WireFloat` that keeps :func:`canonical_json` exact, so each float is marked
    here (the same value: both parsers round correctly); an integer beyond 64 bits becomes a float
    without a word, so a whole float that large (which a fraction rarely is) sends the body to
    ``json``, as does anything orjson refuses (even what ``json`` takes, such as a lone
    surrogate): the same values and the same refusals as before, only slower. A station's batch
    holds one float, the heartbeat's clock offset.
    """
    if orjson is None:
        return _EXACT
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _EXACT
    too_deep, holders = _too_deep(value, MAX_JSON_DEPTH)
    if too_deep:
        return _TOO_DEEP
    if holders:
        return _wire_floats(value, holders)
    return value


#: A float this large and whole may have been an integer beyond 64 bits on the wire (orjson's float).
_MAYBE_BIG_INT = float(2**63)


def _wire_floats(value: Any, holders: list[Any]) -> Any:
    """``value`` with each float in ``holders`` made a :class:`WireFloat` in place (``value`` itself
    when it is the float), or ``_EXACT`` if one may have been an integer beyond 64 bits."""
    if value.__class__ is float:
        return _EXACT if abs(value) >= _MAYBE_BIG_INT and value.is_integer() else WireFloat(value)
    for item in holders:
        for key, child in (item.items() if item.__class__ is dict else enumerate(item)):
            if child.__class__ is float:
                if abs(child) >= _MAYBE_BIG_INT and child.is_integer():
                    return _EXACT
                item[key] = WireFloat(child)
    return value


def _too_deep(value: Any, limit: int) -> tuple[bool, list[Any]]:
    """Whether objects and lists nest more than ``limit`` levels, and the objects and lists holding a float.

    A value a few hundred levels deep parses, but every later step that recurses over it
    (digests, storage) could hit the interpreter's recursion limit and answer 500. Real bodies
    nest about five levels. Found without recursion, in the one walk :func:`_parse_fast` also
    needs to find floats (``[value]`` itself when it is one). The walk stops at the first level
    past ``limit``.
    """
    # Exact types: both parsers make plain dicts, lists and floats (``json``'s fractions are
    # WireFloat, which is not counted: that parse is already the exact one).
    kind = value.__class__
    if kind is float:
        return False, [value]
    level = [value] if kind is dict or kind is list else []
    depth = 0
    holders: list[Any] = []
    while level:
        depth += 1
        if depth > limit:
            return True, holders
        below = []
        for item in level:
            for child in item.values() if item.__class__ is dict else item:
                kind = child.__class__
                if kind is dict or kind is list:
                    below.append(child)
                elif kind is float and (not holders or holders[-1] is not item):
                    holders.append(item)
        level = below
    return False, holders


def server_time() -> float:
    """The hub's clock in unix seconds (ms precision), in every answer; stations learn their offset from it."""
    return round(time.time(), 3)


# --- request signing ------------------------------------------------------------------------


#: The first protocol version whose signature covers ``X-Protocol-Version``.
SIGNED_VERSION_SINCE = 1


def string_to_sign(method: str, path_with_query: str, timestamp: str, nonce: str, body_sha256: str,
                   version: int = PROTOCOL_VERSION) -> bytes:
    """Return the exact bytes the request HMAC covers (one field per line, no trailing newline).

    From version 1 the version is the last line, so a proxy cannot make the hub read a batch
    under another version's rules; a version 0 station (served one version behind) signed the
    first five lines only, and the hub checks the form the header names.
    """
    lines = [method.upper(), path_with_query, timestamp, nonce, body_sha256]
    if version >= SIGNED_VERSION_SINCE:
        lines.append(str(version))
    return "\n".join(lines).encode("utf-8")


def _hmac(secret: str | bytes, message: bytes) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_request(secret: str | bytes, method: str, path_with_query: str, body: bytes = b"", *,
                 station: str, timestamp: int | None = None, nonce: str | None = None,
                 version: int = PROTOCOL_VERSION, clock_offset_s: float = 0.0,
                 device: int = 0, body_sha256: str | None = None) -> dict[str, str]:
    """Return the headers that authenticate one request.

    ``device`` is the number of a station's second device (0: the station PC, no header).
    ``body_sha256``: the body's digest when it is sent from a file (``body`` is then not read).

    ``path_with_query`` must be the path exactly as sent (with ``requests`` that is
    ``PreparedRequest.path_url``). ``timestamp`` defaults to the local clock corrected by
    ``clock_offset_s`` (hub time minus station time, learned from ``server_time``).
    """
    ts = str(int(timestamp if timestamp is not None else time.time() + clock_offset_s))
    nonce = nonce or new_nonce()
    digest = body_sha256 or sha256_hex(body)
    signature = _hmac(secret, string_to_sign(method, path_with_query, ts, nonce, digest, version))
    headers = {
        H_STATION: station,
        H_TIMESTAMP: ts,
        H_NONCE: nonce,
        H_CONTENT_SHA256: digest,
        H_VERSION: str(version),
        H_SIGNATURE: signature,
    }
    if device:
        headers[H_DEVICE] = str(int(device))
    return headers


@dataclass(frozen=True)
class SignedRequest:
    """The authentication headers of a request, parsed and shape-checked."""

    station: str
    timestamp: int
    nonce: str
    body_sha256: str
    version: int
    signature: str
    device: int = 0  # 0: the station PC; 1…MAX_DEVICE_NO: a registered second device


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive; HTTP headers are not
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def parse_version(value: str | int | None) -> int:
    """Return the protocol version a station speaks, refusing one the hub does not serve."""
    try:
        version = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ProtocolError(ERR_VERSION, "缺少或无法识别同步协议版本（X-Protocol-Version）。") from exc
    if version not in SUPPORTED_VERSIONS:
        supported = "、".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ProtocolError(
            ERR_VERSION,
            f"同步协议版本 {version} 不受支持（县级平台支持版本：{supported}），请升级或联系管理员。",
        )
    return version


def parse_signed_headers(headers: Mapping[str, str]) -> SignedRequest:
    """Extract and shape-check the signing headers before any secret is looked up.

    The headers are read once into a dict by lower-cased name: a WSGI request's headers are
    looked up in its environ, and each absent optional header (``X-Device``, on most requests)
    cost a walk over all of them — a few per cent of a small batch's CPU at the hub.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}

    def header(name: str) -> str | None:
        return lowered.get(name.lower())

    missing = [name for name in REQUEST_HEADERS if not header(name)]
    if H_VERSION in missing:
        parse_version(None)
    version = parse_version(header(H_VERSION))
    if missing:
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求缺少签名信息：" + "、".join(missing))
    try:
        timestamp = int(header(H_TIMESTAMP) or "")
    except ValueError as exc:
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求时间戳格式不正确。") from exc
    if not 0 <= timestamp <= MAX_INT64:  # else comparing it with the clock overflows a float
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求时间戳格式不正确。")
    nonce = (header(H_NONCE) or "").lower()
    if not _HEX_NONCE.match(nonce):
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求编号（nonce）须为至少 16 字节的十六进制串。")
    digest = (header(H_CONTENT_SHA256) or "").lower()
    if not _HEX64.match(digest):
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求内容摘要格式不正确。")
    station = (header(H_STATION) or "").strip()
    if not _STATION_CODE.match(station):
        raise ProtocolError(ERR_UNKNOWN_STATION)
    device_header = header(H_DEVICE)
    device = 0
    if device_header is not None:
        text = device_header.strip()
        if not (text.isdigit() and len(text) <= 2 and 1 <= int(text) <= MAX_DEVICE_NO):
            raise ProtocolError(ERR_UNKNOWN_DEVICE)
        device = int(text)
    return SignedRequest(
        station=station,
        timestamp=timestamp,
        nonce=nonce,
        body_sha256=digest,
        version=version,
        signature=(header(H_SIGNATURE) or "").strip().lower(),
        device=device,
    )


def verify_request(secret: str | bytes, method: str, path_with_query: str, headers: Mapping[str, str],
                   body: bytes | None, *, now: float | None = None,
                   window_s: int = CLOCK_WINDOW_S, signed: SignedRequest | None = None) -> SignedRequest:
    """Check a request's signature, body digest and clock; return its parsed headers.

    Replay (nonce reuse) needs shared state and is the caller's job. ``body=None`` skips the
    body-digest check so the hub can authenticate before reading a large body; it must then
    call :func:`verify_body_digest`. Order matters: a bad signature is reported before clock
    skew, so a station is only told to correct its clock by a hub that recognised its key.
    Raises :class:`ProtocolError` with ``bad_signature``, ``clock_skew`` or ``version``.
    ``signed``: the headers already parsed by :func:`parse_signed_headers` (the hub parses them
    first, to find the station's secret), so they are not parsed twice.
    """
    signed = signed or parse_signed_headers(headers)
    expected = _hmac(secret, string_to_sign(method, path_with_query, str(signed.timestamp),
                                            signed.nonce, signed.body_sha256, signed.version))
    if not hmac.compare_digest(expected, signed.signature):
        raise ProtocolError(ERR_BAD_SIGNATURE)
    if body is not None:
        verify_body_digest(signed, body)
    current = time.time() if now is None else now
    if abs(current - signed.timestamp) > window_s:
        raise ProtocolError(ERR_CLOCK_SKEW)
    return signed


def verify_body_digest(signed: SignedRequest, body: bytes | BinaryIO) -> None:
    """Refuse a body (bytes, or a file hashed in chunks) whose bytes are not the ones the signature vouched for."""
    digest = sha256_hex(body) if isinstance(body, bytes | bytearray) else sha256_hex_file(body)
    if not hmac.compare_digest(digest, signed.body_sha256):
        raise ProtocolError(ERR_BAD_SIGNATURE, "请求内容与签名不符（内容摘要不一致）。")


# --- response signing -----------------------------------------------------------------------


def sign_response(secret: str | bytes, request_nonce: str, status_code: int, body: bytes) -> str:
    """Return ``X-Hub-Signature`` for a response to the request that carried ``request_nonce``."""
    message = "\n".join([request_nonce.lower(), str(int(status_code)), sha256_hex(body)]).encode("utf-8")
    return _hmac(secret, message)


def verify_response(secret: str | bytes, request_nonce: str, status_code: int,
                    headers: Mapping[str, str], body: bytes) -> bool:
    """Tell whether a response really comes from the hub and answers this very request.

    Use the raw bytes (``response.content``). An unsigned or mis-signed 200 — a captive portal,
    a proxy error page, a stale cache — returns False and must never count as an ack.
    """
    signature = (_header(headers, H_HUB_SIGNATURE) or "").strip().lower()
    if not signature:
        return False
    return hmac.compare_digest(sign_response(secret, request_nonce, status_code, body), signature)


# --- event envelopes ------------------------------------------------------------------------


def event_digest(event: Mapping[str, Any]) -> str:
    """Return the SHA-256 of an event's content fields; equal id + equal digest = duplicate."""
    content = {name: event.get(name) for name in DIGEST_FIELDS}
    return sha256_hex(canonical_json(content))


def _parse_offset_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_occurred_at(value: str) -> dt.datetime:
    """Parse an event's ``occurred_at`` (ISO 8601 with offset) into an aware datetime."""
    parsed = _parse_offset_datetime(value)
    if parsed is None:
        raise ValueError(f"not an ISO 8601 datetime with offset: {value!r}")
    return parsed


def validate_event(event: Any) -> str | None:
    """Return a Chinese reason if the envelope is malformed, else None.

    Only the envelope is checked; an unknown ``kind`` is well-formed (the hub answers it with
    ``unknown_kind``) so that stations newer than the hub degrade per event, not per batch.
    """
    if not isinstance(event, dict):
        return "事件格式不正确（应为 JSON 对象）。"
    if not is_client_id(event.get("event_id")):
        return "事件编号 event_id 缺失或格式不正确（应为 ULID 或 UUID）。"
    if not is_client_id(event.get("case_id")):
        return "办件编号 case_id 缺失或格式不正确（应为 ULID 或 UUID）。"
    seq = event.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "事件序号 seq 须为从 1 开始的整数。"
    if seq > MAX_SEQ:
        return f"事件序号 seq 超出范围（最大 {MAX_SEQ}）。"
    if not isinstance(event.get("kind"), str) or not event["kind"]:
        return "事件类型 kind 缺失。"
    if len(event["kind"]) > MAX_KIND_CHARS:
        return f"事件类型 kind 过长（最多 {MAX_KIND_CHARS} 个字符）。"
    occurred_at = event.get("occurred_at")
    if _parse_offset_datetime(occurred_at) is None or len(occurred_at) > MAX_OCCURRED_AT_CHARS:
        return "发生时间 occurred_at 须为带时区的 ISO 8601 时间。"
    if not isinstance(event.get("catalog_version"), str) or not event["catalog_version"]:
        return "事项目录版本 catalog_version 缺失。"
    if len(event["catalog_version"]) > MAX_CATALOG_VERSION_CHARS:
        return f"事项目录版本 catalog_version 过长（最多 {MAX_CATALOG_VERSION_CHARS} 个字符）。"
    deadline = event.get("deadline")
    if deadline is not None and not _is_calendar_date(deadline):
        return "承诺期限 deadline 须为实际存在的日期（YYYY-MM-DD）或 null。"
    if not isinstance(event.get("payload"), dict):
        return "事件内容 payload 须为 JSON 对象。"
    if _has_nul(event):
        return "事件中含有空字符（\\u0000），平台无法保存。"
    return None


def _is_calendar_date(value: Any) -> bool:
    """``YYYY-MM-DD`` naming a day that exists (no 2026-02-30): a date column takes nothing else."""
    if not (isinstance(value, str) and _DATE.match(value)):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _has_nul(value: Any) -> bool:
    """Whether a NUL character hides in any string or key: PostgreSQL text refuses it, SQLite not.

    Asked of every event the hub takes, so the common answer comes from one pass of orjson's C
    encoder: JSON writes a NUL only as the escape ``\\u0000``, and text without that escape holds
    none. The escape may also be a harmless backslash followed by ``u0000``; then the walk
    decides. The walk is iterative, so a value as deep as :data:`MAX_JSON_DEPTH` allows costs no
    recursion.
    """
    if orjson is not None:
        try:
            if b"\\u0000" not in orjson.dumps(value):
                return False
        except TypeError:  # what orjson refuses (an integer beyond 64 bits, a subclass): walk it
            pass
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def upgrade_batch(batch: Any, version: int) -> dict[str, Any]:
    """Bring a batch from ``version`` to the current shape, so the hub handles one shape only.

    v0 → v1: add ``protocol``, an empty ``heartbeat`` and ``deadline: null`` on each event.
    Raises :class:`ProtocolError` (400) when the body is not a batch at all.
    """
    if not isinstance(batch, dict) or not isinstance(batch.get("events"), list):
        raise ProtocolError(ERR_BAD_REQUEST, "批次格式不正确：缺少 events 列表。", status=400)
    upgraded = dict(batch)
    if version == 0:
        upgraded.setdefault("heartbeat", {})
        upgraded["events"] = [
            ({**event, "deadline": event.get("deadline")} if isinstance(event, dict) else event)
            for event in batch["events"]
        ]
    upgraded["protocol"] = version
    if not isinstance(upgraded.get("heartbeat"), dict):
        upgraded["heartbeat"] = {}
    return upgraded


def normalize_heartbeat(raw: Any) -> dict[str, Any]:
    """Keep the known heartbeat fields, coerced to their types; drop anything unparsable.

    A heartbeat is telemetry: a bad field must never cost a station its batch.
    """
    if not isinstance(raw, dict):
        return {}
    clean: dict[str, Any] = {}
    for name, kind in HEARTBEAT_FIELDS.items():
        value = raw.get(name)
        if value is None or isinstance(value, bool):
            continue
        try:
            if kind is str:
                clean[name] = str(value).replace("\x00", "")[:64]
                continue
            number = kind(value)
        except (TypeError, ValueError, OverflowError):
            continue
        if kind is float:
            if not math.isfinite(number) or abs(number) > MAX_HEARTBEAT_FLOAT:
                continue  # inf/nan, or beyond a 4-byte float column (PostgreSQL ``real``)
            number = round(number, 3)  # 1e-70 would underflow that column: milliseconds are enough
        limit = HEARTBEAT_INT_LIMITS.get(name)
        if limit is not None and not -limit <= number <= limit:
            continue  # wider than its column (PostgreSQL would refuse the whole update)
        clean[name] = number
    return clean


def parse_bounded_int(value: str | None, default: int, *, lowest: int, highest: int) -> int:
    """Read an integer query argument, refusing one that is not an integer or out of range.

    Raises :class:`ProtocolError` ``bad_request`` (400) rather than letting a 21-digit cursor
    reach the database as an overflow.
    """
    if value is None or value == "":
        return default
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ProtocolError(ERR_BAD_REQUEST, "参数须为整数。", status=400) from exc
    if not lowest <= number <= highest:
        raise ProtocolError(ERR_BAD_REQUEST, f"参数超出范围（{lowest}～{highest}）。", status=400)
    return number


@dataclass
class EventResult:
    """The hub's answer for one event, as it appears in ``results``."""

    event_id: str
    status: str
    reason: str | None = None
    code: str | None = None
    retryable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form; ``extra`` (e.g. ``recollect``) is merged at the top level."""
        data: dict[str, Any] = {
            "event_id": self.event_id,
            "status": self.status,
            "reason": self.reason,
            "code": self.code,
            "retryable": self.retryable,
        }
        data.update(self.extra)
        return data


# --- attachments ----------------------------------------------------------------------------


def is_sha256(value: Any) -> bool:
    """Tell whether ``value`` is a lowercase hex SHA-256 (the attachment address)."""
    return isinstance(value, str) and bool(_HEX64.match(value))


def content_range(start: int, end: int, total: int) -> str:
    """Return a ``Content-Range`` header value for bytes ``start..end`` (inclusive) of ``total``."""
    return f"bytes {start}-{end}/{total}"


def parse_content_range(value: str | None) -> tuple[int, int, int]:
    """Parse ``bytes start-end/total`` (end inclusive), refusing ranges that cannot be right."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if not match:
        raise ProtocolError(ERR_BAD_REQUEST, "Content-Range 格式应为 bytes 起-止/总长。", status=400)
    start, end, total = (int(g) for g in match.groups())
    if start > end or end >= total:
        raise ProtocolError(ERR_BAD_REQUEST, "Content-Range 范围不正确。", status=400)
    return start, end, total


def parse_retry_after(value: str | None, default: int = 5) -> int:
    """Seconds from a ``Retry-After`` header, bounded to 1..MAX_RETRY_AFTER_S.

    Only the delay-seconds form is used by the hub; an HTTP date or garbage (a proxy's own 503)
    falls back to ``default``, so a station never waits for ever nor hammers the hub.
    """
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        seconds = default
    return min(max(seconds, 1), MAX_RETRY_AFTER_S)
