"""Telling the resident (通知群众): the notice page of a case and the record of each notice.

The full phone number shows only to the case's own agent, who makes the call, and each time it
does the read goes into the access log; everyone else sees it masked.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules.privacy import mask_phone
from station.services import cases, notify, personal
from station.services.calendar import load_calendar
from station.services.errors import DomainError
from station.services.sms import load_sender
from station.views.access import FRONT_OFFICE, log_access
from websec.roles import roles_required

bp = Blueprint("notify", __name__)

#: The printed notice for each need (printouts/registry.py keys).
NOTICE_DOCS = {"supplement": "supplement", "result_ready": "completion", "deferred_due": "deferral",
               "rejected": "rejection"}


@bp.get("/cases/<case_id>/notify")
@roles_required(*FRONT_OFFICE)
def page(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    user = current_user._get_current_object()
    phones = {}
    if notify.may_see_phone(case, user):
        phones = {"applicant": personal.applicant_phone(case), "proxy": personal.proxy_phone(case)}
        shown = "、".join(f"{label} {mask_phone(phones[key])}" for key, label in (
            ("applicant", "申请人电话"), ("proxy", "代办人电话")) if phones[key])
        if shown:
            log_access("reveal", case_id=case.id, obj=case.case_no, detail=f"理由：联系申请人（通知群众）；显示：{shown}")
    return render_template("cases/notify.html", case=case, reasons=notify.reasons_now(case, dt.date.today(),
                                                                                      load_calendar()),
                           whom=notify.whom(case), phones=phones, notices=notify.notices(case),
                           labels=notify, docs=NOTICE_DOCS,
                           texts={r: notify.message_text(case, r) for r in notify.REASONS})


@bp.post("/cases/<case_id>/notify")
@roles_required(*FRONT_OFFICE)
def record(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    form = request.form
    sender = load_sender(current_app.config["SMS_SENDER"]) if form.get("method") == "sms" else None
    try:
        notice = notify.record(case, current_user._get_current_object(), form.get("reason", ""),
                               form.get("method", ""), form.get("note", ""), form.get("outcome", "told"), sender)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        if notice.outcome == "sms_not_sent":
            flash("短信未发送：本站未配置短信网关，已记入办件记录。请改用电话或当面告知。", "warning")
        else:
            flash(f"已记录：{notify.METHODS[notice.method]}通知，{notify.OUTCOMES[notice.outcome]}。", "success")
    return redirect(url_for("notify.page", case_id=case.id))
