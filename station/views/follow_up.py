"""After intake: answer a 补正, record a 容缺 arrival, record the handover, 撤回申请, the 容缺 list.

Thin on purpose: each route reads its form, calls one service in station.services.follow_up and
redirects back to the case with the service's Chinese message.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from station.services import cases, commitments, follow_up, withdrawal
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from station.views.access import FRONT_OFFICE
from station.views.cases import detail_page_again
from websec.roles import roles_required

bp = Blueprint("follow_up", __name__)


def _back(case_id: str, anchor: str = ""):  # noqa: ANN202
    return redirect(url_for("cases.detail", case_id=case_id) + (f"#{anchor}" if anchor else ""))


def _flash_error(exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for message in exc.errors.values():
            flash(message, "error")
    else:
        flash(exc.message, "error")


def _again(case, exc: DomainError):  # noqa: ANN001, ANN202
    """A refused form: the case page again with what was typed kept and each fault beside its field."""
    _flash_error(exc)
    errors = exc.errors if isinstance(exc, ValidationFailed) else {}
    return detail_page_again(cases.get_case(case.id), request.form, errors)


@bp.post("/cases/<case_id>/supplement")
@roles_required(*FRONT_OFFICE)
def supplement(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    form = request.form
    answers = [
        follow_up.SuppliedMaterial(key=m.key, supplied_as=form.get(f"supplied__{m.key}", ""),
                                   note=form.get(f"supplied__{m.key}__note", ""))
        for m in follow_up.requested_materials(case) if form.get(f"supplied__{m.key}")
    ]
    try:
        follow_up.submit_supplement(case, current_user._get_current_object(), answers, form.get("note", ""))
    except DomainError as exc:
        return _again(case, exc)
    flash("补正材料已登记，将同步报送县级平台。请打印补正材料收取凭证交申请人。", "success")
    return _back(case.id)


def _material_step(case_id: str, record, done: str):  # noqa: ANN001, ANN202
    """One 容缺 material's step on the case page: ``record(case, user)`` returns the material, ``done``
    is the success words with ``{name}`` for it; a refusal is flashed. Back to the materials either way."""
    case = cases.get_case(case_id)
    try:
        material = record(case, current_user._get_current_object())
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(done.format(name=material.name), "success")
    return _back(case.id, "materials")


@bp.post("/cases/<case_id>/materials/<int:material_id>/arrival")
@roles_required(*FRONT_OFFICE)
def arrival(case_id: str, material_id: int):  # noqa: ANN201
    supplied_as = request.form.get("supplied_as", "original_seen")
    return _material_step(case_id, lambda case, user: follow_up.record_arrival(case, user, material_id, supplied_as),
                          "已登记补交：{name}。")


@bp.post("/cases/<case_id>/materials/<int:material_id>/unkept")
@roles_required(*FRONT_OFFICE)
def unkept(case_id: str, material_id: int):  # noqa: ANN201
    """An overdue deferred material recorded as a promise not kept (with the agent's note)."""
    note = request.form.get("unkept_note", "")
    return _material_step(case_id, lambda case, user: commitments.record_unkept(case, user, material_id, note),
                          "已记录：{name}逾期未补，承诺未履行，将同步报送县级平台。")


@bp.post("/cases/<case_id>/handover")
@roles_required(*FRONT_OFFICE)
def handover(case_id: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    form = request.form
    data = follow_up.HandoverInput(
        method=form.get("method", ""), collector_kind=form.get("collector_kind", ""),
        collector_name=form.get("collector_name", ""), collector_cert_type=form.get("collector_cert_type", "111"),
        collector_id_number=form.get("collector_id_number", ""),
        collector_relation=form.get("collector_relation", ""),
        authorization_checked=form.get("authorization_checked") == "1", ems_no=form.get("ems_no", ""),
        address=form.get("address", ""), date=form.get("date", ""), receiver=form.get("receiver", ""),
    )
    try:
        follow_up.record_handover(case, current_user._get_current_object(), data)
    except DomainError as exc:
        return _again(case, exc)
    flash("已登记送达，办件状态为“已送达”。请打印送达回证。", "success")
    return _back(case.id)


@bp.post("/cases/<case_id>/withdraw")
@roles_required(*FRONT_OFFICE)
def withdraw(case_id: str):  # noqa: ANN201
    """撤回申请: the applicant (or her proxy) withdraws an open case, with the reason she gave."""
    case = cases.get_case(case_id)
    form = request.form
    try:
        withdrawal.withdraw(case, current_user._get_current_object(), form.get("withdraw_reason", ""),
                            form.get("withdraw_requested_by", ""))
    except DomainError as exc:
        return _again(case, exc)
    flash("已登记撤回申请，办件状态为“已撤回”，将同步报送县级平台。", "success")
    return _back(case.id)


@bp.get("/deferrals")
@roles_required(*FRONT_OFFICE)
def deferrals():  # noqa: ANN201
    """Deferred materials overdue or due within 3 working days: the agent's own, or (?all=1) the station's."""
    everyone = request.args.get("all") == "1" or current_user.role != "agent"
    rows = follow_up.deferred_due(dt.date.today(), load_calendar(),
                                  None if everyone else current_user._get_current_object())
    return render_template("cases/deferrals.html", rows=rows, everyone=everyone,
                           days=follow_up.DUE_SOON_WORKING_DAYS)
