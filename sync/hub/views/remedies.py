"""差评整改 at the county: the list (overdue flagged, rates per station) and one follow-up's page.

Thin: each form calls one function of services/remedies.py and shows its Chinese message.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from rules import evaluations as rating_rules
from rules.privacy import mask_name, mask_phone
from sync.hub.extensions import db
from sync.hub.models import HubCase, HubUser, Remedy, Station
from sync.hub.security import CASEWORK, log_access, require_role
from sync.hub.services import personal, remedies
from sync.hub.services.errors import HubError
from sync.hub.services.workdays import china_today

bp = Blueprint("remedies", __name__)


@bp.before_request
def _require_casework_role() -> None:
    require_role(*CASEWORK)


@bp.get("/remedies")
def index() -> str:
    """Every 整改, open ones first; overdue ones flagged; call-back and fix rates per station."""
    show = request.args.get("show", "open")
    query = Remedy.select(Remedy, Station).join(Station)
    if show == "open":
        query = query.where(Remedy.status != "closed")
    rows = list(query.order_by(Remedy.status == "closed", Remedy.fix_due, Remedy.id).limit(500))
    today = china_today()
    evaluations = {r.evaluation_id: remedies.evaluation_of(r) for r in rows}
    return render_template("hub/remedies.html", rows=rows, evaluations=evaluations, show=show,
                           late={r.id: remedies.overdue(r, today) for r in rows},
                           rates=remedies.rates_by_station(today), statuses=remedies.STATUSES, rules=rating_rules)


@bp.get("/remedies/<int:remedy_id>")
def detail(remedy_id: int) -> str:
    """One 整改: the rating, the resident (masked; the full phone on the case page, logged), the steps."""
    try:
        remedy = remedies.get(remedy_id)
    except HubError:
        abort(404)
    case = HubCase.get_or_none(HubCase.case_id == remedy.case_id)
    applicant = personal.open_snapshot(case.snapshot).get("applicant") if case is not None else None
    applicant = applicant if isinstance(applicant, dict) else {}
    log_access("remedy_view", case_id=remedy.case_id, obj=str(remedy.id), detail="查看差评整改（号码已遮蔽）")
    return render_template(
        "hub/remedy.html", remedy=remedy, evaluation=remedies.evaluation_of(remedy), case=case,
        resident_name=mask_name(case.applicant_name if case else ""),
        resident_phone=mask_phone(str(applicant.get("phone") or "")),
        contacts=remedies.contacts(remedy), late=remedies.overdue(remedy), statuses=remedies.STATUSES,
        methods=remedies.CONTACT_METHODS, rules=rating_rules,
        users=list(HubUser.select().where(HubUser.active == True).order_by(HubUser.username)))  # noqa: E712


_STEPS = {
    "assign": ("指定责任人", lambda rid, f, by: remedies.assign(rid, f.get("owner", ""), by=by)),
    "contact": ("记录回访", lambda rid, f, by: remedies.add_contact(rid, f.get("method", ""), f.get("said", ""), by=by,
                                                               at=remedies.parse_china_time(f.get("at", "")))),
    "fix": ("登记整改结果", lambda rid, f, by: remedies.record_fix(rid, f.get("fix_text", ""), by=by)),
    "answer": ("记录群众反馈", lambda rid, f, by: remedies.record_answer(rid, f.get("answer", ""), by=by)),
    "close": ("办结整改", lambda rid, f, by: remedies.close(rid, f.get("closing_note", ""), by=by)),
}


@bp.post("/remedies/<int:remedy_id>/<step>")
def act(remedy_id: int, step: str) -> Response:
    """One step of a 整改; refused steps change nothing and say why."""
    if step not in _STEPS:
        flash("未知的操作。", "error")
        return redirect(url_for("remedies.detail", remedy_id=remedy_id))
    word, run = _STEPS[step]
    try:
        with db.atomic():  # the step and its access-log entry, or neither
            run(remedy_id, request.form, current_user.username)
            log_access("remedy_update", case_id=remedies.get(remedy_id).case_id, obj=str(remedy_id), detail=word)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已{word}，将在该站下次同步时告知站点。", "success")
    return redirect(url_for("remedies.detail", remedy_id=remedy_id))
