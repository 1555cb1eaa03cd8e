"""The county clerk's pages: stations, cases with decisions, conflicts."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from rules import evaluations as rating_rules
from rules.labels import COUNTY_DECISIONS, HEARTBEAT_LABELS, HUB_CASE_STATUSES
from rules.time_lines import LINE_STATES, LINES
from sync.hub.china_time import china_today
from sync.hub.extensions import db
from sync.hub.models import Conflict, Decision, Event, HubCase, Remedy, Station
from sync.hub.models.users import COUNTY_ADMIN
from sync.hub.security import CASEWORK, log_access, require_role
from sync.hub.services import (
    attachments,
    case_search,
    decisions,
    evaluations,
    peers,
    personal,
    public,
    stations,
    transfers,
    warnings,
)
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
            settings = stations.settings_from_form(station.settings or {}, request.form, code=code)
            with db.atomic():
                stations.update_settings(code, settings, clerk=current_user.username)
                log_access("station_settings", obj=code,
                           detail="下发站点设置：" + ("、".join(sorted(map(str, settings))) or "清空"))
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash("站点设置已保存，将在该站下次同步时下发。", "success")
            return redirect(url_for("clerk.station_detail", code=code))
    return render_template("hub/station.html", station=station, heartbeat_labels=HEARTBEAT_LABELS,
                           settings=station.settings or {}, setting_labels=stations.SETTING_LABELS)


@bp.route("/cases", methods=["GET", "POST"])
def cases() -> str | Response:
    """Cases found by query code, case number or ID number (exact), applicant name, item, station,
    state and deadline line (open cases past it); the items of one 一件事 stay together.

    The filter form posts: the list it redirects to names an ID number by its blind index only."""
    if request.method == "POST":
        return redirect(url_for("clerk.cases", **case_search.address_args(request.form)))
    f = case_search.CaseSearch(
        q=request.args.get("q", "").strip()[:64], name=request.args.get("name", "").strip()[:50],
        item_code=request.args.get("item", "").strip()[:64], station_code=request.args.get("station", "").strip(),
        status=request.args.get("status", "").strip(), line=request.args.get("line", "").strip(),
        id_index=case_search.id_index_arg(request.args.get("id", "")))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    try:
        query = case_search.search(f, china_today())
    except HubError as exc:  # a bad choice is said, and the form shows what is listed instead: every case
        flash(exc.message, "error")
        f = case_search.CaseSearch()
        query = case_search.search(f, china_today())
    total = query.count()
    last_page = max(-(-total // PAGE_SIZE), 1)  # a page past the end (an old link, a typed number) says so
    rows = case_search.group_bundles(list(query.order_by(HubCase.updated_at.desc(), HubCase.id.desc())
                                          .paginate(page, PAGE_SIZE)))
    # 跨域办 cases past the line that another county decides: not in this list, counted apart (待办理地处理)
    elsewhere_total = case_search.search(f, china_today(), elsewhere=True).count() if f.line else 0
    return render_template("hub/cases.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           elsewhere_ids=case_search.decided_elsewhere_ids(rows), elsewhere_total=elsewhere_total,
                           last_page=last_page,
                           station_code=f.station_code, status=f.status, q=f.q, name=f.name, item=f.item_code,
                           line=f.line, id_index=f.id_index or None, items=case_search.item_choices(),
                           line_names=LINES,
                           stations=Station.select().order_by(Station.code),
                           status_labels=HUB_CASE_STATUSES)


@bp.get("/cases/<case_id>")
def case_detail(case_id: str) -> str:
    """A case: snapshot (numbers masked), materials, attachments, event timeline, decisions and forms."""
    case = HubCase.get_or_none(HubCase.case_id == case_id) or abort(404)
    log_access("case_view", case_id=case_id, obj=case.case_no or case_id, detail="查看办件详情（号码已遮蔽）")
    return _case_page(case)


@bp.post("/cases/<case_id>/reveal")
def reveal(case_id: str) -> str | Response:
    """The case page with one full number shown, for a clerk who says why (显示完整号码): the
    applicant's or the proxy's, or one number in the form's fields."""
    case = HubCase.get_or_none(HubCase.case_id == case_id) or abort(404)
    field = request.form.get("field", "")
    try:
        shown = personal.reveal(case, field, request.form.get("reason", ""), current_user)
    except HubError as exc:
        flash(exc.message, "error")
        return redirect(url_for("clerk.case_detail", case_id=case_id))
    log_access("reveal", case_id=case_id, obj=case.case_no or case_id,
               detail=f"理由：{request.form.get('reason', '').strip()}；显示：{shown.label}")
    return _case_page(case, revealed={field: shown.value})


