"""Print preview: a document opens inline as PDF in the browser's viewer, ready for the printer."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from printouts.sheets import ledger
from rules.periods import PeriodError, parse_day
from station.services import cases, home_visits, paper
from station.services.errors import DomainError, NotFound
from station.views.access import FRONT_OFFICE, TOWNSHIP, log_access
from websec.roles import roles_required

bp = Blueprint("printing", __name__)


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{filename}"
    response.headers["Cache-Control"] = "no-store"  # personal data: never left in a shared PC's cache
    return response


@bp.get("/cases/<case_id>/print/<doc>")
@roles_required(*FRONT_OFFICE)
def document(case_id: str, doc: str):  # noqa: ANN201
    case = cases.get_case(case_id)
    try:
        pdf, _title = paper.render(case, doc, current_user._get_current_object(), request.remote_addr)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    return _pdf(pdf, f"{case.case_no}-{doc}.pdf")


@bp.get("/ledger.pdf")
@roles_required(*TOWNSHIP)
def ledger_pdf():  # noqa: ANN201
    try:
        day = parse_day(request.args.get("day"), "日期", dt.date.today())
    except PeriodError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.index"))
    rows = paper.ledger_rows(day)
    visits = home_visits.ledger_rows(day)
    log_access("ledger", obj=day.isoformat(),
               detail=f"打印 {day.isoformat()} 台账（{len(rows)} 件" + (f"，上门服务 {len(visits)} 次" if visits else "") + "）")
    return _pdf(ledger(paper.station_info(), day, rows, visits=visits), f"ledger-{day.isoformat()}.pdf")
