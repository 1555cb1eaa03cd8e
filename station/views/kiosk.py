"""The rating kiosk (好差评 on the hall tablet): the agent opens it for a case, then turns the screen.

The page itself needs no login, but only a signed, short-lived token that the agent's session made
for that case opens it (services/evaluations.py): nobody can rate a case by guessing an address.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules import evaluations as rating_rules
from rules.privacy import mask_name
from station.models import Case, ServiceItem
from station.services import cases, evaluations
from station.services.errors import DomainError
from station.views.access import FRONT_OFFICE, log_access
from websec.roles import roles_required

bp = Blueprint("kiosk", __name__)


def _max_age() -> int:
    return int(current_app.config["KIOSK_TOKEN_MINUTES"]) * 60


@bp.post("/cases/<case_id>/kiosk")
@roles_required(*FRONT_OFFICE)
def open_for_case(case_id: str):  # noqa: ANN201
    """Open the kiosk page for the case's current visit (logged: who handed the tablet over, when)."""
    case = cases.get_case(case_id)
    try:
        token = evaluations.open_kiosk(case, current_user._get_current_object(), current_app.secret_key)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    log_access("kiosk_open", case_id=case.id, obj=case.case_no, detail=f"打开评价平板：{evaluations.current_visit(case)}")
    return redirect(url_for("kiosk.page", token=token))


def _render(token: str, kiosk: evaluations.KioskPass | None, error: str = "", done: bool = False, status: int = 200):
    case = Case.select(Case, ServiceItem).join(ServiceItem).where(Case.id == kiosk.case_id).first() if kiosk else None
    return render_template("kiosk/rate.html", token=token, kiosk=kiosk, case=case, error=error, done=done,
                           applicant=mask_name(case.applicant_name) if case else "", rules=rating_rules,
                           already=bool(case and evaluations.rated(case, kiosk.visit)),
                           typed=request.form if error and request.method == "POST" else {}), status


@bp.get("/kiosk/<token>")
def page(token: str):  # noqa: ANN201
    try:
        kiosk = evaluations.read_kiosk(token, current_app.secret_key, _max_age())
    except DomainError as exc:
        return _render(token, None, exc.message, status=403)
    return _render(token, kiosk, done=request.args.get("done") == "1")


@bp.post("/kiosk/<token>")
def rate(token: str):  # noqa: ANN201
    try:
        kiosk = evaluations.read_kiosk(token, current_app.secret_key, _max_age())
    except DomainError as exc:
        return _render(token, None, exc.message, status=403)
    level = request.form.get("level", "")
    try:
        evaluations.rate_at_kiosk(kiosk, level, request.form.get(f"reason_tag__{level}", ""),
                                  request.form.get("reason_text", ""))
    except DomainError as exc:
        return _render(token, kiosk, exc.message, status=400)
    return redirect(url_for("kiosk.page", token=token, done="1"))
