"""A station's second devices (a laptop on a home visit): registration, revocation, and sharing cases.

A device syncs as its station — same cases, same changes feed — but signs with its own secret,
so it can be revoked alone (a lost laptop) while the station PC goes on. Each device numbers
its cases with its own suffix (docs/sync-protocol.md "A second device at one station"), so
nothing two devices mint offline collides. The cases one device takes reach the others by the
changes feed: every accepted case of a station that has devices is announced as a
``case.shared`` change naming its origin device; the feed serves it with the county's current
view of the case attached (nothing personal is copied into the change row at rest).
"""

from __future__ import annotations

import datetime as dt
import re

from peewee import IntegrityError, fn

from sync import protocol
from sync.hub.china_time import to_china
from sync.hub.extensions import db
from sync.hub.models import Device, Station, utcnow
from sync.hub.services import changes, personal
from sync.hub.services.errors import InvalidTransition, NotFound, ValidationError
from sync.hub.services.stations import new_secret

_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,60}$")


def add_device(code: str, name: str) -> tuple[Device, str]:
    """Register a device under a station; return it with its secret (shown once, then only stored).

    Numbers count up from 1 and are never reused (a revoked device keeps its row), so a case
    number a revoked laptop minted can never be minted again by a new one.
    """
    station = Station.by_code((code or "").strip())
    if station is None:
        raise NotFound(f"站点 {code} 不存在。")
    name = (name or "").strip()
    if not _NAME.match(name):
        raise ValidationError("设备名称只能包含汉字、字母、数字、下划线和连字符，最长 60 个字。")
    secret = new_secret()
    try:
        with db.atomic():
            last = Device.select(fn.MAX(Device.number)).where(Device.station == station).scalar() or 0
            if last >= protocol.MAX_DEVICE_NO:
                raise ValidationError(f"站点 {station.code} 的设备编号已用完（最多 {protocol.MAX_DEVICE_NO} 台）。")
            device = Device.create(station=station, number=last + 1, name=name,
                                   secret=personal.seal_secret(secret), created_at=utcnow())
    except IntegrityError as exc:
        raise ValidationError(f"站点 {station.code} 已有名为“{name}”的设备。") from exc
    return device, secret


def revoke_device(code: str, name: str, reason: str) -> Device:
    """Stop a device at once (a lost laptop); its cases already at the hub stay the station's."""
    station = Station.by_code((code or "").strip())
    if station is None:
        raise NotFound(f"站点 {code} 不存在。")
    device = Device.get_or_none((Device.station == station) & (Device.name == (name or "").strip()))
    if device is None:
        raise NotFound(f"站点 {station.code} 没有名为“{name}”的设备。")
    if not device.active:  # a second click, or the form sent again: when and why it was stopped stays as it was
        when = to_china(device.revoked_at)
        raise InvalidTransition(f"设备“{device.name}”已于 {when:%Y-%m-%d %H:%M} 停用"
                                f"（{device.revoked_reason or '未说明原因'}），无需再次停用。" if when else
                                f"设备“{device.name}”已停用，无需再次停用。")
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError("请写明停用原因（例如：笔记本遗失）。")
    updated = (Device.update(active=False, revoked_at=utcnow(), revoked_reason=reason)
               .where((Device.id == device.id) & Device.active).execute())
    if updated != 1:
        raise InvalidTransition(f"设备“{device.name}”刚被其他人员停用，请刷新页面查看。")
    return Device.get_by_id(device.id)


def list_devices(code: str) -> list[Device]:
    """The station's devices, by number."""
    station = Station.by_code((code or "").strip())
    if station is None:
        raise NotFound(f"站点 {code} 不存在。")
    return list(Device.select().where(Device.station == station).order_by(Device.number))


def device_for(station: Station, number: int) -> Device:
    """The device a signed request names; refuse an unknown or revoked one with a clear reason."""
    device = Device.get_or_none((Device.station == station) & (Device.number == number))
    if device is None:
        raise protocol.ProtocolError(protocol.ERR_UNKNOWN_DEVICE)
    if not device.active:
        when = f"{device.revoked_at:%Y-%m-%d}" if device.revoked_at else ""
        raise protocol.ProtocolError(
            protocol.ERR_DEVICE_REVOKED,
            f"本设备（{device.name}，{station.code} 的第 {device.number} 号设备）已于 {when} 被县级平台停用"
            f"（{device.revoked_reason or '未说明原因'}），不能再同步；请联系县级平台管理员。")
    return device


def touch(device: Device, *, now: dt.datetime | None = None) -> None:
    """Remember when the device last reached us (the county's device list)."""
    Device.update(last_seen_at=now or utcnow()).where(Device.id == device.id).execute()


def has_devices(station: Station) -> bool:
    """Whether a station ever had a second device: only then are its cases shared between them."""
    known = getattr(station, "any_device", None)  # read with the station when its request was signed
    if known is not None:
        return bool(known)
    # written out: asked after every batch, where peewee's rendering cost more than the query
    return db.execute_sql(f'SELECT 1 FROM "hub_device" WHERE "station_id" = {db.param} LIMIT 1',
                          (station.id,)).fetchone() is not None


def share_cases(station: Station, origin_device: int, case_ids: list[str]) -> int:
    """Announce cases one device sent to the station's other devices; returns how many changes.

    Called after a batch with the cases it accepted (or answered duplicate: a batch whose answer
    was lost is sent again, so a hub that stopped between storing and announcing still
    announces). The station applies the change idempotently, so announcing twice is harmless.
    """
    unique = sorted(set(case_ids))
    if not unique or not has_devices(station):
        return 0
    with db.atomic():
        for case_id in unique:
            changes.emit(protocol.CHANGE_CASE_SHARED, {"case_id": case_id, "origin_device": int(origin_device)},
                         station=station, case_id=case_id)
    return len(unique)

