"""The sync page: link state, queue, last success and error, set-aside events, "sync now"."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for

from station.services import clock, usb_bundles
from station.services.sync_queue import pull_problem_rows, queued_cases, set_aside_rows
from station.views.access import TOWNSHIP
from sync import state, status
from sync.errors import RequeueRefused
from sync.relay import relay_counts
from sync.transport import HubLink
from websec.roles import roles_required

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.get("/")
@roles_required(*TOWNSHIP)
def index():  # noqa: ANN201
    return render_template(
        "sync/index.html", summary=status.queue_summary(), set_aside=set_aside_rows(),
        pull_problems=pull_problem_rows(), link=HubLink.address(), queued=queued_cases(),
        relay=relay_counts() if usb_bundles.is_township() else None,  # villages' bundles ride this link too
        zone_problem=clock.zone_problem(),
    )


@bp.get("/progress.json")
@roles_required(*TOWNSHIP)
def progress():  # noqa: ANN201
    summary = status.queue_summary()
    summary["progress"] = state.progress()
    summary["oldest_queued_at"] = summary["oldest_queued_at"].isoformat() if summary["oldest_queued_at"] else None
    return jsonify(summary)


@bp.post("/now")
@roles_required(*TOWNSHIP)
def sync_now():  # noqa: ANN201
    """Ask the background job to run at once; the request itself never waits on the network."""
    runner = current_app.extensions.get("sync_runner")
    if runner is None:
        flash("本站尚未连接县级平台（请站长执行 python -m station link）。", "error")
    else:
        runner.trigger()
        flash("已开始同步，进度见下方。", "info")
    return redirect(url_for("sync.index"))


@bp.post("/events/<event_id>/requeue")
@roles_required(*TOWNSHIP)
def requeue(event_id: str):  # noqa: ANN201
    try:
        status.requeue(event_id)
    except RequeueRefused as exc:
        flash(exc.message, "error")
    else:
        flash("已重新加入发送队列。", "success")
    return redirect(url_for("sync.index"))
