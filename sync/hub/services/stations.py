"""The station registry: credentials, heartbeats, and who has gone dark."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Change, Station, utcnow
from sync.hub.services import changes, personal
from sync.hub.services.bulk_sql import prepared_update
from sync.hub.services.errors import NotFound, ValidationError
from websec.urls import web_url_problem

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def new_secret() -> str:
    """Return a fresh station secret: 256 random bits, URL-safe so it pastes cleanly."""
    return secrets.token_urlsafe(32)


def create_station(code: str, name: str) -> tuple[Station, str]:
    """Register a station and return it with its secret (shown once, then only stored)."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not _CODE.match(code):
        raise ValidationError("站点编码只能包含字母、数字、下划线和连字符，最长 32 位。")
    if not name:
        raise ValidationError("请填写站点名称。")
    secret = new_secret()
    try:
        with db.atomic():
            station = Station.create(code=code, name=name, secret=personal.seal_secret(secret))
    except IntegrityError as exc:
        raise ValidationError(f"站点编码 {code} 已存在。") from exc
    return station, secret


def chosen(code: str | None) -> Station | None:
    """The station a list, statistics page or export is narrowed to; None (no code) for the whole county.

    A code no station has (typed, or an old link) is refused in Chinese, the same on every county
    page, rather than listing 共 0 件 on one page and a bare 404 on another.
    """
    code = (code or "").strip()
    if not code:
        return None
    station = Station.by_code(code)
    if station is None:
        raise NotFound(f"没有编码为 {code[:40]} 的站点，请从列表中选择站点。")
    return station


#: a 跨域办 case forwarded by a peer county before stations sent their name with it
RECEIVING_STATION_UNNAMED = "原收件的便民服务站"


def receiving_station_name(station: Station, snapshot: dict[str, Any]) -> str:
    """The station where the resident handed the case in, as she knows it.

    A case of this county's own station: that station. A 跨域办 case here comes from the peer
    county's hub (``station`` is that county), so the name is the one the station sent with the
    case (``received_station_name``): the resident brings materials and collects results there,
    not at another county's platform.
    """
    if not station.is_peer:
        return station.name
    return str(snapshot.get("received_station_name") or RECEIVING_STATION_UNNAMED)


def receiving_station_code(station: Station, snapshot: dict[str, Any]) -> str:
    """The code of the station where the resident handed the case in (受理服务站编码 in the provincial export).

    As :func:`receiving_station_name`: for a case a peer county forwarded, ``station`` is that
    county's platform, so the code is the one the station sent with the case
    (``received_station_code``). A station too old to send it, or a code that is no station code,
    leaves the forwarding platform's code, as before.
    """
    code = snapshot.get("received_station_code") if station.is_peer else None
    return code if isinstance(code, str) and protocol.is_station_code(code) else station.code


def rotate_secret(code: str) -> str:
    """Give a station a new secret (e.g. a lost PC); the old one stops working at once."""
    station = Station.by_code(code)
    if station is None:
        raise NotFound(f"站点 {code} 不存在。")
    secret = new_secret()
    Station.update(secret=personal.seal_secret(secret)).where(Station.id == station.id).execute()
    return secret


def record_heartbeat(station: Station, raw: Any, *, now: dt.datetime | None = None) -> None:
    """Store the station's latest heartbeat; unknown or malformed fields are dropped, not fatal."""
    update = heartbeat_update(station, raw, now=now)
    if update is not None:
        update()


def heartbeat_update(station: Station, raw: Any, *, now: dt.datetime | None = None) -> Callable[..., Any] | None:
    """The UPDATE that stores the station's heartbeat, ready to run (None: nothing to store).

    A batch's heartbeat is written inside the batch's own transaction (ingest.receive_batch's
    ``also``), so it costs no commit of its own.
    """
    heartbeat = protocol.normalize_heartbeat(raw)
    if not heartbeat:
        return None
    now = now or utcnow()
    columns = ("app_version", "schema_version", "protocol", "queue_length", "oldest_queued_age_s",
               "set_aside_count", "clock_offset_s", "free_disk_bytes")
    values: dict[str, Any] = {name: heartbeat.get(name) for name in columns}
    values.update(heartbeat=heartbeat, heartbeat_at=now, last_seen_at=now)
    # Every batch a station sends carries one: rendered by peewee each time, this update cost the
    # hub about as much as the rest of a one-event batch (issue 17). Rendered once per shape instead.
    return prepared_update(Station, values, {"id": station.id}, plan_once=True, durable=False)


