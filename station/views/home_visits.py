"""Home visits (上门服务): record a visit, see it with the cases taken during it, take a case there."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules.labels import HOME_VISIT_OUTCOMES
from station.services import appointments, home_visits, villages
from station.services.catalog import NO_CATALOG, current_items, has_catalog
from station.services.errors import DomainError, ValidationFailed
from station.views.access import FRONT_OFFICE, log_access
from websec.roles import roles_required

bp = Blueprint("visits", __name__, url_prefix="/visits")

FIELDS = ("visited_on", "started_at", "ended_at", "staff", "resident_name", "resident_phone", "address", "purpose",
          "outcome", "outcome_note", "appointment_id", "village_code")


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    """The latest visits, masked."""
    rows = home_visits.recent()
    log_access("home_visit", detail=f"查看上门服务记录（{len(rows)} 次，姓名电话地址已遮蔽）")
    return render_template("visits/index.html", rows=rows)


def _defaults() -> dict[str, str]:
    values = {"visited_on": dt.date.today().isoformat(), "staff": current_user.name, "outcome": "done"}
    appointment_id = request.args.get("appointment", "")
    if appointment_id:
        try:
            booking = appointments.get(appointment_id)
        except DomainError:
            abort(404)
        person = appointments.intake_values(booking)
        values.update(resident_name=person["applicant_name"], resident_phone=person["applicant_phone"],
                      address=person["applicant_address"], purpose=booking.item_name, appointment_id=booking.id,
                      visited_on=booking.slot_date.isoformat(), started_at=booking.slot_start)  # the booked day
        log_access("home_visit", obj=booking.code, detail=f"以预约 {booking.code} 的信息登记上门服务")
    return values


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def new():  # noqa: ANN201
    """Record a visit (after it, or while there on the laptop)."""
    values = _defaults() if request.method == "GET" else {name: (request.form.get(name) or "") for name in FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            visit = home_visits.record(home_visits.VisitInput(**values), current_user._get_current_object())
        except ValidationFailed as exc:
            errors = exc.errors
            flash(exc.message, "error")
        except DomainError as exc:
            errors = {"form": exc.message}
            flash(exc.message, "error")
        else:
            log_access("home_visit", obj=visit.id, detail=f"登记 {visit.visited_on:%Y-%m-%d} 的上门服务")
            flash("上门服务已登记。", "success")
            return redirect(url_for("visits.detail", visit_id=visit.id))
    return render_template("visits/new.html", values=values, errors=errors, outcomes=HOME_VISIT_OUTCOMES,
                           villages=villages.station_villages()), \
        (400 if errors else 200)


@bp.get("/<visit_id>")
@roles_required(*FRONT_OFFICE)
def detail(visit_id: str):  # noqa: ANN201
    """One visit, masked, with the cases taken during it and a way to take another."""
    try:
        visit = home_visits.get(visit_id)
    except DomainError:
        abort(404)
    log_access("home_visit", obj=visit.id, detail="查看上门服务记录（已遮蔽）")
    no_catalog = not has_catalog()  # a visit recorded before the station's first pull: no case to take yet
    if no_catalog:
        flash(NO_CATALOG, "warning")
    return render_template("visits/detail.html", visit=visit, line=home_visits.line(visit),
                           cases=home_visits.cases_of(visit),
                           decisions=home_visits.county_decisions(visit), items=[] if no_catalog else current_items(),
                           no_catalog=no_catalog)


@bp.get("/<visit_id>/case")
@roles_required(*FRONT_OFFICE)
def take_case(visit_id: str):  # noqa: ANN201
    """Take a case during the visit: the item's intake form, prefilled with the resident."""
    try:
        visit = home_visits.get(visit_id)
    except DomainError:
        abort(404)
    try:
        home_visits.check_open_for_cases(visit)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("visits.detail", visit_id=visit_id))
    if not has_catalog():
        return redirect(url_for("visits.detail", visit_id=visit_id))  # which says why
    item = next((i for i in current_items() if i.item_code == request.args.get("item_code")), None)
    if item is None:
        flash("请选择要办理的事项。", "error")
        return redirect(url_for("visits.detail", visit_id=visit_id))
    return redirect(url_for("intake.item_form", item_id=item.id, home_visit=visit_id))
