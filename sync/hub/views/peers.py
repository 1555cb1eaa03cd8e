"""The county admin's page of peer hubs (跨域办): each link's state and queue, and 立即同步."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from sync.hub.models import Peer
from sync.hub.security import ADMIN, require_role
from sync.hub.services import peer_overview, peers
from sync.hub.services.errors import HubError

bp = Blueprint("peers", __name__, url_prefix="/peers")


@bp.before_request
def _require_county_admin() -> None:
    """Links to other counties (their addresses, this county's credentials there) are for county admins."""
    require_role(*ADMIN)


@bp.get("")
def index() -> str:
    """Every peer: address, link state, forward queue, set-aside events, decisions received."""
    return render_template("hub/peers.html", links=peer_overview.links(), unlinked=peer_overview.unlinked(),
                           running=current_app.extensions["peer_rounds"].running())


@bp.post("/<area_code>/sync")
def sync_now(area_code: str) -> Response:
    """Start one round with this peer in the background; the page never waits on the other county."""
    peer = Peer.get_or_none(Peer.area_code == area_code) or abort(404)
    if not peer.active:
        flash(f"对端县级平台“{peer.name}”已停用，不能同步。", "error")
    elif current_app.extensions["peer_rounds"].trigger(peer.area_code):
        flash(f"已开始与“{peer.name}”同步，稍后刷新本页查看结果。", "success")
    else:
        flash("上一轮同步尚未结束，结束后刷新本页查看结果。", "info")
    return redirect(url_for("peers.index"))


@bp.post("/<area_code>/events/<event_id>/resend")
def resend(area_code: str, event_id: str) -> Response:
    """Forward an event the peer set aside again at the next round (and the case's events held behind it)."""
    return _resend(area_code, lambda peer: peers.resend(peer, event_id), "该事件及其后被暂停的事件")


@bp.post("/<area_code>/handovers/<handover_id>/resend")
def resend_handover(area_code: str, handover_id: str) -> Response:
    """Forward a handover the peer refused again at the next round (once its problem is settled there)."""
    return _resend(area_code, lambda peer: peers.resend_handover(peer, handover_id), "该交接记录")


def _resend(area_code: str, mark: Callable[[Peer], object], what: str) -> Response:
    peer = Peer.get_or_none(Peer.area_code == area_code) or abort(404)
    try:
        mark(peer)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已安排重新转送{what}；下一轮与“{peer.name}”同步时发出（可点“立即同步”）。", "success")
    return redirect(url_for("peers.index", _anchor=f"peer-{peer.area_code}"))
