"""报表: the ledger for a period (PDF, Excel, CSV), 四条线 warnings and statistics — township staff only."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from printouts.charts import statistics_charts
from rules.periods import KINDS, Period, PeriodError, parse_period
from rules.statistics import percent
from rules.time_lines import DEFAULT_WARN_DAYS, LINE_STATES, LINES
from station.services import ledger, statistics, time_lines
from station.services.errors import DomainError
from station.views.access import TOWNSHIP
from station.views.params import int_arg
from websec.roles import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _period() -> Period:
    return parse_period(request.args, dt.date.today())


@bp.get("/")
@roles_required(*TOWNSHIP)
def index():  # noqa: ANN201
    error = ""
    today = dt.date.today()
    try:
        period = _period()
    except PeriodError as exc:
        error, period = exc.message, parse_period({"period": "month"}, today)
    stats = statistics.compute(period, today)
    return render_template("reports/index.html", period=period, kinds=KINDS, error=error, stats=stats,
                           charts=statistics_charts(stats), percent=percent, formats=ledger.FORMATS, args=request.args)


@bp.get("/warnings")
@roles_required(*TOWNSHIP)
def warnings():  # noqa: ANN201
    days = int_arg("days", None, 0, 30)
    if days is None:
        if request.args.get("days"):
            flash("预警天数应为 0 到 30 之间的整数，已按默认 2 个工作日显示。", "error")
        days = DEFAULT_WARN_DAYS
    found = time_lines.warnings(dt.date.today(), days)
    return render_template("reports/warnings.html", found=found, days=days, line_names=LINES,
                           line_states=LINE_STATES)


@bp.get("/ledger.<fmt>")
@roles_required(*TOWNSHIP)
def ledger_file(fmt: str):  # noqa: ANN201
    try:
        made = ledger.export(_period(), fmt, current_user._get_current_object(), request.remote_addr)
    except (PeriodError, DomainError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.index"))
    # taken as given: as ``mimetype`` Werkzeug appended a second "; charset=utf-8" to "text/csv; charset=utf-8"
    response = Response(made.data, content_type=made.mimetype)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(made.filename)}"
    response.headers["Cache-Control"] = "no-store"  # residents' names: never left in a shared PC's cache
    return response
