"""The agent's day plan of bookings, booking for a caller, no-shows, and turning a booking into a case."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules import appointments as rules
from rules.periods import PeriodError, parse_day
from station.services import appointments
from station.services.calendar import load_calendar
from station.services.catalog import NO_CATALOG, current_items, has_catalog
from station.services.errors import DomainError
from station.views.access import ADMIN, FRONT_OFFICE, log_access
from sync import state
from websec.roles import roles_required

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


def _day_arg() -> dt.date:
    """The plan's day from the address; a day that is none (or in year 9999) shows today's, saying why."""
    today = dt.date.today()
    try:
        return parse_day(request.args.get("day"), "日期", today)
    except PeriodError as exc:
        flash(exc.message + "已显示今天的预约。", "error")
        return today


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def plan():  # noqa: ANN201
    """The day plan: every booking of the day, by time, with what to do next."""
    day = _day_arg()
    rows = appointments.day_plan(day)
    log_access("appointment_list", detail=f"查看 {day:%Y-%m-%d} 的预约安排（{len(rows)} 个，姓名电话已遮蔽）")
    return render_template("appointments/plan.html", day=day, rows=rows, prev=day - dt.timedelta(days=1),
                           next=day + dt.timedelta(days=1), today=dt.date.today())


def _no_catalog_yet(template: str, **context: object):  # noqa: ANN202
    """A page that lists the catalog's items, on a fresh station before its first pull: it opens, says why
    there is nothing to choose (its form hidden), and a form posted anyway is refused with nothing changed."""
    flash(NO_CATALOG, "warning" if request.method == "GET" else "error")
    return render_template(template, no_catalog=True, **context), 200 if request.method == "GET" else 400


def _new_page(values: dict[str, str], status: int = 200):  # noqa: ANN202
    offer = appointments.published_offer()
    calendar = load_calendar()
    return render_template("appointments/new.html", values=values, offer=offer,
                           provisional={d for d in offer["dates"] if not calendar.year_known(int(d[:4]))},
                           items=rules.item_choices(offer), any_item=offer["items"] == rules.ANY_ITEM,
                           enabled=appointments.offer_settings()["enabled"]), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def new():  # noqa: ANN201
    """Book a slot for a caller (on the phone or at the window)."""
    if not has_catalog():
        return _no_catalog_yet("appointments/new.html", values={})
    if request.method == "GET":
        return _new_page({"slot_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()})
    values = {name: (request.form.get(name) or "").strip()[:200]
              for name in ("item_code", "slot_date", "slot_start", "name", "phone", "address", "home_visit")}
    try:
        booking = appointments.book_for_caller(
            current_user._get_current_object(), item_code=values["item_code"], day=values["slot_date"],
            start=values["slot_start"], name=values["name"], phone=values["phone"],
            home_visit=values["home_visit"] == "1", address=values["address"])
    except DomainError as exc:
        flash(exc.message, "error")
        return _new_page(values, 400)
    log_access("appointment_change", obj=booking.code,
               detail=f"代为预约 {booking.slot_date:%Y-%m-%d} {booking.slot_start}（{booking.item_name}）")
    flash(f"已预约 {booking.slot_date:%m月%d日} {booking.slot_start}，预约码 {booking.code}（请告诉来电人）。", "success")
    return redirect(url_for("appointments.plan", day=booking.slot_date.isoformat()))


@bp.post("/<appointment_id>/status")
@roles_required(*FRONT_OFFICE)
def set_status(appointment_id: str):  # noqa: ANN201
    """Record a no-show or a cancellation."""
    status = request.form.get("status", "")
    try:
        booking = appointments.set_status(appointment_id, status)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("appointments.plan", day=request.form.get("day", "")))
    log_access("appointment_change", obj=booking.code, detail=f"登记预约为“{rules.STATUSES[booking.status]}”")
    flash(f"预约 {booking.code} 已登记为“{rules.STATUSES[booking.status]}”。", "success")
    return redirect(url_for("appointments.plan", day=booking.slot_date.isoformat()))


@bp.get("/<appointment_id>/case")
@roles_required(*FRONT_OFFICE)
def to_case(appointment_id: str):  # noqa: ANN201
    """Turn a booking into a case: straight to the item's intake form, prefilled; choose the item first if open."""
    try:
        booking = appointments.get(appointment_id)
    except DomainError:
        abort(404)
    if booking.personal_purged_at is not None:
        flash(appointments.PURGED, "error")
        return redirect(url_for("appointments.plan", day=booking.slot_date.isoformat()))
    if booking.status not in ("booked", "no_show"):
        flash(f"这个预约{rules.STATUSES[booking.status]}，不能再转为办件。", "error")
        return redirect(url_for("appointments.plan", day=booking.slot_date.isoformat()))
    if not has_catalog():
        return _no_catalog_yet("appointments/pick_item.html", booking=booking)
    code = request.args.get("item_code") or booking.item_code
    item = next((i for i in current_items() if i.item_code == code), None) if code else None
    if item is None:
        return render_template("appointments/pick_item.html", booking=booking, items=current_items())
    return redirect(url_for("intake.item_form", item_id=item.id, appointment=booking.id))


@bp.route("/offer", methods=["GET", "POST"])
@roles_required(*ADMIN)
def offer():  # noqa: ANN201
    """What the station offers for booking, and when (the county's public page shows it after a sync)."""
    if not has_catalog():  # the offer names the catalog's items
        return _no_catalog_yet("appointments/offer.html")
    settings = appointments.offer_settings()
    device = state.device_number()  # a laptop of the station: its settings stay on it
    status = 200
    if request.method == "POST":
        times = []
        for n in range(8):
            start, end = request.form.get(f"start_{n}", "").strip(), request.form.get(f"end_{n}", "").strip()
            if start or end:
                times.append({"start": start, "end": end, "capacity": request.form.get(f"capacity_{n}", "")})
        try:
            settings = appointments.save_offer(
                request.form.get("enabled") == "1", request.form.getlist("item_code"), times,
                int(request.form.get("days_ahead") or 0), request.form.get("home_visit") == "1")
        except (DomainError, ValueError) as exc:
            flash(getattr(exc, "message", "可预约天数须为数字。"), "error")
            status = 400
        else:
            if device:  # only the station PC publishes the offer (sync/appointments_push): say what this one does
                log_access("settings_appointments", detail=f"修改第 {device} 号设备本机的预约设置（不发布到县级平台）")
                flash(f"预约设置已保存，只用于本机（第 {device} 号设备）代为预约时核对时段和名额，"
                      "不会发布到县级平台；居民能预约的时段以站点主机的设置为准。", "success")
            else:
                log_access("settings_appointments", detail="修改预约设置（下次同步时发布到县级平台）")
                flash("预约设置已保存，下次同步时发布到县级平台。", "success")
            return redirect(url_for("appointments.offer"))
    return render_template("appointments/offer.html", settings=settings, items=current_items(), device=device,
                           chosen={i["code"] for i in settings["items"]} if settings["items"] != rules.ANY_ITEM else set()), status

