"""Template helpers: masking, dates, deadline markers — one definition for every page."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g, request

from rules import labels
from rules.privacy import (
    mask_certificate_number,
    mask_id_number,
    mask_licence_number,
    mask_name,
    mask_numbers_in,
    mask_phone,
)
from station.models.cases import OPEN_STATUSES
from station.services.calendar import load_calendar, marker


def _calendar():  # noqa: ANN202 - one load per request
    if "work_calendar" not in g:
        g.work_calendar = load_calendar()
    return g.work_calendar


def deadline_marker(due: dt.date | None, status: str = "", received: dt.datetime | dt.date | None = None) -> str:
    """The list/page marker of a due date; `received` keeps a case taken today from showing 即将到期."""
    if due is None or (status and status not in OPEN_STATUSES):
        return ""
    start = received.date() if isinstance(received, dt.datetime) else received
    return marker(due, dt.date.today(), _calendar(), start)


def register(app: Flask) -> None:
    app.add_template_filter(mask_id_number, "mask_id")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(mask_name, "mask_name")
    app.add_template_filter(mask_licence_number, "mask_licence")
    app.add_template_filter(mask_certificate_number, "mask_certificate")  # a 残疾人证's holds the ID number
    app.add_template_filter(mask_numbers_in, "mask_numbers")  # free text in a list (the county's reasons)
    app.add_template_filter(labels.label, "label")  # the glossary's words, as on paper

    @app.template_filter("dt")
    def _dt(value: dt.datetime | dt.date | None) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return value.isoformat()

    @app.context_processor
    def _globals() -> dict:
        return {
            "large_font": request.cookies.get("large_font") == "1",
            "deadline_marker": deadline_marker,
            "today": dt.date.today(),
        }
