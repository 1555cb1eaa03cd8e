"""Taking an application for one item or a bundle; the rules are in services.intake."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules import form_fields
from rules.labels import INTAKE_MATERIAL_STATUSES, PICKUP_METHODS
from station.models import ServiceItem
from station.services import (
    appointments,
    catalog,
    home_visits,
    identity,
    intake,
    licence_checks,
    material_library,
    users,
    villages,
)
from station.services import cases as case_service
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from station.services.identity import CERTIFICATE_TYPES
from station.services.station_info import get_profile
from station.views.access import FRONT_OFFICE, log_access
from sync.restore import restore_pending
from websec.roles import roles_required

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.route("/item/<int(max=2147483647):item_id>", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def item_form(item_id: int):  # noqa: ANN201
    item = catalog.get_item(item_id)
    return _handle([item], title=item.name, bundle=None)


@bp.route("/bundle/<code>", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def bundle_form(code: str):  # noqa: ANN201
    bundle, items = catalog.get_bundle(code)
    if not items:
        raise DomainError("该“一件事”没有可办理的事项。")
    return _handle(items, title=bundle.name, bundle=bundle)


def _handle(items: list[ServiceItem], title: str, bundle):  # noqa: ANN001, ANN202
    today = dt.date.today()
    calendar = load_calendar()
    resumes = _resumed_case(items)
    booking = _booking()
    visit = _visit()
    if request.method == "POST":
        values = request.form
    elif visit is not None:
        values = {**_defaults(), **home_visits.intake_values(visit)}
        log_access("home_visit", obj=visit.id, detail="以上门服务记录的服务对象信息填写申请")
    elif booking is not None:
        values = {**_defaults(), **appointments.intake_values(booking)}
        log_access("appointment_change", obj=booking.code, detail=f"以预约 {booking.code} 的预约人信息填写申请")
    elif resumes is not None:
        values = intake.resume_values(resumes)
        log_access("resume", case_id=resumes.id, obj=resumes.case_no,
                   detail=f"再次受理：以办件 {resumes.case_no} 的申请人信息填表")
    else:
        values = _defaults()
    errors: dict[str, str] = {}
    warnings: list[str] = []
    duplicates = []
    lookup = request.method == "POST" and request.form.get("action") == "lookup"
    if request.method == "POST" and not lookup:
        try:
            draft = intake.check_input(items, request.form, today, calendar)
            cases = intake.create_cases(
                items, draft, current_user._get_current_object(),
                bundle_code=bundle.code if bundle else "",
                allow_duplicate=request.form.get("confirm_duplicate") == "1",
                seen_duplicates=request.form.getlist("seen_duplicate"), resumes=resumes,
                appointment_id=booking.id if booking is not None else "",
                home_visit_id=visit.id if visit is not None else "",
            )
        except ValidationFailed as exc:
            errors = exc.errors
            flash(exc.message, "error")
        except intake.DuplicateSuspected as exc:
            duplicates = exc.cases
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            for warning in draft.warnings:
                flash("提示：" + warning, "warning")
            first = cases[0]
            if len(cases) > 1:
                flash(f"已为“{title}”生成{len(cases)}个办件。", "success")
                turned_away = "、".join(f"“{c.item.name}”" for c in cases if c.decision == "not_collected")
                if turned_away:
                    flash(f"其中{turned_away}缺少必要材料，未收件：请打印一件事收件回执交申请人，"
                          "回执上一次性告知了需补齐的全部材料。", "warning")
            return redirect(url_for("cases.detail", case_id=first.id, new=1))
    materials = catalog.merge_materials(items)
    library = _library_panel(values, materials, today, lookup)
    deferral_limits = intake.material_deferral_limits(materials, today, calendar)
    return render_template(
        "intake/form.html",
        items=items, title=title, bundle=bundle, values=values, errors=errors, warnings=warnings,
        duplicates=duplicates, materials=materials,
        field_marks=form_fields.required_marks([i.form_fields or [] for i in items]),
        deferral_limits=deferral_limits,
        rest_days=intake.rest_days_until(today, max(filter(None, deferral_limits.values()), default=today), calendar),
        provisional_limits=intake.provisional_deferral_limits(materials, today, calendar),
        cert_types=CERTIFICATE_TYPES, material_statuses=INTAKE_MATERIAL_STATUSES, pickup_methods=PICKUP_METHODS,
        proxy_allowed=all(i.proxy_allowed for i in items),
        can_accept={i.id: catalog.station_can_accept(i) for i in items},
        restore_pending=intake.RESTORE_PENDING_MESSAGE if restore_pending() else "",
        resumes=resumes, booking=booking, visit=visit, library=library, consent_text=material_library.CONSENT_TEXT,
        masked_licence=licence_checks.masked_number,
        typed_validity={m.key for m in materials if material_library.validity_rule(m.key) == material_library.TYPED},
        **_village_choices(),
    )


def _booking():  # noqa: ANN202 - an Appointment or None
    """The booking this form turns into a case (?appointment=<id>, kept in a hidden field), if any."""
    appointment_id = request.form.get("appointment") if request.method == "POST" else request.args.get("appointment")
    if not appointment_id:
        return None
    booking = appointments.get(appointment_id)
    if booking.status not in ("booked", "no_show"):
        raise DomainError(f"预约 {booking.code} 已处理过，不能再转为办件。")
    return booking


def _visit():  # noqa: ANN202 - a HomeVisit or None
    """The home visit this case is taken during (?home_visit=<id>, kept in a hidden field), if any."""
    visit_id = request.form.get("home_visit") if request.method == "POST" else request.args.get("home_visit")
    return home_visits.get(visit_id) if visit_id else None


def _library_panel(values, materials, today: dt.date, lookup: bool):  # noqa: ANN001, ANN202
    """Her material library and licence checks for the form (只提交一次, 免证办), by the ID number typed.

    The lookup button also asks the county's licence register, with her consent only; every look is logged.
    """
    number = (values.get("applicant_id_number") or "").strip().upper()
    try:
        number = identity.check_resident_id(number).value if number else ""
    except identity.IdentityError as exc:
        if lookup:
            flash("查询已核验材料：" + str(exc), "error")
        return material_library.intake_panel("", [], today)
    kinds = [m.e_license for m in materials if m.e_license]
    if lookup and kinds:
        reason = "收件核验材料：" + "、".join(dict.fromkeys(i.name for m in materials for i in m.items))
        try:
            checks = licence_checks.check_licences(number, kinds, current_user._get_current_object(), reason[:200],
                                                   consent_now=material_library.consent_ticked(values))
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            found = sum(1 for c in checks if c.outcome == "found")
            if any(c.outcome == "unreachable" for c in checks):
                flash("无法连接县级平台，未能查询电子证照：请按纸质材料收取。", "warning")
            else:
                flash(f"已向县级证照库查询电子证照 {len(checks)} 类，查到 {found} 类。", "success")
    panel = material_library.intake_panel(number, [m.key for m in materials], today,
                                          licence_checks.todays_checks(number, kinds, today))
    if lookup or panel.offers:
        log_access("library_view", obj=number,
                   detail=f"收件时查看申请人材料库：可复用 {panel.reusable} 份" + ("" if panel.consent else "（未同意保存）"))
    if lookup and panel.consent is None:
        flash("该申请人尚未同意保存材料，材料库中没有她的材料；如申请人同意，请勾选“同意保存材料”。", "warning")
    elif lookup:
        flash(f"材料库中有 {panel.reusable} 份已核验、可复用的材料。", "success")
    return panel
def _resumed_case(items: list[ServiceItem]):  # noqa: ANN202 - a Case or None
    """The 不予收件 / 不予受理 case this form takes up again (?resume=<id>, kept in a hidden field), if any.

    Matched by item code: a case the county refused weeks ago was taken under an older catalog.
    """
    case_id = request.form.get("resume") if request.method == "POST" else request.args.get("resume")
    if not case_id:
        return None
    case = case_service.get_case(case_id)
    if case.item.item_code not in {i.item_code for i in items}:
        raise DomainError("再次受理的事项与首次来访的办件不一致。")
    if request.method == "GET" and not intake.can_resume(case):
        raise DomainError(intake.not_resumable_message(case))
    return case


def _village_choices() -> dict:
    """The station's villages for the applicant's village picker (none set: the 12-digit code is typed)."""
    listed = villages.station_villages()
    return {"villages": listed, "villages_options": [(v.code, f"{v.name}（{v.code}）") for v in listed]}


def _defaults() -> dict[str, str]:
    return {
        "mode": "assisted",
        "applicant_kind": "person",
        "applicant_cert_type": "111",
        "proxy_name": current_user.name,
        "proxy_id_number": users.own_id_number(current_user._get_current_object()),
        "proxy_phone": current_user.phone or "",
        "proxy_relation": "村代办员",
        "pickup_method": "window",
        "applicant_area_code": _station_area(),
    }


def _station_area() -> str:
    return get_profile().area_code
