"""The resident's booking pages on the county platform (预约): no login, phone-first, rate-limited.

Kept apart from the progress page (views/public.py). Every request that reads or writes a
booking counts against the client address, like the progress page's lookups, so guessing
booking codes or flooding a station's slots costs the same as using them. Nothing personal is
shown back: the name and phone masked, the address never.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rules.appointments import item_choices
from sync.hub.models import HubLoginThrottle, Station
from sync.hub.services import appointments, public
from sync.hub.services.errors import HubError
from websec.throttle import RateLimit

bp = Blueprint("booking", __name__, url_prefix="/book")


def _limit() -> RateLimit:
    return RateLimit(HubLoginThrottle, limit=int(current_app.config["PUBLIC_LOOKUP_LIMIT"]),
                     window=dt.timedelta(seconds=int(current_app.config["PUBLIC_LOOKUP_WINDOW_S"])),
                     prefix="booking:")


@bp.get("/")
def stations() -> str:
    """The stations that take bookings, and a box for a booking code."""
    return render_template("hub/public/booking_stations.html", stations=appointments.open_stations(), error=None)


def _form_page(station: Station, form: dict[str, str], error: str | None, status: int = 200) -> tuple[str, int]:
    offer = appointments.offer_of(station) or {}
    slots = appointments.slots(station)
    days: dict[str, list[appointments.SlotView]] = {}
    for slot in slots:
        days.setdefault(slot.day, []).append(slot)
    return render_template("hub/public/booking_form.html", station=station, offer=offer, days=days,
                           provisional=appointments.provisional_days(list(days)),
                           items=item_choices(offer), any_item=offer.get("items") == "any", form=form,
                           error=error, phone=public.station_phone(station)), status


@bp.get("/s/<code>")
def form(code: str) -> tuple[str, int]:
    """The booking form of one station: item, day and time, name, phone, 上门 with an address."""
    station = Station.by_code(code)
    if station is None or appointments.offer_of(station) is None:
        abort(404)
    return _form_page(station, {}, None)


@bp.post("/s/<code>")
def submit(code: str) -> Response | tuple[str, int]:
    """Book; a refusal shows the form again with the reason, and nothing is stored."""
    station = Station.by_code(code)
    if station is None or appointments.offer_of(station) is None:
        abort(404)
    typed = {name: (request.form.get(name) or "").strip()[:200]
             for name in ("item_code", "slot", "name", "phone", "address", "home_visit")}
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return _form_page(station, typed, refusal, 429)
    day, _, start = typed["slot"].partition(" ")
    try:
        booking = appointments.book(appointments.BookingRequest(
            station.code, typed["item_code"], day, start, typed["name"], typed["phone"],
            typed["home_visit"] == "1", typed["address"]))
    except HubError as exc:
        return _form_page(station, typed, exc.message, 400)
    return redirect(url_for("booking.show", code=booking.code, new=1))


@bp.get("/c")
def find() -> Response:
    """A typed booking code goes to its own address."""
    return redirect(url_for("booking.show", code=(request.args.get("code") or "-")[:32]))


@bp.get("/c/<code>")
def show(code: str) -> tuple[str, int]:
    """The resident's booking by its code: when, what, its state, and the case once there is one."""
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return render_template("hub/public/booking_show.html", booking=None, error=refusal), 429
    try:
        booking = appointments.view(appointments.by_code(code))
    except HubError as exc:
        return render_template("hub/public/booking_show.html", booking=None, error=exc.message), 404
    return render_template("hub/public/booking_show.html", booking=booking, error=None,
                           new=request.args.get("new") == "1"), 200


@bp.post("/c/<code>/cancel")
def cancel(code: str) -> Response | tuple[str, int]:
    """Cancel by the booking's code (before its time, while it still waits)."""
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return render_template("hub/public/booking_show.html", booking=None, error=refusal), 429
    try:
        appointments.cancel(code)
    except HubError as exc:
        try:
            booking = appointments.view(appointments.by_code(code))
        except HubError:
            booking = None
        return render_template("hub/public/booking_show.html", booking=booking, error=exc.message), 400
    return redirect(url_for("booking.show", code=code))