def touch(station: Station, *, now: dt.datetime | None = None) -> None:
    """Remember that the station reached us, even without a heartbeat (e.g. a pull)."""
    prepared_update(Station, {"last_seen_at": now or utcnow()}, {"id": station.id}, plan_once=True,
                    durable=False)()  # every pull


def check_setting_urls(settings: dict[str, Any]) -> None:
    """Refuse a setting whose name says it is an address (``…url…``) unless it is http/https.

    Station settings reach every village PC; a ``javascript:`` address there would run on them.
    """
    for key, value in settings.items():
        if "url" in str(key).lower() and value not in (None, ""):
            problem = web_url_problem(value) if isinstance(value, str) else "网址须为文本。"
            if problem:
                label = SETTING_LABELS[key][0] if key in SETTING_LABELS else f"设置 {key}"  # as the form names it
                raise ValidationError(f"{label}：{problem}")


#: The township centre (its station code) that carries a station's paper batches (物料流转) up to the
#: county: besides the packer and the batch's destination, the one other station that may record
#: handovers of them (services/transfers.py).
TOWNSHIP_SETTING = "township"

#: The station's phone the residents' progress page offers as a ``tel:`` link (services/public.py): stations
#: do not send their own profile to the county, so the county admin sets it here.
PUBLIC_PHONE_SETTING = "public_phone"
#: A phone as a ``tel:`` link takes it: digits, ``+`` and ``-`` (spaces dropped), 5 to 20 of them.
PHONE = re.compile(r"^[0-9+\-]{5,20}$")

#: The settings a county admin sets per station on a form (no JSON to type):
#: name → (label, kind, low, high); a number must lie in [low, high].
SETTING_LABELS: dict[str, tuple[str, str, int, int]] = {
    "sync_interval_seconds": ("自动同步间隔（秒）", "number", 10, 24 * 3600),
    "query_url_base": ("本站查询页地址（回执二维码）", "url", 0, 0),
    TOWNSHIP_SETTING: ("所属乡镇便民服务中心的站点编码（物料流转经其转交）", "text", 0, 0),
    PUBLIC_PHONE_SETTING: ("服务站电话（群众查询办件进度时可一键拨打）", "phone", 0, 0),
}


def settings_from_form(current: dict[str, Any], form: Any, *, code: str) -> dict[str, Any]:
    """Station ``code``'s settings with the form's values: a blank field removes that setting, the
    settings the form does not show are kept as they are; a bad value is refused in Chinese.

    A station is never its own township centre: its batches would have no one to carry them up."""
    settings = {k: v for k, v in (current or {}).items() if k not in SETTING_LABELS}
    for key, (label, kind, low, high) in SETTING_LABELS.items():
        raw = str(form.get(key) or "").strip()
        if not raw:
            continue
        if kind == "number":
            if not raw.isdecimal() or not low <= int(raw) <= high:  # "１２" typed full-width counts; "²" does not
                raise ValidationError(f"{label}应为 {low} 到 {high} 之间的整数。")
            settings[key] = int(raw)
        elif kind == "phone":
            raw = raw.replace(" ", "")
            if not PHONE.match(raw):
                raise ValidationError(f"{label}：请填写数字电话号码，如 0351-5550101 或 13800000000。")
            settings[key] = raw
        elif key == TOWNSHIP_SETTING:
            if raw == code:
                raise ValidationError(f"{label}：不能填写本站自己的站点编码 {raw}，请填写其所属乡镇便民服务中心的站点编码。")
            if Station.by_code(raw) is None:
                raise ValidationError(f"{label}：站点 {raw} 未在县级登记，请核对站点编码。")
            settings[key] = raw
        else:
            settings[key] = raw[:300]
    return settings


