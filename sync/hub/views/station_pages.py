"""A station's devices and bookings on the county's pages: list the devices, add or revoke one (county
admins); see a day's bookings with their state. The same services as ``python -m sync.hub`` and the public page."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rules.appointments import STATUSES
from rules.periods import bad_date_message
from sync.hub.china_time import CHINA_TZ
from sync.hub.extensions import db
from sync.hub.models import Station
from sync.hub.security import ADMIN, CASEWORK, log_access, require_role
from sync.hub.services import appointments, devices
from sync.hub.services.errors import HubError

bp = Blueprint("station_pages", __name__, url_prefix="/stations")


@bp.before_request
def _require_casework_role() -> None:
    require_role(*CASEWORK)


def _station(code: str) -> Station:
    return Station.by_code(code) or abort(404)


def _require_county_admin() -> None:
    """A device's secret signs for the station, and a revoked one stops for good: county admins only."""
    require_role(*ADMIN)


def _device_page(station: Station, *, errors: dict[str, str] | None = None, name: str = "",
                 status: int = 200) -> tuple[str, int]:
    return render_template("hub/devices.html", station=station, devices=devices.list_devices(station.code),
                           errors=errors or {}, name=name), status


@bp.get("/<code>/devices")
def device_list(code: str) -> tuple[str, int]:
    """The station's devices: number, name, last seen, active or revoked (and why)."""
    return _device_page(_station(code))


@bp.post("/<code>/devices/add")
def device_add(code: str) -> tuple[str, int]:
    """Register a device under the station (county admins only, logged); show its secret on this answer only.

    The secret is in no redirect, session or log: it is rendered once into this ``no-store`` answer, and
    a reload posts the form again, which the name already taken refuses.
    """
    _require_county_admin()
    station = _station(code)
    name = request.form.get("name", "")
    try:
        with db.atomic():
            device, secret = devices.add_device(station.code, name)
            log_access("device_add", obj=f"{station.code}/{device.number}",
                       detail=f"登记设备“{device.name}”（第 {device.number} 号），密钥已当面显示一次")
    except HubError as exc:
        return _device_page(station, errors={"name": exc.message}, name=name.strip()[:60], status=400)
    return render_template("hub/device_added.html", station=station, device=device, secret=secret,
                           hub_url=request.host_url.rstrip("/")), 200


@bp.post("/<code>/devices/revoke")
def device_revoke(code: str) -> Response:
    """Stop one device at once (a lost laptop); county admins only, logged with the reason."""
    _require_county_admin()
    station = _station(code)
    name = request.form.get("name", "")
    try:
        with db.atomic():
            device = devices.revoke_device(station.code, name, request.form.get("reason", ""))
            log_access("device_revoke", obj=f"{station.code}/{device.number}",
                       detail=f"停用设备“{device.name}”：{device.revoked_reason}")
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"设备“{device.name}”已停用，它的下一次同步将被拒绝。", "success")
    return redirect(url_for("station_pages.device_list", code=station.code))


@bp.get("/<code>/bookings")
def booking_list(code: str) -> str:
    """The station's bookings for a day (today unless asked), by time, masked, with their state."""
    station = _station(code)
    today = dt.datetime.now(CHINA_TZ).date()
    raw = (request.args.get("day") or "").strip()
    try:
        day = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        flash(bad_date_message("日期", today) + "已显示今天的预约。", "error")
        day = today
    rows = appointments.day_list(station, day)
    log_access("appointment_list", obj=station.code,
               detail=f"查看 {station.name} {day.isoformat()} 的预约（{len(rows)} 个，姓名电话已遮蔽）")
    return render_template("hub/bookings.html", station=station, day=day, rows=rows, statuses=STATUSES)
