"""Template helpers: masking, dates, deadline markers — one definition for every page."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g, request

from rules import labels
from rules.privacy import MASKING_FILTERS
from station.models.cases import OPEN_STATUSES
from station.services.calendar import deferral_late, load_calendar, marker


def _calendar():  # noqa: ANN202 - one load per request
    if "work_calendar" not in g:
        g.work_calendar = load_calendar()
    return g.work_calendar


def deadline_marker(due: dt.date | None, status: str = "", received: dt.datetime | dt.date | None = None,
                    paused: bool = False) -> str:
    """The list/page marker of a due date; `received` keeps a case taken today from showing 即将到期.

    `paused`: the case waits for the resident's 补正 materials, and 补正 time is not counted
    (DOMAIN.md A.7): 'paused', never soon or overdue (station/services/time_lines.py ``paused``).
    """
    if due is None or (status and status not in OPEN_STATUSES):
        return ""
    if paused:
        return "paused"
    start = received.date() if isinstance(received, dt.datetime) else received
    return marker(due, dt.date.today(), _calendar(), start)


def deferral_passed(due: dt.date | None) -> bool:
    """A 容缺 date has passed today (one that fell on a rest day ends the next working day)."""
    return deferral_late(due, dt.date.today(), _calendar())


def register(app: Flask) -> None:
    app.jinja_env.filters.update(MASKING_FILTERS)  # the county's pages mask with the same rules
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
            "deferral_passed": deferral_passed,
            "today": dt.date.today(),
        }
