"""Bundles a township forwards for a village without a link: opened, checked, taken as a push.

The township signs the forwarding request with its own key; the bundle inside is sealed with
the village's, so only the county can open it and any change on the way fails to open. Each
batch inside carries the signature the village's push would have carried; it is checked (no
clock window: a stick takes days) and the batch goes through the same ingest as a push, so
duplicates are removed by event id exactly as for the network. The answer holds the per-event
results and a return bundle sealed for the village: the same results and the village's changes
since the cursor it reported.
"""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

from sync import protocol
from sync.hub.models import Station
from sync.hub.services import devices, personal
from sync.hub.services.errors import AttachmentError
from sync.hub.services.platform import CasePlatform
from sync.usb_bundle import (
    BATCH_SIGNED_PATH,
    KIND_OUTBOUND,
    KIND_RETURN,
    BundleError,
    Header,
    Source,
    new_bundle_id,
    open_bundle,
    read_header,
    write_bundle,
)

log = logging.getLogger(__name__)

MAX_RETURN_CHANGES = 20_000  # changes per return bundle; the rest come with the next one


class RelayRefused(Exception):
    """A forwarded bundle the hub will not take; nothing was stored. ``status`` for the answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def receive_relayed(platform: CasePlatform, relayer: Station, data: Source, *,
                    max_batch_events: int, max_decompressed: int) -> dict[str, Any]:
    """Check a forwarded bundle whole, then take its files and batches as the village's push would go."""
    try:
        header = read_header(data)
    except BundleError as exc:
        raise RelayRefused(exc.message) from exc
    if header.kind != KIND_OUTBOUND:
        raise RelayRefused("只接收村站导出的离线包。")
    village = Station.by_code(header.station)
    if village is None or not village.active:
        raise RelayRefused(f"离线包所属站点 {header.station} 未登记或已停用。", 403)
    device = bundle_device(header)
    try:  # a second device (a laptop) seals and signs with its own secret, as its network pushes do
        secret = personal.station_secret(devices.device_for(village, device) if device else village)
    except protocol.ProtocolError as exc:
        raise RelayRefused(f"离线包所属设备（{village.code} 的第 {device} 号设备）未登记或已停用：{exc.message}", 403) from exc
    try:
        opened = open_bundle(data, secret)
        content = opened.content
        batches_meta = content.get("batches")
        files_meta = content.get("files")
        if not isinstance(batches_meta, list) or not isinstance(files_meta, list) or not all(
                isinstance(m, dict) for m in batches_meta + files_meta):
            raise BundleError("离线包清单不完整。")
        lengths = [m.get("length") for m in batches_meta] + [m.get("length") for m in files_meta]
        parts = opened.iter_parts(lengths)
        batches = [_checked_batch(secret, village, device, meta, next(parts), max_batch_events, max_decompressed)
                   for meta in batches_meta]
        for meta, body in zip(files_meta, parts, strict=True):  # a first pass: every scan matches its digest
            if not protocol.is_sha256(meta.get("sha256")) or protocol.sha256_hex(body) != meta["sha256"]:
                raise RelayRefused("离线包中的扫描件与其编号不符。")
    except BundleError as exc:
        raise RelayRefused(exc.message) from exc
    missing = set(platform.check_attachments(village, [m["sha256"] for m in files_meta]))
    parts = opened.iter_parts(lengths)  # again, one scan in memory at a time
    for _meta in batches_meta:
        next(parts)
    for meta, body in zip(files_meta, parts, strict=True):
        if meta["sha256"] in missing and body:
            try:
                platform.put_attachment_chunk(village, meta["sha256"], start=0, end=len(body) - 1, total=len(body),
                                              data=body, content_type=str(meta.get("content_type") or "") or None)
            except AttachmentError as exc:
                log.warning("hub: relayed file %s of %s refused: %s", meta["sha256"], village.code, exc.message)
    results: list[protocol.EventResult] = []
    for batch in batches:
        results.extend(platform.receive_batch(village, batch, device=device))
    counts = {status: 0 for status in protocol.EVENT_STATUSES}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    answers = [r.to_dict() for r in results]
    cursor = content.get("cursor")
    cursor = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) and 0 <= cursor <= protocol.MAX_CURSOR else 0
    log.info("hub: bundle %s of %s (no. %s) relayed by %s: %s", header.bundle_id, village.code, header.seq,
             relayer.code, counts)
    return {"bundle_id": header.bundle_id, "station": village.code, "seq": header.seq, "counts": counts,
            "results": answers,
            "return_bundle": base64.b64encode(_return_bundle(platform, village, device, secret, header.seq,
                                                             header.township, answers, cursor)).decode("ascii")}


def bundle_device(header: Header) -> int:
    """The device that made a bundle (0: the station PC; 1…99: a second device, a laptop)."""
    value = header.fields.get("device") or 0
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99 else -1


def _checked_batch(secret: str, village: Station, device: int, meta: dict[str, Any], body: bytes, max_events: int,
                   max_decompressed: int) -> dict[str, Any]:
    """A batch whose village signature holds, decoded and upgraded as ``POST /events`` does."""
    headers = meta.get("headers")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise RelayRefused("离线包中的批次缺少签名。")
    try:
        signed = protocol.parse_signed_headers(headers)
        protocol.verify_request(secret, "POST", BATCH_SIGNED_PATH, headers, body, now=float(signed.timestamp))
        if signed.station != village.code or signed.device != device:
            raise protocol.ProtocolError(protocol.ERR_FORBIDDEN)
        batch = protocol.upgrade_batch(protocol.decode_body(body, "gzip", max_bytes=max_decompressed), signed.version)
    except protocol.ProtocolError as exc:
        raise RelayRefused(f"离线包中的批次未通过村站签名核验：{exc.message}", 403 if exc.status == 401 else 400) from exc
    if batch.get("station") not in (None, village.code):
        raise RelayRefused("批次中的站点编码与签名站点不一致。", 403)
    if len(batch["events"]) > max_events:
        raise RelayRefused(f"离线包中的批次超过每批 {max_events} 条。")
    return batch


def _return_bundle(platform: CasePlatform, village: Station, device: int, secret: str, seq: int, township: str,
                   results: list[dict[str, Any]], cursor: int) -> bytes:
    """The answers and the village's changes since ``cursor`` as ``device`` sees them, sealed for that device."""
    changes: list[dict[str, Any]] = []
    next_cursor = cursor
    while len(changes) < MAX_RETURN_CHANGES:
        page = platform.changes(village, next_cursor, protocol.MAX_CHANGES_PER_PAGE, device=device)
        changes.extend(page.changes)
        next_cursor = page.next_cursor
        if not page.has_more or not page.changes:
            break
    header = {"kind": KIND_RETURN, "bundle_id": new_bundle_id(), "station": village.code, "township": township,
              "seq": seq, "events": len(results), "changes": len(changes), **({"device": device} if device else {})}
    out = io.BytesIO()
    write_bundle(out, secret, header, {"results": results, "changes": changes, "next_cursor": next_cursor})
    return out.getvalue()
