"""Home page and the large-font switch."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, make_response, redirect, render_template, request
from flask_login import current_user

from station.models import Case
from station.models.cases import OPEN_STATUSES
from station.services import station_info
from station.views.access import FRONT_OFFICE, roles_required, safe_local_path
from sync.outbox import OutboxEvent

bp = Blueprint("main", __name__)


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    today = dt.date.today()
    start = dt.datetime.combine(today, dt.time())
    counts = {
        "today": Case.select().where(Case.received_at >= start).count(),
        "mine_today": Case.select().where((Case.received_at >= start) & (Case.agent == current_user.id)).count(),
        "open": Case.select().where(Case.status.in_(OPEN_STATUSES)).count(),
        "overdue": Case.select().where(Case.status.in_(OPEN_STATUSES) & (Case.committed_due < today)).count(),
        "queued": OutboxEvent.select().where(OutboxEvent.state == "queued").count(),
        "set_aside": OutboxEvent.select().where(OutboxEvent.state == "set_aside").count(),
    }
    recent = (
        Case.select().where(Case.agent == current_user.id).order_by(Case.received_at.desc()).limit(8)
    )
    return render_template("main/index.html", counts=counts, recent=recent, profile=station_info.get_profile())


@bp.post("/large-font")
def toggle_large_font():  # noqa: ANN201 - a display preference, allowed before login too
    response = make_response(redirect(safe_local_path(request.form.get("next"))))
    on = request.cookies.get("large_font") != "1"
    response.set_cookie("large_font", "1" if on else "0", max_age=3600 * 24 * 365, httponly=True, samesite="Lax")
    return response
