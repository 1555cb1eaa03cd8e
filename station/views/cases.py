"""Case list, case page, scans and notes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from rules import evaluations as rating_rules
from rules.labels import (
    CASE_STATUSES,
    COLLECTOR_KINDS,
    MATERIAL_STATUSES,
    PICKUP_METHODS,
    REVEAL_REASONS,
    SUPPLY_FORMS,
    WITHDRAW_REQUESTERS,
)
from rules.time_lines import LINE_STATES, LINES
from station.models import User
from station.services import (
    attachments,
    bundles,
    cases,
    evaluations,
    follow_up,
    forward_holds,
    intake,
    masked_texts,
    material_library,
    paper,
    personal,
    shared_cases,
    sync_queue,
    time_lines,
    timeline,
    transfers,
    withdrawal,
)
from station.services.catalog import current_items
from station.services.errors import DomainError
from station.services.identity import CERTIFICATE_TYPES
from station.services.paper import applicable_documents, hand_write_notice
from station.services.scanned import from_scan
from station.views.access import FRONT_OFFICE, log_access
from station.views.forms import AttachmentForm, NoteForm, RevealForm, RevealNumberForm
from station.views.params import int_arg
from sync.outbox import case_sync_state
from websec.files import download_name
from websec.roles import roles_required

bp = Blueprint("cases", __name__, url_prefix="/cases")
#: Who may show a full number on the case page: the applicant's numbers and one in a free text alike.
REVEAL_ROLES = FRONT_OFFICE


@bp.route("/", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    if request.method == "POST":  # the filter form: its search goes into the address, an ID number as its index
        return redirect(url_for("cases.index", **cases.search_address_args(request.form)))
    args = request.args
    agent_id = int_arg("agent", None, 1, 2**31 - 1)
    query, scanned = from_scan(args.get("q", "")[:300])  # a scanned receipt QR is its address
    f = cases.CaseFilter(
        status=args.get("status", ""), item_code=args.get("item", ""), area_code=args.get("area", "").strip(),
        agent_id=agent_id, overdue=args.get("overdue") == "1", query=query[:50],
        id_index=cases.id_index_arg(args.get("id", "")),
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
    log_access("case_list", detail=_list_detail(f, page, total))
    if scanned and total == 1:  # the scanner pressed Enter on a receipt: open its case
        return redirect(url_for("cases.detail", case_id=rows[0].id))
    return render_template(
        "cases/index.html", rows=rows, total=total, page=page, per_page=per_page, f=f, error=error,
        statuses=CASE_STATUSES, items=items, agents=User.select().order_by(User.name),
        masked={c.id: personal.masked(c) for c in rows},
        shared=shared_cases.recent(text=f.query) if page == 1 and not f.id_index else [],
    )


@bp.get("/shared/<case_id>")
@roles_required(*FRONT_OFFICE)
def shared_detail(case_id: str):  # noqa: ANN201
    """A case another device of this station took: read-only here (see station.models.SharedCase)."""
    try:
        view = shared_cases.masked_detail(case_id)
    except DomainError:
        abort(404)
    log_access("case_view", case_id=case_id, obj=view["copy"].case_no,
               detail=f"查看{view['origin']}所收办件（只读，号码已遮蔽）")
    return render_template("cases/shared_detail.html", **view)


def _list_detail(f: cases.CaseFilter, page: int, total: int) -> str:
    """The search as the log keeps it (numbers typed into the search box are masked by the log)."""
    parts = [f"{name}：{value}" for name, value in (
        ("搜索", f.query or ("证件号码" if f.id_index else "")), ("状态", f.status), ("事项", f.item_code), ("区划", f.area_code),
        ("代办员", f.agent_id or ""), ("仅超期", "是" if f.overdue else "")) if value]
    return f"第 {page} 页，共 {total} 件" + ("；" + "；".join(parts) if parts else "")


def _detail_page(case, *, revealed: dict[str, str] | None = None, reveal_form: RevealForm | None = None,
                 revealed_number: tuple[str, str, str] | None = None, number_error: str = "",
                 status: int = 200, typed: Mapping[str, str] | None = None,
                 typed_errors: Mapping[str, str] | None = None):  # noqa: ANN001, ANN202
    """The case page; ``typed``/``typed_errors``: a refused 补正 or handover form shown again as typed;
    ``revealed_number``: ``(path, full number, what it is)`` of the one free-text number shown on a reason."""
    address = personal.applicant_address(case)
    return render_template(
        "cases/detail.html",
        case=case, item=case.item, materials=cases.materials(case), timeline=timeline.entries(case),
        masked=personal.masked(case), address=address, sync=(sync := case_sync_state(case.id)), attachments=list(case.attachments),
        sync_next_step=sync_queue.set_aside_next_step(sync, current_user.role),
        documents=applicable_documents(case), material_statuses=MATERIAL_STATUSES,
        missing_told=case.decision != "not_collected" or paper.missing_told(case),
        pickup_methods=PICKUP_METHODS, note_form=NoteForm(), upload_form=AttachmentForm(),
        upload_limit=min(current_app.config["MAX_ATTACHMENT_BYTES"], current_app.config["MAX_CONTENT_LENGTH"] or 1 << 62),
        upload_too_large=attachments.too_large_message(current_app.config["MAX_ATTACHMENT_BYTES"]),
        new=request.args.get("new") == "1", can_resume=intake.can_resume(case),
        resume_item=intake.resume_item(case) if intake.can_resume(case) else None,
        bundle=bundles.bundle_of(case),
        requested=follow_up.requested_materials(case), awaiting_supplement=follow_up.awaiting_supplement(case),
        supply_forms=SUPPLY_FORMS, collector_kinds=COLLECTOR_KINDS, cert_types=CERTIFICATE_TYPES,
        handover=follow_up.handover_summary(case), today=dt.date.today(),
        reveal_form=reveal_form or RevealForm(formdata=None), revealed=revealed,
        lines=time_lines.lines_of(case, dt.date.today()), line_names=LINES, line_states=LINE_STATES,
        hand_write=hand_write_notice(case.applicant_name, case.proxy_name, address),
        papers=transfers.where_are_papers(case),
        evaluations=evaluations.for_case(case), describe_evaluation=evaluations.describe,
        remedies=evaluations.remedies_for(case), remedy_statuses=evaluations.REMEDY_STATUSES,
        contact_methods=evaluations.CONTACT_METHODS, local_time=evaluations.local_text,
        visit_word=rating_rules.visit_word(evaluations.current_visit(case)),
        typed=typed or {}, typed_errors=typed_errors or {},
        texts=masked_texts.on_page(case), revealed_number=revealed_number, number_error=number_error,
        forward_hold=forward_holds.hold_of(case) if case.item.handling_area else None,
        reveal_reasons=REVEAL_REASONS,
        can_withdraw=withdrawal.refusal(case) is None, withdraw_requesters=WITHDRAW_REQUESTERS,
    ), status


def detail_page_again(case, typed: Mapping[str, str], typed_errors: Mapping[str, str]):  # noqa: ANN001, ANN201
    """The case page after a refused form, with what the agent typed kept (the view is logged like a GET)."""
    log_access("case_view", case_id=case.id, obj=case.case_no, detail="查看办件详情（号码已遮蔽）")
    return _detail_page(case, status=400, typed=typed, typed_errors=typed_errors)


@bp.get("/<case_id>")
@roles_required(*FRONT_OFFICE)
def detail(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    log_access("case_view", case_id=case.id, obj=case.case_no, detail="查看办件详情（号码已遮蔽）")
    return _detail_page(case)


@bp.post("/<case_id>/reveal")
@roles_required(*REVEAL_ROLES)
def reveal(case_id: str):  # noqa: ANN201
    """Show the full numbers for this one page view, with a reason, logged; the next view is masked again."""
    case = cases.get_case(case_id)
    form = RevealForm()
    if not form.validate_on_submit():
        log_access("case_view", case_id=case.id, obj=case.case_no, detail="申请显示完整号码未填写理由，未显示")
        return _detail_page(case, reveal_form=form, status=400)
    revealed = {
        "applicant_id": personal.applicant_id_number(case), "applicant_phone": personal.applicant_phone(case),
        "proxy_id": personal.proxy_id_number(case), "proxy_phone": personal.proxy_phone(case),
    }
    masked = personal.masked(case)
    shown = "、".join(f"{label} {masked[key]}" for key, label in (
        ("applicant_id", "申请人证件号码"), ("applicant_phone", "申请人电话"),
        ("proxy_id", "代办人证件号码"), ("proxy_phone", "代办人电话")) if revealed[key])
    log_access("reveal", case_id=case.id, obj=case.case_no, detail=f"理由：{_reason(form)}；显示：{shown}")
    return _detail_page(case, revealed=revealed)


@bp.post("/<case_id>/reveal/number")
@roles_required(*REVEAL_ROLES)
def reveal_number(case_id: str):  # noqa: ANN201
    """Show one masked number of the page's free text (a form's field, a note) in full, with a reason,
    logged, for this one answer; anything else on the page stays masked."""
    case = cases.get_case(case_id)
    form = RevealNumberForm()
    if not form.validate_on_submit():
        errors = [*form.reason.errors, *form.reason_text.errors]
        return _number_refused(case, errors[0] if errors else masked_texts.NO_REASON)
    path = (form.path.data or "")[:300]
    try:
        shown = masked_texts.reveal(case, path, _reason(form))
    except DomainError as exc:
        return _number_refused(case, exc.message)
    log_access("reveal", case_id=case.id, obj=case.case_no, detail=f"理由：{_reason(form)}；显示：{shown.label}")
    return _detail_page(case, revealed_number=(path, shown.value, shown.label))


def _number_refused(case, message: str):  # noqa: ANN001, ANN202
    """The case page again with why nothing was shown; the view is logged as a view, not as a reveal."""
    log_access("case_view", case_id=case.id, obj=case.case_no, detail=f"申请显示完整号码未获准（{message}），未显示")
    return _detail_page(case, number_error=message, status=400)


def _reason(form: RevealForm) -> str:
    """The reason as the access log keeps it: the one chosen, and the words typed with it."""
    reason = REVEAL_REASONS[form.reason.data]
    words = (form.reason_text.data or "").strip()
    return f"{reason}：{words}" if words else reason


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
        result = material_library.scan_material(
            case, current_user._get_current_object(), form.file.data.filename, data,
            current_app.config["ATTACHMENT_DIR"], current_app.config["MAX_ATTACHMENT_BYTES"],
            material_key=(request.form.get("material") or "")[:60],
        )
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("扫描件已保存。" + _scan_note(result), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


def _scan_note(result: material_library.ScanResult) -> str:
    notes = []
    if result.also_on:
        notes.append("同一“一件事”的办件 " + "、".join(result.also_on) + " 也已使用这份材料")
    if result.kept is not None:
        notes.append(f"已存入申请人材料库（有效期至 {result.kept.valid_until.isoformat()}），下次办事可直接复用")
    return "；".join(notes)


@bp.get("/<case_id>/attachments/<attachment_id>")
@roles_required(*FRONT_OFFICE)
def download(case_id: str, attachment_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    attachment = attachments.get_attachment(case, attachment_id)
    data = attachments.read_blob(current_app.config["ATTACHMENT_DIR"], attachment.sha256)
    if data is None:
        abort(404)
    log_access("scan_download", case_id=case.id, obj=attachment.filename, detail=f"下载扫描件（{case.case_no}）")
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
        # the page again, not a redirect: the note form reads this request, so what was typed stays in the box
        return detail_page_again(case, {}, {})
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
