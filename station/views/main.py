"""Home page and the large-font switch."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, make_response, redirect, render_template, request
from flask_login import current_user

from station.models import Case
from station.models.cases import OPEN_STATUSES
from station.services import backups, evaluations, follow_up, notify, station_info, sync_queue
from station.services.calendar import load_calendar
from station.services.sync_queue import queued_cases
from station.views.access import FRONT_OFFICE, safe_local_path
from sync import status
from websec.roles import roles_required

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
    }
    queue_now = status.queue_summary()
    link_words = sync_queue.link_notice(queue_now, current_user.role)
    counts.update(queued=queue_now["queue_length"], queued_cases=queue_now["queued_cases"],
                  queued_visits=queue_now["queued_visits"])
    recent = (
        Case.select().where(Case.agent == current_user.id).order_by(Case.received_at.desc()).limit(8)
    )
    # the agent's own to-do; the clerk and the admin see the station's, with its sync queue
    station_wide = current_user.role != "agent"
    set_aside_ids = status.set_aside_case_ids()
    counts["set_aside"] = follow_up.held_back_count(set_aside_ids)  # the records the station's list names
    calendar = load_calendar()
    todo = follow_up.todo(today, calendar, None if station_wide else current_user._get_current_object(),
                          set_aside_ids)
    # whom to tell (phones masked here; the full number on a case's notice page, for its agent)
    needing = {c.id: c for c in [*todo.supplements, *todo.handovers, *(d.case for d in todo.deferred),
                                 *notify.rejections_to_tell(today, None if station_wide else current_user._get_current_object())]}
    tell = notify.to_tell(list(needing.values()), today, calendar)
    remedies = [r for r in evaluations.open_remedies() if station_wide or r.case.agent_id == current_user.id]
    queue = queued_cases(limit=20) if station_wide else []
    last_backup = backups.last_backup() if current_user.role == "admin" else None  # the admin sets the folder
    return render_template("main/index.html", counts=counts, recent=recent, profile=station_info.get_profile(),
                           backup_failed=last_backup if last_backup and not last_backup.ok else None,
                           todo=todo, station_wide=station_wide, tell=tell, remedies=remedies,
                           notice_labels=notify, remedy_statuses=evaluations.REMEDY_STATUSES, queue=queue, now=dt.datetime.now(),
                           link_notice=link_words)


@bp.post("/large-font")
def toggle_large_font():  # noqa: ANN201 - a display preference, allowed before login too
    """Switch 大字模式. The page's script asks for JSON and switches in place, so a half-typed
    intake form keeps what was typed (issue 19); without the script the page reloads."""
    on = request.cookies.get("large_font") != "1"
    if request.accept_mimetypes.best == "application/json":
        response = jsonify({"large_font": on, "label": "标准字号" if on else "大字模式"})
    else:
        response = make_response(redirect(safe_local_path(request.form.get("next"))))
    response.set_cookie("large_font", "1" if on else "0", max_age=3600 * 24 * 365, httponly=True, samesite="Lax")
    return response
