"""The county admin's access-log page: the hub's own log or one station's, searched and verified."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from rules.labels import ACCESS_ACTIONS, STATION_ROLES
from rules.periods import bad_date_message
from sync.hub.china_time import china_today
from sync.hub.models import Station
from sync.hub.models.users import ROLES
from sync.hub.security import ADMIN, log_access, require_role
from sync.hub.services import access_log
from sync.hub.views.clerk import MAX_PAGE

bp = Blueprint("access_log", __name__, url_prefix="/access-log")

PAGE_SIZE = 50


@bp.before_request
def _require_county_admin() -> None:
    """Who looked at what is for county admins only."""
    require_role(*ADMIN)


def _date_arg(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        flash(bad_date_message("日期", china_today()), "error")
        return None


@bp.route("", methods=["GET", "POST"])
def index() -> str | Response:
    """Search; the button walks the chosen log's chain and says whether it is whole."""
    args = request.values
    f = access_log.LogFilter(date_from=_date_arg(args.get("from")), date_to=_date_arg(args.get("to")),
                             actor=args.get("actor", "").strip()[:40], action=args.get("action", ""),
                             case_id=args.get("case", "").strip()[:40], station=args.get("station", "").strip())
    station = Station.by_code(f.station) if f.station else None
    if f.station and station is None:
        flash("没有这个站点。", "error")
        f = access_log.LogFilter(f.date_from, f.date_to, f.actor, f.action, f.case_id, "")
    verification = None
    if request.method == "POST":  # reads every row: a button, not every page view
        verification = access_log.verify_station(station) if station else access_log.verify()
        log_access("log_verify", obj=f.station or "县级平台", detail=verification.message)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)  # a huge number overflowed OFFSET
    query = access_log.search(f)
    total = query.count()
    rows = list(query.paginate(page, PAGE_SIZE))
    return render_template("hub/access_log.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE, f=f,
                           actions=ACCESS_ACTIONS, verification=verification, station=station,
                           stations=Station.select().order_by(Station.code),
                           roles=STATION_ROLES if station else ROLES)
