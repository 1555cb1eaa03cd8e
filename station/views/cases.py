"""Case list, case page, scans and notes."""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from rules.labels import CASE_STATUSES, MATERIAL_STATUSES, PICKUP_METHODS
from station.models import User
from station.services import attachments, cases, personal, timeline
from station.services.catalog import current_items
from station.services.errors import DomainError
from station.services.paper import applicable_documents
from station.views.access import FRONT_OFFICE, roles_required
from station.views.forms import AttachmentForm, NoteForm
from station.views.params import int_arg
from sync.outbox import case_sync_state
from websec.files import download_name

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    args = request.args
    agent_id = int_arg("agent", None, 1, 2**31 - 1)
    f = cases.CaseFilter(
        status=args.get("status", ""), item_code=args.get("item", ""), area_code=args.get("area", "").strip(),
        agent_id=agent_id, overdue=args.get("overdue") == "1", query=args.get("q", "")[:50],
    )
    page = int_arg("page", 1, 1, 100_000)
    per_page = current_app.config["CASES_PER_PAGE"]
    error = None
    try:
        query = cases.filtered(f, dt.date.today())
        rows = query.page_rows(page, per_page)
        total = query.count()
    except DomainError as exc:
        error, rows, total = exc.message, [], 0
    try:
        items = current_items()
    except DomainError:
        items = []
    return render_template(
        "cases/index.html", rows=rows, total=total, page=page, per_page=per_page, f=f, error=error,
        statuses=CASE_STATUSES, items=items, agents=User.select().order_by(User.name),
        masked={c.id: personal.masked(c) for c in rows},
    )


@bp.get("/<case_id>")
@roles_required(*FRONT_OFFICE)
def detail(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    return render_template(
        "cases/detail.html",
        case=case, item=case.item, materials=cases.materials(case), timeline=timeline.entries(case),
        masked=personal.masked(case), address=personal.applicant_address(case), sync=case_sync_state(case.id), attachments=list(case.attachments),
        documents=applicable_documents(case), material_statuses=MATERIAL_STATUSES,
        pickup_methods=PICKUP_METHODS, note_form=NoteForm(), upload_form=AttachmentForm(),
        new=request.args.get("new") == "1",
        bundle_cases=cases.bundle_cases(case),
    )


@bp.post("/<case_id>/attachments")
@roles_required(*FRONT_OFFICE)
def upload(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    form = AttachmentForm()
    if not form.validate_on_submit():
        for message in form.file.errors:
            flash(message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    data = form.file.data.read(current_app.config["MAX_ATTACHMENT_BYTES"] + 1)
    try:
        attachments.add_attachment(
            case, current_user._get_current_object(), form.file.data.filename, data,
            current_app.config["ATTACHMENT_DIR"], current_app.config["MAX_ATTACHMENT_BYTES"],
        )
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("扫描件已保存。", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.get("/<case_id>/attachments/<attachment_id>")
@roles_required(*FRONT_OFFICE)
def download(case_id: str, attachment_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    attachment = attachments.get_attachment(case, attachment_id)
    data = attachments.read_blob(current_app.config["ATTACHMENT_DIR"], attachment.sha256)
    if data is None:
        abort(404)
    # always a download under its real type: a scan is never rendered inside the station's origin
    return send_file(io.BytesIO(data), mimetype=attachment.content_type, as_attachment=True,
                     download_name=download_name(attachment.filename, attachment.content_type))


@bp.post("/<case_id>/notes")
@roles_required(*FRONT_OFFICE)
def add_note(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            cases.add_note(case, current_user._get_current_object(), form.text.data)
            flash("备注已保存。", "success")
        except DomainError as exc:
            flash(exc.message, "error")
    else:
        for message in form.text.errors:
            flash(message, "error")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/<case_id>/authorization")
@roles_required(*FRONT_OFFICE)
def authorization_signed(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    try:
        cases.mark_authorization_signed(case, current_user._get_current_object())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("已登记：委托书已签署。", "success")
    return redirect(url_for("cases.detail", case_id=case.id))
