"""The county clerk's pages: stations, cases with decisions, conflicts."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from rules.labels import COUNTY_DECISIONS, HUB_CASE_STATUSES
from sync.hub.models import Conflict, Decision, Event, HubCase, Station
from sync.hub.models.users import COUNTY_ADMIN
from sync.hub.security import CASEWORK, require_role
from sync.hub.services import attachments, decisions, stations
from sync.hub.services import conflicts as conflict_service
from sync.hub.services.errors import HubError
from websec.files import download_name, sniff_type

bp = Blueprint("clerk", __name__)

PAGE_SIZE = 50
#: Past this page there is nothing to show; a larger number would overflow the OFFSET (a 500).
MAX_PAGE = 100_000


@bp.before_request
def _require_casework_role() -> None:
    """Every page here needs a logged-in approver or county admin."""
    require_role(*CASEWORK)


@bp.get("/")
def index() -> Response:
    """Land on the case list."""
    return redirect(url_for("clerk.cases"))


@bp.get("/stations")
def station_list() -> str:
    """All stations with their health: who has gone dark, whose queue is ageing."""
    cfg = current_app.config
    rows = stations.list_health(dark_hours=float(cfg["STATION_DARK_HOURS"]),
                                queue_age_warn_hours=float(cfg["QUEUE_AGE_WARN_HOURS"]))
    return render_template("hub/stations.html", rows=rows, dark_hours=cfg["STATION_DARK_HOURS"])


@bp.route("/stations/<code>", methods=["GET", "POST"])
def station_detail(code: str) -> str | Response:
    """One station: its last heartbeat, and a form to push new settings down to it."""
    station = Station.by_code(code) or abort(404)
    if request.method == "POST":
        if current_user.role != COUNTY_ADMIN:
            abort(403)  # settings reach every PC of the station: county admins only
        try:
            settings = json.loads(request.form.get("settings") or "{}")
            stations.update_settings(code, settings, clerk=current_user.username)
        except json.JSONDecodeError:
            flash("站点设置不是有效的 JSON。", "error")
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash("站点设置已保存，将在该站下次同步时下发。", "success")
            return redirect(url_for("clerk.station_detail", code=code))
    return render_template("hub/station.html", station=station,
                           settings_json=json.dumps(station.settings or {}, ensure_ascii=False, indent=2))


@bp.get("/cases")
def cases() -> str:
    """Incoming cases, filtered by station and status, newest first."""
    station_code = request.args.get("station", "").strip()
    status = request.args.get("status", "").strip()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    query = HubCase.select(HubCase, Station).join(Station)
    if station_code:
        query = query.where(Station.code == station_code)
    if status:
        query = query.where(HubCase.status == status)
    total = query.count()
    rows = list(query.order_by(HubCase.updated_at.desc(), HubCase.id.desc()).paginate(page, PAGE_SIZE))
    return render_template("hub/cases.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           station_code=station_code, status=status,
                           stations=Station.select().order_by(Station.code),
                           status_labels=HUB_CASE_STATUSES)


@bp.get("/cases/<case_id>")
def case_detail(case_id: str) -> str:
    """A case: snapshot, materials, attachments, event timeline, decisions and decision forms."""
    case = HubCase.get_or_none(HubCase.case_id == case_id) or abort(404)
    return render_template(
        "hub/case.html", case=case, snapshot=case.snapshot or {},
        events=list(Event.select().where(Event.case_id == case_id).order_by(Event.seq)),
        decisions_taken=list(Decision.select().where(Decision.case == case).order_by(Decision.id)),
        conflicts=list(Conflict.select().where(Conflict.case_id == case_id).order_by(Conflict.id)),
        files=attachments.for_case(case_id), allowed=decisions.allowed_decisions(case.status))


@bp.post("/cases/<case_id>/decide")
def decide(case_id: str) -> Response:
    """Apply one decision; errors come back as a flash message on the case page."""
    form = request.form
    data = decisions.DecisionInput(
        kind=form.get("kind", ""), hub_case_no=form.get("hub_case_no"), reason=form.get("reason"),
        supplement_keys=tuple(form.getlist("supplement")), result=form.get("result"),
        result_text=form.get("result_text"))
    try:
        decision = decisions.decide(case_id, data, clerk=current_user.username)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已{COUNTY_DECISIONS[decision.kind]}，结果将在该站下次同步时送达。", "success")
    return redirect(url_for("clerk.case_detail", case_id=case_id))


@bp.get("/cases/<case_id>/attachments/<sha256>")
def attachment(case_id: str, sha256: str) -> Response:
    """Download one attachment of a case."""
    try:
        path, link = attachments.file_for_case(current_app.config["ATTACHMENT_DIR"], case_id, sha256)
    except HubError:
        abort(404)
    with open(path, "rb") as fh:  # the type the bytes say, not what the station declared
        content_type = sniff_type(fh.read(16)) or "application/octet-stream"
    return send_file(path, mimetype=content_type, as_attachment=True,
                     download_name=download_name(link.filename, content_type, sha256[:12]))


@bp.get("/conflicts")
def conflicts() -> str:
    """Conflicting copies awaiting a person, unresolved first."""
    rows = list(Conflict.select(Conflict, Station).join(Station)
                .order_by(Conflict.resolved_at.is_null(False), Conflict.id.desc()).limit(200))
    originals = {e.event_id: e for e in Event.select().where(
        Event.event_id.in_([c.existing_event_id for c in rows if c.existing_event_id] or [""]))}
    return render_template("hub/conflicts.html", rows=rows, originals=originals,
                           resolution_labels=conflict_service.RESOLUTION_LABELS)


@bp.post("/conflicts/<int:conflict_id>/resolve")
def resolve_conflict(conflict_id: int) -> Response:
    """Settle a conflict (keep the county's copy, take the station's, or merge), with a note.

    The decision goes down to the station, which then sends the case's held-back events.
    """
    try:
        conflict = conflict_service.resolve(conflict_id, request.form.get("resolution") or "",
                                            request.form.get("note") or "", clerk=current_user.username)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已处理：{conflict_service.RESOLUTION_LABELS[conflict.resolution]}，将在该站下次同步时下发。", "success")
    return redirect(url_for("clerk.conflicts"))
