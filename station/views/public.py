"""The resident's progress page, reached from the QR code or by typing the query code on paper.

Deliberately public: it shows only what the paper already shows, never a personal number, and
it needs the random query code (40 bits), not a guessable case number. Lookups are limited per
client address (websec.throttle, counted in the database) so codes cannot be guessed in bulk.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template, request

from rules import query_codes
from station.models import Case, LoginThrottle, ServiceItem
from station.services import bundles, cases
from station.services.station_info import get_profile
from websec.throttle import RateLimit

bp = Blueprint("public", __name__)


def _limit() -> RateLimit:
    return RateLimit(LoginThrottle, limit=int(current_app.config["PUBLIC_LOOKUP_LIMIT"]),
                     window=dt.timedelta(seconds=int(current_app.config["PUBLIC_LOOKUP_WINDOW_S"])))


@bp.get("/q")
def query():  # noqa: ANN201
    code = query_codes.normalise(request.args.get("q"))[:12]
    case = None
    error = None
    status = 200
    if code:
        refusal = _limit().hit(request.remote_addr)
        if refusal:
            error, status = refusal, 429
        else:
            case = (
                Case.select(Case, ServiceItem).join(ServiceItem).where(Case.query_code == code).first()
            )
            if case is None:
                error = "没有找到这个查询码，请核对回执上的8位查询码。"
    return render_template(
        "public/query.html", code=code, case=case, error=error, profile=get_profile(),
        materials=cases.materials(case) if case else [], bundle=bundles.bundle_of(case) if case else None,
    ), status
