"""The county's numbers: dashboard, statistics with charts, ledgers, 四条线 warnings, the export
for the provincial platform, and the county settings behind them (assessed limits, village names)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from printouts.charts import bar_chart, statistics_charts
from rules.labels import HUB_CASE_STATUSES
from rules.periods import KINDS, Period, PeriodError, parse_period
from rules.statistics import percent
from rules.time_lines import DEFAULT_WARN_DAYS, LINE_STATES, LINES
from sync.hub.china_time import CHINA_TZ
from sync.hub.extensions import db
from sync.hub.models import CatalogVersion, Station
from sync.hub.models.users import COUNTY_ADMIN
from sync.hub.security import CASEWORK, log_access, require_role
from sync.hub.services import (
    catalog,
    county_settings,
    dashboard,
    evaluation_export,
    home_visits,
    ledger,
    provincial_export,
    stations,
    statistics,
    warnings,
)
from sync.hub.services.errors import HubError

bp = Blueprint("numbers", __name__, url_prefix="/numbers")


@bp.before_request
def _require_casework_role() -> None:
    require_role(*CASEWORK)


def _today() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()


def _period() -> Period:
    return parse_period(request.args, _today())


def _period_or_month() -> tuple[Period, str]:
    """The asked period for a page, or this month with the reason why the asked one was refused."""
    try:
        return _period(), ""
    except PeriodError as exc:
        return parse_period({"period": "month"}, _today()), exc.message


def _station() -> Station | None:
    """The page's station; an unknown code is said in Chinese and the whole county shown instead."""
    try:
        return stations.chosen(request.args.get("station"))
    except HubError as exc:
        flash(exc.message, "error")
        return None


