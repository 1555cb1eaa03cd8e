"""The signed JSON sync API (``/api/v1``), thin over the :class:`CasePlatform` seam.

Every answer to an authenticated request carries ``server_time`` and ``X-Hub-Signature``;
authentication failures are answered unsigned (the station's key may be what failed) but always
with ``server_time``, so a station with a wrong clock learns the hub's time from the refusal.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from sync import protocol
from sync.hub.admission import GATED
from sync.hub.extensions import db
from sync.hub.services import (
    access_log,
    appointments,
    devices,
    licences,
    personal,
    relay,
    stations,
    transfers,
)
from sync.hub.services.auth import authenticate
from sync.hub.services.errors import AttachmentError, HubError
from sync.hub.services.platform import CasePlatform

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _platform() -> CasePlatform:
    return current_app.extensions["hub_platform"]


def reply(payload: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer with ``server_time``, signed when the request was authenticated."""
    body = protocol.json_bytes({"server_time": protocol.server_time(), **payload})
    # Per-event results are most of the bytes a push moves; on a thin link they are worth
    # compressing. The signature covers the JSON itself, before the transfer encoding.
    wire = body
    if len(body) > 1024 and "gzip" in request.headers.get("Accept-Encoding", ""):
        wire = protocol.compress_body(body)
    response = Response(wire, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Encoding"
    if wire is not body:
        response.headers["Content-Encoding"] = "gzip"
    station = g.get("station")
    signed = g.get("signed")
    if station is not None and signed is not None:  # a second device: answered under its own secret
        response.headers[protocol.H_HUB_SIGNATURE] = protocol.sign_response(
            personal.station_secret(g.get("device") or station), signed.nonce, status, body)
    return response


def error_reply(code: str, message: str, status: int, **extra: Any) -> Response:
    """An error answer: machine ``error``, Chinese ``message``, ``server_time``."""
    return reply({"error": code, "message": message, **extra}, status)


def _path_with_query() -> str:
    """The path exactly as the station signed it (script root included behind a prefix)."""
    path = request.script_root + request.path
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


def _read_body(limit: int) -> bytes:
    """Read the raw body, refusing more than ``limit`` bytes before reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise protocol.ProtocolError(protocol.ERR_TOO_LARGE, status=413)
    data = request.get_data(cache=True)
    if len(data) > limit:
        raise protocol.ProtocolError(protocol.ERR_TOO_LARGE, status=413)
    return data


def _spool_body(limit: int) -> BinaryIO:
    """The raw body copied to a temporary file 1 MiB at a time (never whole in memory), up to ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise protocol.ProtocolError(protocol.ERR_TOO_LARGE, status=413)
    spool = tempfile.TemporaryFile()
    size = 0
    while chunk := request.stream.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise protocol.ProtocolError(protocol.ERR_TOO_LARGE, status=413)
        spool.write(chunk)
    return spool


def signed_endpoint(body_limit_key: str | None = None, *, spool: bool = False) -> Callable:
    """Authenticate the request (signature, clock, nonce), then check the body against its digest.

    Authentication comes before reading the body, so even a 413 for an oversized body is a
    signed answer the station can trust. ``spool``: the body is a temporary file (``g.body``),
    hashed in chunks, for bodies as large as a USB bundle.
    """

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            station, signed, device = authenticate(
                request.method, _path_with_query(), request.headers,
                window_s=int(current_app.config["CLOCK_WINDOW_S"]),
                prune_probability=float(current_app.config["NONCE_PRUNE_PROBABILITY"]))
            g.station, g.signed, g.device = station, signed, device
            limit = int(current_app.config[body_limit_key]) if body_limit_key else 64 * 1024
            if not spool:
                g.body = _read_body(limit)
                protocol.verify_body_digest(signed, g.body)
                return view(*args, **kwargs)
            with _spool_body(limit) as g.body:
                protocol.verify_body_digest(signed, g.body)
                return view(*args, **kwargs)

        return wrapper

    return decorator


def admitted(view: Callable[..., Response]) -> Callable[..., Response]:
    """Run the view only with one of this process's admission slots, else answer 503 at once.

    The gate itself is WSGI middleware in front of Flask (admission_gate.py): a turned-away
    request costs no request context, no database work and no connection. This marks the view
    for it, and connects once admitted.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        db.connect(reuse_if_open=True)
        return view(*args, **kwargs)

    setattr(wrapper, GATED, True)
    return wrapper


def _json_body() -> Any:
    return protocol.decode_body(g.body, request.headers.get("Content-Encoding"),
                                max_bytes=int(current_app.config["MAX_DECOMPRESSED_BYTES"]))


@bp.errorhandler(protocol.ProtocolError)
def _protocol_error(exc: protocol.ProtocolError) -> Response:
    extra: dict[str, Any] = {}
    if exc.code == protocol.ERR_TOO_LARGE:
        extra = {"max_events": current_app.config["MAX_BATCH_EVENTS"],
                 "max_bytes": current_app.config["MAX_BATCH_BYTES"],
                 "max_decompressed_bytes": current_app.config["MAX_DECOMPRESSED_BYTES"]}
    if exc.code == protocol.ERR_VERSION:
        extra = {"supported_versions": list(protocol.SUPPORTED_VERSIONS)}
    if exc.status == 401:  # never sign a refusal of the credentials themselves
        g.pop("station", None)
    return error_reply(exc.code, exc.message, exc.status, **extra)


@bp.errorhandler(AttachmentError)
def _attachment_error(exc: AttachmentError) -> Response:
    return error_reply(exc.code, exc.message, exc.status, **exc.extra)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    return error_reply(protocol.ERR_TOO_LARGE, protocol.ERROR_MESSAGES[protocol.ERR_TOO_LARGE], 413)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return error_reply("http_" + str(exc.code), exc.description or "请求无法处理。", exc.code or 500)


@bp.get("/time")
def time_now() -> Response:
    """Unauthenticated first contact: the hub clock and the versions it serves."""
    return reply({"protocol": protocol.PROTOCOL_VERSION, "supported_versions": list(protocol.SUPPORTED_VERSIONS)})


@bp.post("/events")
@admitted
@signed_endpoint("MAX_BATCH_BYTES")
def post_events() -> Response:
    """Receive a batch of events; answer per event."""
    batch = protocol.upgrade_batch(_json_body(), g.signed.version)
    if batch.get("station") not in (None, g.station.code):
        return error_reply(protocol.ERR_FORBIDDEN, "批次中的站点编码与签名站点不一致。", 403)
    if len(batch["events"]) > int(current_app.config["MAX_BATCH_EVENTS"]):
        raise protocol.ProtocolError(
            protocol.ERR_TOO_LARGE, f"每批最多 {current_app.config['MAX_BATCH_EVENTS']} 条事件，请分批上传。",
            status=413)
    results = _platform().receive_batch(g.station, batch, device=g.signed.device)
    counts = {status: 0 for status in protocol.EVENT_STATUSES}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return reply({"batch_id": batch.get("batch_id"), "counts": counts,
                  "results": [r.to_dict() for r in results]})


@bp.get("/changes")
@admitted
@signed_endpoint()
def get_changes() -> Response:
    """Page through the station's changes feed after ``cursor``."""
    cursor = protocol.parse_bounded_int(request.args.get("cursor"), 0, lowest=0, highest=protocol.MAX_CURSOR)
    limit = protocol.parse_bounded_int(request.args.get("limit"), 100, lowest=-protocol.MAX_INT64,
                                       highest=protocol.MAX_INT64)
    limit = min(max(limit, 1), int(current_app.config["MAX_CHANGES_PER_PAGE"]))
    stations.touch(g.station)
    if g.device is not None:
        devices.touch(g.device)
    page = _platform().changes(g.station, cursor, limit, device=g.signed.device)
    return reply({"changes": page.changes, "next_cursor": page.next_cursor, "has_more": page.has_more})


@bp.post("/heartbeat")
@signed_endpoint()
def post_heartbeat() -> Response:
    """Record a heartbeat sent on its own (e.g. with nothing queued)."""
    heartbeat = _json_body()
    if isinstance(heartbeat, dict) and isinstance(heartbeat.get("heartbeat"), dict):
        heartbeat = heartbeat["heartbeat"]
    _platform().record_heartbeat(g.station, heartbeat or {})
    stations.touch(g.station)
    return reply({"ok": True})


@bp.get("/station/state")
@signed_endpoint()
def get_station_state() -> Response:
    """What the hub holds of this station (asked after a restore from a backup, docs/sync-protocol.md)."""
    raw = request.args.get("since") or ""
    since = None
    if raw:
        try:
            since = dt.date.fromisoformat(raw)
        except ValueError:
            return error_reply(protocol.ERR_BAD_REQUEST, "since 须为 YYYY-MM-DD 格式的日期。", 400)
    stations.touch(g.station)
    return reply(_platform().station_state(g.station, since, device=g.signed.device))


@bp.post("/relay/bundles")
@admitted
@signed_endpoint("MAX_RELAY_BUNDLE_BYTES", spool=True)
def post_relay_bundle() -> Response:
    """A village's USB bundle forwarded by its township: answered per event, with a return bundle."""
    try:
        answer = relay.receive_relayed(_platform(), g.station, g.body,
                                       max_batch_events=int(current_app.config["MAX_BATCH_EVENTS"]),
                                       max_decompressed=int(current_app.config["MAX_DECOMPRESSED_BYTES"]))
    except relay.RelayRefused as exc:
        return error_reply("bundle_refused", exc.message, exc.status)
    stations.touch(g.station)
    return reply(answer)


@bp.get("/station/cases/<case_id>/events")
@signed_endpoint()
def get_station_case_events(case_id: str) -> Response:
    """The events of one of this station's cases (asked after a restore, docs/sync-protocol.md)."""
    events = _platform().case_events(g.station, case_id[:40])
    if events is None:
        return error_reply(protocol.ERR_NOT_FOUND, "本站没有这个办件。", 404)
    return reply({"events": events})


@bp.post("/access-log")
@admitted
@signed_endpoint("MAX_BATCH_BYTES")
def post_access_log() -> Response:
    """Receive the station's access-log entries; each (station, seq) is stored once."""
    body = _json_body()
    entries = body.get("entries") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return error_reply(protocol.ERR_BAD_REQUEST, "请求须为 {\"entries\": [...]}。", 400)
    if len(entries) > access_log.MAX_ENTRIES:
        raise protocol.ProtocolError(protocol.ERR_TOO_LARGE,
                                     f"每次最多 {access_log.MAX_ENTRIES} 条访问日志，请分批上传。", status=413)
    try:
        result = access_log.receive(g.station, entries, device=g.signed.device)
    except access_log.EntryRefused as exc:
        return error_reply(protocol.ERR_BAD_REQUEST, str(exc), 400)
    return reply(result)


@bp.post("/appointments")
@signed_endpoint("MAX_BATCH_BYTES")
def post_appointments() -> Response:
    """The station's appointment offer and the bookings its agents made or changed (idempotent by id)."""
    body = _json_body()
    if not isinstance(body, dict) or not isinstance(body.get("bookings", []), list):
        return error_reply(protocol.ERR_BAD_REQUEST, "请求须为 {\"offer\": {...}, \"bookings\": [...]}。", 400)
    try:
        result = appointments.receive_from_station(g.station, body, device=g.signed.device)
    except HubError as exc:
        return error_reply(protocol.ERR_BAD_REQUEST, exc.message, 400)
    return reply(result)


@bp.post("/transfers/handovers")
@signed_endpoint("MAX_BATCH_BYTES")
def post_transfer_handovers() -> Response:
    """Handovers a station scanned of batches it does not hold (a village's, received on paper); by id, once."""
    body = _json_body()
    try:
        with db.atomic():
            stored, refused = transfers.record_station_handovers(
                g.station, body.get("handovers") if isinstance(body, dict) else None)
    except HubError as exc:
        return error_reply(protocol.ERR_BAD_REQUEST, exc.message, 400)
    stations.touch(g.station)
    return reply({"stored": stored, "refused": refused})


@bp.post("/attachments/check")
@signed_endpoint()
def check_attachments() -> Response:
    """Tell the station which of its files the hub still needs."""
    body = _json_body()
    digests = body.get("sha256") if isinstance(body, dict) else None
    if not isinstance(digests, list) or len(digests) > 1000:
        return error_reply(protocol.ERR_BAD_REQUEST, "请求须为 {\"sha256\": [...]}，最多 1000 个。", 400)
    return reply({"missing": _platform().check_attachments(g.station, [str(d) for d in digests])})


@bp.put("/attachments/<sha256>")
@admitted
@signed_endpoint("MAX_ATTACHMENT_BYTES")
def put_attachment(sha256: str) -> Response:
    """Receive one chunk (``Content-Range``) of a content-addressed file."""
    if not protocol.is_sha256(sha256):
        return error_reply(protocol.ERR_BAD_REQUEST, "附件地址须为小写十六进制 SHA-256。", 400)
    header = request.headers.get("Content-Range")
    if header:
        start, end, total = protocol.parse_content_range(header)
    else:  # a whole file in one request
        start, end, total = 0, len(g.body) - 1, len(g.body)
        if total == 0:
            return error_reply(protocol.ERR_BAD_REQUEST, "附件内容为空。", 400)
    result = _platform().put_attachment_chunk(
        g.station, sha256, start=start, end=end, total=total, data=g.body,
        content_type=(request.content_type or None) if request.content_type != "application/octet-stream" else None)
    return reply(result)


@bp.get("/attachments/<sha256>/status")
@signed_endpoint()
def attachment_status(sha256: str) -> Response:
    """How much of a file the hub holds for this station."""
    if not protocol.is_sha256(sha256):
        return error_reply(protocol.ERR_BAD_REQUEST, "附件地址须为小写十六进制 SHA-256。", 400)
    return reply(_platform().attachment_status(g.station, sha256))


@bp.post("/licences/lookup")
@signed_endpoint()
def lookup_licence() -> Response:
    """Does this resident hold a valid licence of this kind (免证办)? Logged with who and why."""
    try:
        return reply(licences.lookup(g.station, _json_body()))
    except licences.LookupRefused as exc:
        return error_reply(protocol.ERR_BAD_REQUEST, str(exc), 400)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    """A crash answers JSON 500 (never an ack); the station retries, the hub de-duplicates."""
    log.exception("hub api: unhandled error on %s", request.path)
    return error_reply("internal_error", "县级平台内部错误，请稍后重试。", 500)
