"""The township as a relay: holds the villages' sealed bundles, forwards them, keeps the answers.

The township has no key to a village's bundle: it files it by the plain header (which village,
which number, for which township), forwards the bytes as they are on its own signed link, and
keeps the county's return bundle — sealed for the village — until a clerk exports it.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from peewee import BlobField, CharField, DateTimeField, IntegerField, TextField, fn
from playhouse.sqlite_ext import AutoIncrementField

from sync import protocol
from sync.errors import HubFault
from sync.local_db import SyncModel, db, now
from sync.summary import SyncSummary
from sync.transport import HubClient, refuse_unless_ok
from sync.usb_bundle import (
    KIND_OUTBOUND,
    KIND_RETURN,
    SUFFIX,
    BundleError,
    Header,
    Source,
    device_name,
    file_digest,
    read_header,
    township_of,
)

log = logging.getLogger(__name__)

RELAY_PATH = "/api/v1/relay/bundles"
UP, DOWN = "up", "down"  # village → county, county → village
WAITING, FORWARDED, REFUSED, READY, EXPORTED = "waiting", "forwarded", "refused", "ready", "exported"
LOST = "lost"  # the held copy is gone from this PC: it cannot be forwarded, the village exports again
STATE_LABELS = {WAITING: "待转发县级", FORWARDED: "已转发，县级已答复", REFUSED: "县级拒收",
                READY: "回执包待导出", EXPORTED: "回执包已导出", LOST: "文件缺失，未转发"}
LOST_REASON = ("本中心保存的离线包文件已不在本机（可能被删除，或恢复备份时未带上扫描件文件夹），无法转发。"
               "请村站重新导出离线包（未确认的办件会再次放入），带来后再导入。")


class RelayBundle(SyncModel):
    """One sealed bundle held at the township: a village's going up, or the county's coming down."""

    id = AutoIncrementField()
    bundle_id = CharField(max_length=26, unique=True)
    direction = CharField(max_length=4)
    station_code = CharField(max_length=32, index=True)  # the village
    device = IntegerField(default=0)  # 0 the village's PC; 1…99 its second device (a laptop), numbered on its own
    seq = IntegerField()  # up: the village's bundle number; down: the number it answers
    events = IntegerField(default=0)
    files = IntegerField(default=0)
    size = IntegerField(default=0)
    sha256 = CharField(max_length=64)
    data = BlobField(null=True)  # the sealed bytes: return bundles (small), and village bundles held before 0022
    path = CharField(max_length=300, default="")  # a village's bundle, as a file beside the scans (gone once forwarded)
    state = CharField(max_length=12)
    reason = TextField(default="")
    counts = TextField(default="")  # the county's per-status counts, JSON
    received_at = DateTimeField(default=now)
    done_at = DateTimeField(null=True)  # forwarded (up) / exported (down)

    class Meta:
        table_name = "relay_bundle"

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def source(self) -> str:
        """Whose bundle, as a clerk reads it: a laptop's bundles are numbered apart from its PC's,
        so "ST… 第 1 号" alone named two bundles and hid which return bundle to export."""
        return self.station_code if not self.device else f"{self.station_code}（{device_name(self.device)}）"


def hold_for_relay(source: Source, area_code: str, folder: Path) -> RelayBundle:
    """File a village's bundle for forwarding; refuse it with nothing stored when it is not ours to carry.

    The bundle is copied into ``folder`` in chunks (it may be hundreds of MiB) and forwarded from there.
    """
    header = read_header(source)
    if header.kind == KIND_RETURN:
        raise BundleError("这是县级回执包，应在对应的村站导入，乡镇中心无需导入。")
    if header.kind != KIND_OUTBOUND:
        raise BundleError("离线包类型不对。")
    ours = township_of(area_code)
    if not ours:
        raise BundleError("本中心的区划代码未设置，无法确认离线包是否属于本乡镇，未导入。"
                          "请站长在“本站设置”中填写本中心的12位区划代码后再导入。")
    if header.device < 0:
        raise BundleError("离线包文件已损坏（设备编号不对）。")
    if header.township != ours:
        raise BundleError(f"此离线包属于区划 {header.township} 的乡镇，不是本中心（{ours}），未导入。"
                          "请交给该村所属的乡镇便民服务中心。")
    digest = file_digest(source)  # hashed and copied before the write lock: a bundle may be hundreds of MiB
    staged = _copy_in(source, folder)
    try:
        return _file(header, digest, staged, folder / f"{header.bundle_id}{SUFFIX}")
    finally:
        staged.unlink(missing_ok=True)  # refused (or already moved into place): never the held copy


def _copy_in(source: Source, folder: Path) -> Path:
    """Copy the file from the stick under a name of its own: the same bundle brought twice, or
    at two desks at once, must not write over (or, refused, delete) the copy already held."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=f"{SUFFIX}.part", dir=folder)
    src = io.BytesIO(source) if isinstance(source, bytes) else source
    src.seek(0)
    with os.fdopen(handle, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return Path(name)


def _file(header: Header, digest: str, staged: Path, target: Path) -> RelayBundle:
    """Record the bundle and move its staged copy to ``target`` — only once every check passed."""
    with db.atomic("IMMEDIATE"):
        same = RelayBundle.get_or_none(RelayBundle.bundle_id == header.bundle_id)
        if same is not None:
            raise BundleError(f"此离线包（{header.station} 第 {header.seq} 号）已于 "
                              f"{same.received_at:%Y-%m-%d %H:%M} 导入过，未重复导入。")
        newest = (RelayBundle.select(fn.MAX(RelayBundle.seq))
                  .where((RelayBundle.direction == UP) & (RelayBundle.station_code == header.station)
                         & (RelayBundle.device == header.device)).scalar())
        if newest is not None and header.seq <= newest:
            raise BundleError(f"此离线包是 {header.station}（{device_name(header.device)}）的第 {header.seq} 号，"
                              f"比本中心已导入的第 {newest} 号旧，"
                              "未导入。请导入该村站最新导出的离线包。")
        held = RelayBundle.create(
            bundle_id=header.bundle_id, direction=UP, station_code=header.station, device=header.device, seq=header.seq,
            events=_count(header.fields.get("events")), files=_count(header.fields.get("files")),
            size=staged.stat().st_size, sha256=digest, path=str(target), state=WAITING)
        os.replace(staged, target)  # inside the transaction: a row never names a file that is not there
        return held


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0


def forward_waiting(client: HubClient, summary: SyncSummary | None = None) -> list[RelayBundle]:
    """Forward every bundle waiting here, oldest first; keep each county answer as a return bundle.

    A bundle the county refuses (altered, unknown village, larger than it takes) is marked with
    the county's reason and the rest go on; a link problem ends the round and they wait for the
    next one. Sending one twice is safe: the county removes duplicates by event id.
    """
    done = []
    for row in list(RelayBundle.select(RelayBundle.id).where(
            (RelayBundle.direction == UP) & (RelayBundle.state == WAITING)).order_by(RelayBundle.id)):
        bundle = RelayBundle.get_by_id(row.id)
        try:
            held_copy = open(bundle.path, "rb") if bundle.path else io.BytesIO(bytes(bundle.data))  # streamed
        except FileNotFoundError:  # one lost file must not stop the round (and the pull) for every bundle
            log.warning("relay bundle %s of %s is missing at %s", bundle.bundle_id, bundle.station_code, bundle.path)
            _mark(bundle, LOST, LOST_REASON)
            _tell(summary, f"离线包 {bundle.source} 第 {bundle.seq} 号未转发：{LOST_REASON}")
            done.append(bundle)
            continue
        with held_copy as body:
            status, answer = client.call("POST", RELAY_PATH, body, headers={"Content-Type": "application/octet-stream"})
        if status >= 500:  # the county's fault, not the bundle's: the next round sends it again
            refuse_unless_ok(status, answer, "离线包")
        if status != 200:
            _mark(bundle, REFUSED, str(answer.get("message") or status))
            _tell(summary, f"离线包 {bundle.source} 第 {bundle.seq} 号县级拒收：{bundle.reason}")
            done.append(bundle)
            continue
        _keep_answer(bundle, answer)
        _tell(summary, f"离线包 {bundle.source} 第 {bundle.seq} 号已转发县级，回执包可以导出了")
        done.append(bundle)
    return done


def _tell(summary: SyncSummary | None, line: str) -> None:
    if summary is not None:
        summary.details.append(line)


def _mark(bundle: RelayBundle, state: str, reason: str) -> None:
    with db.atomic("IMMEDIATE"):
        bundle.state, bundle.reason, bundle.done_at = state, reason, now()
        bundle.save(only=[RelayBundle.state, RelayBundle.reason, RelayBundle.done_at])  # not the bytes again


def _keep_answer(bundle: RelayBundle, answer: dict[str, Any]) -> None:
    """Store the county's return bundle for the village and mark the village's bundle forwarded."""
    try:
        returned = base64.b64decode(str(answer.get("return_bundle") or ""), validate=True)
        header = read_header(returned)
    except (binascii.Error, ValueError, BundleError) as exc:
        raise HubFault("县级平台的答复中没有可用的回执包，稍后重试。") from exc
    digest = protocol.sha256_hex(returned)
    with db.atomic("IMMEDIATE"):
        if RelayBundle.get_or_none(RelayBundle.bundle_id == header.bundle_id) is None:
            RelayBundle.create(bundle_id=header.bundle_id, direction=DOWN, station_code=header.station,
                               device=max(header.device, 0),
                               seq=header.seq, events=len(answer.get("results") or []), size=len(returned),
                               sha256=digest, data=returned, state=READY,
                               counts=protocol.json_text(answer.get("counts") or {}))
        bundle.state, bundle.done_at, bundle.data, bundle.reason = FORWARDED, now(), None, ""
        bundle.counts = protocol.json_text(answer.get("counts") or {})
        held, bundle.path = bundle.path, ""
        bundle.save()
    if held:
        Path(held).unlink(missing_ok=True)  # the county has it: the copy here is no longer needed


def return_for(station_code: str, device: int = 0) -> RelayBundle:
    """The newest return bundle for a village (it answers everything the older ones did).

    Not marked exported here: :func:`mark_exported` once it is on the stick, so a stick that was not
    there leaves it shown as 回执包待导出.
    """
    bundle = (RelayBundle.select().where((RelayBundle.direction == DOWN) & (RelayBundle.station_code == station_code)
                                         & (RelayBundle.device == device))
              .order_by(RelayBundle.seq.desc()).first())
    if bundle is None or bundle.data is None:
        raise BundleError(f"还没有 {station_code}（{device_name(device)}）的县级回执包：请先把它的离线包转发县级（同步一次）。")
    return bundle


def mark_exported(bundle: RelayBundle) -> None:
    """The return bundle was written out for the village."""
    with db.atomic("IMMEDIATE"):
        bundle.state, bundle.done_at = EXPORTED, now()
        bundle.save(only=[RelayBundle.state, RelayBundle.done_at])  # not the bytes again


def relay_counts() -> dict[str, int]:
    """How many villages' bundles wait to go up and how many return bundles wait to go down (the sync page)."""
    waiting = RelayBundle.select().where((RelayBundle.direction == UP) & (RelayBundle.state == WAITING)).count()
    ready = RelayBundle.select().where((RelayBundle.direction == DOWN) & (RelayBundle.state == READY)).count()
    return {"waiting": waiting, "ready": ready}


def held(limit: int = 100) -> list[RelayBundle]:
    """The bundles at this township, newest first, without their bytes (for the page)."""
    fields = [f for f in RelayBundle._meta.sorted_fields if f.name != "data"]
    return list(RelayBundle.select(*fields).order_by(RelayBundle.id.desc()).limit(limit))
