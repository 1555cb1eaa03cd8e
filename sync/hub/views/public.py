"""The resident's progress page on the county platform: no login, reached from the receipt's QR code.

Rate-limited per client address (every lookup counts, found or not) and never access-logged:
a resident reading their own case is not staff access, and the page shows nothing personal.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rules import query_codes
from sync.hub.models import HubLoginThrottle
from sync.hub.services import public
from websec.throttle import RateLimit

bp = Blueprint("public", __name__)


def _limit() -> RateLimit:
    return RateLimit(HubLoginThrottle, limit=int(current_app.config["PUBLIC_LOOKUP_LIMIT"]),
                     window=dt.timedelta(seconds=int(current_app.config["PUBLIC_LOOKUP_WINDOW_S"])))


@bp.get("/q")
def form() -> Response | str:
    """The lookup form; a typed code goes to its own address so it can be bookmarked."""
    code = query_codes.normalise(request.args.get("code") or request.args.get("q"))
    if code:
        return redirect(url_for("public.progress", code=code))
    return render_template("hub/public/progress.html", code="", cases=None, error=None)


@bp.get("/q/<code>")
def progress(code: str) -> tuple[str, int] | str:
    """A case's progress (or every item of its bundle) by query code."""
    typed = query_codes.normalise(code)
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return render_template("hub/public/progress.html", code=typed, cases=None, error=refusal), 429
    cases = public.lookup(typed)
    if not cases:
        return render_template("hub/public/progress.html", code=typed, cases=None, error=public.NOT_FOUND), 404
    return render_template("hub/public/progress.html", code=typed, cases=cases, error=None)