def update_settings(code: str, settings: dict[str, Any], *, clerk: str) -> Station:
    """Replace a station's settings and send them down the changes feed in one transaction."""
    station = Station.by_code(code)
    if station is None:
        raise NotFound(f"站点 {code} 不存在。")
    if not isinstance(settings, dict):
        raise ValidationError("站点设置须为 JSON 对象。")
    check_setting_urls(settings)
    with db.atomic():
        Station.update(settings=settings).where(Station.id == station.id).execute()
        changes.emit(protocol.CHANGE_STATION_SETTINGS, {"settings": settings, "updated_by": clerk},
                     station=station)
    station.settings = settings
    return station


def broadcast_public_url(url: str | None, *, by: str = "PUBLIC_URL") -> bool:
    """Send the county's public address (``PUBLIC_URL``) to every station, once per new value.

    Stations put ``<url>/q/<code>`` in their receipts' QR codes, so a resident at home reaches
    the county's page instead of a village PC. A broadcast settings change carries only this
    key (stations keep their other settings); returns whether one was sent.
    """
    url = (url or "").strip()
    if url:
        problem = web_url_problem(url)
        if problem:
            raise ValidationError(f"公众查询网址 PUBLIC_URL：{problem}")
    last = ""
    broadcasts = (Change.select().where(Change.station.is_null() & (Change.kind == protocol.CHANGE_STATION_SETTINGS))
                  .order_by(Change.id.desc()))
    for change in broadcasts:
        settings = (change.payload or {}).get("settings") or {}
        if "public_url" in settings:
            last = settings["public_url"] or ""
            break
    if last == url:
        return False
    with db.atomic():
        changes.emit(protocol.CHANGE_STATION_SETTINGS, {"settings": {"public_url": url}, "updated_by": by})
    return True


@dataclass(frozen=True)
class StationHealth:
    """What the county's station list shows for one station."""

    station: Station
    dark: bool
    queue_ageing: bool
    oldest_queued_age_now_s: int | None
    seen_ago_s: int | None
    #: "UTC+00:00" when the station's PC is not on Beijing time (its last heartbeat said so), else "":
    #: it dates its cases by that clock, a day off the county's between midnights
    zone_off: str = ""


def zone_off(heartbeat: dict[str, Any] | None) -> str:
    """The station PC's zone as "UTC+00:00" when its heartbeat's ``station_time`` is not at +08:00, else ""."""
    try:
        stamp = dt.datetime.fromisoformat(str((heartbeat or {}).get("station_time") or ""))
    except ValueError:
        return ""
    offset = stamp.utcoffset()
    if offset is None or offset == dt.timedelta(hours=8):
        return ""
    return "UTC" + stamp.isoformat()[-6:]


def station_health(station: Station, *, dark_hours: float, queue_age_warn_hours: float,
                   now: dt.datetime | None = None) -> StationHealth:
    """Judge one station: dark when unseen too long, ageing when its oldest queued event is old.

    The queue age is projected to now: the heartbeat said how old the oldest event was then,
    and a station that went quiet has not sent it since.
    """
    now = now or utcnow()
    seen_ago = int((now - station.last_seen_at).total_seconds()) if station.last_seen_at else None
    dark = seen_ago is None or seen_ago > dark_hours * 3600
    age_now = None
    if station.queue_length and station.oldest_queued_age_s is not None and station.heartbeat_at:
        age_now = int(station.oldest_queued_age_s + (now - station.heartbeat_at).total_seconds())
    ageing = age_now is not None and age_now > queue_age_warn_hours * 3600
    return StationHealth(station, dark, ageing, age_now, seen_ago, zone_off(station.heartbeat))


def list_health(*, dark_hours: float, queue_age_warn_hours: float) -> list[StationHealth]:
    """Every station with its health, the ones needing attention first."""
    now = utcnow()
    rows = [station_health(s, dark_hours=dark_hours, queue_age_warn_hours=queue_age_warn_hours, now=now)
            for s in Station.select().order_by(Station.code)]
    return sorted(rows, key=lambda h: (not (h.dark or h.queue_ageing), h.station.code))