def _file(data: bytes, filename: str, mimetype: str, inline: bool = False) -> Response:
    # taken as given: as ``mimetype`` Werkzeug appended a second "; charset=utf-8" to "text/csv; charset=utf-8"
    response = Response(data, content_type=mimetype)
    response.headers["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def dashboard_page() -> str:
    """总览: every station's health and overdue cases; cases by state across stations."""
    cfg = current_app.config
    rows = dashboard.rows(_today(), dark_hours=float(cfg["STATION_DARK_HOURS"]),
                          queue_age_warn_hours=float(cfg["QUEUE_AGE_WARN_HOURS"]))
    totals: dict[str, int] = {}
    for row in rows:
        for status, n in row.by_status.items():
            totals[status] = totals.get(status, 0) + n
    chart = bar_chart("全县办件状态（件）", [(HUB_CASE_STATUSES.get(k, k), v) for k, v in
                                        sorted(totals.items(), key=lambda p: -p[1])])
    return render_template("hub/numbers/dashboard.html", rows=rows, totals=totals, chart=chart,
                           statuses=HUB_CASE_STATUSES, line_names=LINES, dark_hours=cfg["STATION_DARK_HOURS"])


@bp.get("/statistics")
def statistics_page() -> str:
    period, error = _period_or_month()
    station = _station()
    stats = statistics.compute(period, _today(), station)
    return render_template("hub/numbers/statistics.html", period=period, kinds=KINDS, error=error, stats=stats,
                           charts=statistics_charts(stats), percent=percent, station=station, args=request.args,
                           stations=Station.select().order_by(Station.code), formats=ledger.FORMATS)


@bp.get("/ledger.<fmt>")
def ledger_file(fmt: str) -> Response:
    try:
        made = ledger.export(_period(), fmt, current_user._get_current_object(), request.remote_addr,
                             stations.chosen(request.args.get("station")))  # never the county's for a wrong code
    except (PeriodError, HubError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("numbers.statistics_page"))
    return _file(made.data, made.filename, made.mimetype, inline=fmt == "pdf")


@bp.get("/export/cases.<fmt>")
def provincial_file(fmt: str) -> Response:
    """Cases for the provincial platform (GB/T 39046 field names and codes)."""
    return _provincial(provincial_export.export, fmt)


@bp.get("/export/evaluations.<fmt>")
def evaluations_file(fmt: str) -> Response:
    """The period's 好差评 for the provincial platform (GB/T 39046 满意度 codes)."""
    return _provincial(evaluation_export.export, fmt)


def _provincial(export: Callable[..., tuple[bytes, str, str]], fmt: str) -> Response:
    try:
        data, filename, mimetype = export(_period(), fmt, current_user._get_current_object(), request.remote_addr,
                                          stations.chosen(request.args.get("station")))
    except (PeriodError, HubError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("numbers.statistics_page"))
    return _file(data, filename, mimetype)


@bp.get("/warnings")
def warnings_page() -> str:
    raw = (request.args.get("days") or "").strip()
    days = DEFAULT_WARN_DAYS
    if raw:
        if raw.isdecimal() and int(raw) <= 30:  # isdigit() takes "²", which int() refuses (a 500)
            days = int(raw)
        else:
            flash("预警天数应为 0 到 30 之间的整数，已按默认 2 个工作日显示。", "error")
    line = request.args.get("line", "")
    if line and line not in LINES:
        flash("请选择法定、承诺或考核时限。", "error")
        line = ""
    station = _station()
    found = warnings.find(_today(), days, station=station, line=line)
    elsewhere = warnings.find(_today(), days, station=station, line=line, elsewhere=True)
    return render_template("hub/numbers/warnings.html", found=found, elsewhere=elsewhere, days=days, line=line,
                           station=station,
                           line_names=LINES, line_states=LINE_STATES, statuses=HUB_CASE_STATUSES,
                           stations=Station.select().order_by(Station.code), limit=warnings.LIMIT)


def _catalog_items() -> list[dict]:
    head = catalog.current()
    if head is None:
        return []
    body = CatalogVersion.get_by_id(head.id).body or {}
    return [i for i in body.get("items") or [] if isinstance(i, dict) and i.get("item_code")]


#: The two forms of the 县级设置 page, by the ``what`` each sends.
SETTINGS_FORMS = ("assessed", "areas")


@bp.route("/settings", methods=["GET", "POST"])
def county_settings_page() -> tuple[str, int] | Response:
    """考核时限 per item and the villages' names; county admins change them, everyone sees them.

    A ``what`` neither form sends is refused (400): answering 已保存 would tell the admin something
    was saved when nothing was."""
    items = _catalog_items()
    status = 200
    if request.method == "POST":
        if current_user.role != COUNTY_ADMIN:
            abort(403)
        what = request.form.get("what")
        try:
            if what not in SETTINGS_FORMS:
                status = 400
                raise HubError("无法识别要保存的设置，未做任何修改。请在本页“考核时限”或“村（社区）名称”表单中保存。")
            with db.atomic():
                if what == "areas":
                    table = _parse_areas(request.form.get("areas") or "")
                    county_settings.set_area_names(table, clerk=current_user.username)
                    log_access("county_settings", obj="村（社区）名称", detail=f"修改村（社区）名称（{len(table)} 个）")
                else:
                    table = county_settings.parse_assessed_form(
                        request.form, {str(i["item_code"]): str(i.get("name") or "") for i in items})
                    county_settings.set_assessed_days(table, clerk=current_user.username)
                    log_access("county_settings", obj="考核时限", detail=f"修改考核时限（{len(table)} 个事项）")
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash("已保存，将在各站下次同步时下发。", "success")
            return redirect(url_for("numbers.county_settings_page"))
    return render_template("hub/numbers/settings.html", items=items, assessed=county_settings.assessed_days(),
                           areas=county_settings.area_names()), status


def _parse_areas(text: str) -> dict[str, str]:
    """One village a line: `141081102201 东关村` (code, a space, the name).

    A Chinese input method types the space and the digits full-width (`１４１０８１…　东关村`): the code is
    read as the digits it shows, the space as a space; "²" is no digit of a code."""
    table = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        code, name = (re.split(r"\s+", line, maxsplit=1) + [""])[:2]
        code = unicodedata.normalize("NFKC", code) if code.isdecimal() else code
        if len(code) != 12 or not (code.isascii() and code.isdigit()) or not name.strip():
            raise HubError(f"第 {n} 行应为“12位区划代码 空格 名称”，如 141081102201 东关村。")
        table[code] = name.strip()
    return table


@bp.get("/visits")
def visits_page() -> str:
    """上门服务: each station's home visits in a period, and the visits themselves (masked)."""
    period, error = _period_or_month()
    station = _station()
    found = home_visits.lines(period, station)
    log_access("home_visit", obj=period.slug,
               detail=f"查看{station.name if station else '全县'}{period.label}上门服务（{len(found)} 次，姓名地址已遮蔽）")
    return render_template("hub/numbers/visits.html", period=period, kinds=KINDS, error=error, station=station,
                           per_station=home_visits.per_station(period), found=found, args=request.args,
                           stations=Station.select().order_by(Station.code))