def _case_page(case: HubCase, revealed: dict[str, str] | None = None) -> str:
    case_id = case.case_id
    cross = peers.forward_state(case)  # 跨域办: decided by the handling county, not here
    elsewhere = decisions.decided_elsewhere(case)
    return render_template(
        "hub/case.html", case=case, snapshot=personal.masked_snapshot(case.snapshot), revealed=revealed or {},
        reveal_reason_max=personal.REVEAL_REASON_MAX,
        form_numbers=personal.form_numbers(case.snapshot),
        events=list(Event.select().where(Event.case_id == case_id).order_by(Event.seq)),
        decisions_taken=list(Decision.select().where(Decision.case == case).order_by(Decision.id)),
        conflicts=list(Conflict.select().where(Conflict.case_id == case_id).order_by(Conflict.id)),
        files=attachments.for_case(case_id), cross=cross, batches=transfers.batches_of_case(case_id),
        elsewhere=elsewhere, allowed=[] if elsewhere else decisions.allowed_decisions(
            case.status, awaiting_supply=decisions.awaiting_supply(case)),
        notes=case_search.station_notes(case_id), lines=warnings.lines_of(case, china_today()),
        dues=warnings.dues_in_force(case),
        line_names=LINES, line_states=LINE_STATES,
        ratings=evaluations.for_case(case_id), rating_rules=rating_rules,
        remedy_ids={r.evaluation_id: r.id for r in Remedy.select().where(Remedy.case_id == case_id)},
        bundle_cases=public.bundle_members(case))


@bp.post("/cases/<case_id>/decide")
def decide(case_id: str) -> Response:
    """Apply one decision; errors come back as a flash message on the case page."""
    form = request.form
    data = decisions.DecisionInput(
        kind=form.get("kind", ""), hub_case_no=form.get("hub_case_no"), reason=form.get("reason"),
        supplement_keys=tuple(form.getlist("supplement")), result=form.get("result"),
        result_text=form.get("result_text"), certificate_no=form.get("certificate_no"))
    try:
        with db.atomic():  # the decision and its log entry, or neither
            decision = decisions.decide(case_id, data, clerk=current_user.username)
            log_access("decision", case_id=case_id, obj=decision.case.case_no or case_id,
                       detail=f"作出决定：{COUNTY_DECISIONS[decision.kind]}")
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
    log_access("scan_download", case_id=case_id, obj=link.filename, detail=f"下载扫描件 {sha256[:12]}")
    data = attachments.read_plain(path)  # stored sealed
    content_type = sniff_type(data[:16]) or "application/octet-stream"  # what the bytes say, not the station
    return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True,
                     download_name=download_name(link.filename, content_type, sha256[:12]))


@bp.get("/conflicts")
def conflicts() -> str:
    """Conflicting copies awaiting a person, unresolved first."""
    rows = list(Conflict.select(Conflict, Station).join(Station)
                .order_by(Conflict.resolved_at.is_null(False), Conflict.id.desc()).limit(200))
    originals = {e.event_id: personal.masked_body(e.body) for e in Event.select(Event.event_id, Event.body).where(
        Event.event_id.in_([c.existing_event_id for c in rows if c.existing_event_id] or [""]))}
    log_access("conflict_view", detail=f"查看冲突列表（{len(rows)} 条）")
    copies = {c.id: personal.masked_body(c.body) for c in rows}  # numbers masked, addresses hidden
    return render_template("hub/conflicts.html", rows=rows, originals=originals, copies=copies,
                           resolution_labels=conflict_service.RESOLUTION_LABELS)


@bp.post("/conflicts/<int:conflict_id>/resolve")
def resolve_conflict(conflict_id: int) -> Response:
    """Settle a conflict (keep the county's copy, take the station's, or merge), with a note.

    The decision goes down to the station, which then sends the case's held-back events.
    """
    try:
        with db.atomic():  # the resolution and its access-log entry, or neither
            conflict = conflict_service.resolve(conflict_id, request.form.get("resolution") or "",
                                                request.form.get("note") or "", clerk=current_user.username)
            log_access("conflict_resolve", obj=str(conflict_id),
                       detail=f"处理冲突：{conflict_service.RESOLUTION_LABELS[conflict.resolution]}；"
                              f"{(request.form.get('note') or '').strip()[:200]}")
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已处理：{conflict_service.RESOLUTION_LABELS[conflict.resolution]}，将在该站下次同步时下发。", "success")
    return redirect(url_for("clerk.conflicts"))
