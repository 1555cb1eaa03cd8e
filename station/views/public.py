"""The resident's progress page, reached from the QR code or by typing the query code on paper.

Deliberately public: it shows only what the paper already shows, never a personal number, and
it needs the random query code (40 bits), not a guessable case number.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from station.models import Case, ServiceItem
from station.services import cases
from station.services.station_info import get_profile

bp = Blueprint("public", __name__)


@bp.get("/q")
def query():  # noqa: ANN201
    code = (request.args.get("q") or "").strip().upper()[:12]
    case = None
    error = None
    if code:
        case = (
            Case.select(Case, ServiceItem).join(ServiceItem).where(Case.query_code == code).first()
        )
        if case is None:
            error = "没有找到这个查询码，请核对回执上的8位查询码。"
    return render_template(
        "public/query.html", code=code, case=case, error=error, profile=get_profile(),
        materials=cases.materials(case) if case else [],
    )
