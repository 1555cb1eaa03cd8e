"""The resident's progress page on the county platform: no login, reached from the receipt's QR code.

Rate-limited per client address (every lookup and every rating counts, found or not) and never
access-logged: a resident reading their own case is not staff access, and the page shows nothing
personal. The resident rates the service here (好差评) and, after a 整改, once more (追评).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rules import evaluations as rating_rules
from rules import query_codes
from sync.hub.models import HubLoginThrottle
from sync.hub.services import evaluations, public
from sync.hub.services.errors import HubError, NotFound
from websec.throttle import RateLimit

bp = Blueprint("public", __name__)


def _limit() -> RateLimit:
    return RateLimit(HubLoginThrottle, limit=int(current_app.config["PUBLIC_LOOKUP_LIMIT"]),
                     window=dt.timedelta(seconds=int(current_app.config["PUBLIC_LOOKUP_WINDOW_S"])))


def _page(code: str, cases: list[public.Progress] | None, error: str | None, status: int = 200,
          done: str = "", typed: dict[str, str] | None = None) -> tuple[str, int]:
    """``typed``: a refused rating's form as sent, shown again in the form it came from."""
    states = {c.case_id: evaluations.public_state(c.case_id) for c in cases or []}
    return render_template("hub/public/progress.html", code=code, cases=cases, error=error, states=states,
                           rules=rating_rules, done=done, typed=typed or {}), status


@bp.get("/q")
def form() -> Response | str:
    """The lookup form; a typed code goes to its own address so it can be bookmarked."""
    code = query_codes.normalise(request.args.get("code") or request.args.get("q"))
    if code:
        return redirect(url_for("public.progress", code=code, via="typed"))
    return render_template("hub/public/progress.html", code="", cases=None, error=None, states={})


@bp.get("/q/<code>")
def progress(code: str) -> tuple[str, int]:
    """A case's progress (or every item of its bundle) by query code."""
    typed = query_codes.normalise(code)
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return _page(typed, None, refusal, 429)
    cases = public.lookup(typed)
    if not cases:
        return _page(typed, None, public.NOT_FOUND, 404)
    return _page(typed, cases, None, done=request.args.get("done", ""))


def _channel() -> str:
    """二维码 when the page was opened from the paper's QR code; a typed code: 移动端 or PC."""
    if request.form.get("via") != "typed":
        return "qr_code"
    return "mobile" if "Mobile" in (request.user_agent.string or "") else "pc"


@bp.post("/q/<code>/rate")
def rate(code: str) -> Response | tuple[str, int]:
    """好差评 (or 追评) for one case the code opens; refused with a Chinese message, nothing stored."""
    typed = query_codes.normalise(code)
    refusal = _limit().hit(request.remote_addr)
    if refusal:
        return _page(typed, None, refusal, 429)
    form = request.form
    level = form.get("level", "")
    rating = evaluations.Rating(
        visit=form.get("visit", ""), level=level, reason_tag=form.get(f"reason_tag__{level}", ""),
        reason_text=form.get("reason_text", ""), channel=_channel(), kind=form.get("kind", "first"))
    config = current_app.config
    try:
        evaluations.rate_by_code(typed, form.get("case_id", ""), rating,
                                 callback_days=int(config["REMEDY_CALLBACK_WORKING_DAYS"]),
                                 fix_days=int(config["REMEDY_FIX_WORKING_DAYS"]))
    except NotFound as exc:
        return _page(typed, None, exc.message, 404)
    except HubError as exc:  # shown again with what the resident chose and typed (her words were wiped)
        return _page(typed, public.lookup(typed), exc.message, 400, typed=form.to_dict())
    return redirect(url_for("public.progress", code=typed, done="1") + "#rated")
