"""物料流转 at the county: scan a batch's barcode (a USB scanner types it and Enter) and record its receipt.

Thin: each form calls one function of services/transfers.py and shows its Chinese message.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from rules.transfers import ITEM_STATES
from sync.hub.extensions import db
from sync.hub.models import HubTransfer
from sync.hub.security import CASEWORK, log_access, require_role
from sync.hub.services import transfers
from sync.hub.services.transfers import TransferError

bp = Blueprint("transfers", __name__, url_prefix="/transfers")


@bp.before_request
def _require_casework_role() -> None:
    require_role(*CASEWORK)


def _get(transfer_id: int) -> HubTransfer:
    transfer = HubTransfer.get_or_none(HubTransfer.id == transfer_id)
    if transfer is None:
        abort(404)
    return transfer


@bp.get("/")
def index() -> str:
    """The scan box (focused: the scanner types into it) and the batches still in transit, longest first."""
    return render_template("hub/transfers.html", moving=transfers.in_transit())


@bp.post("/scan")
def scan() -> Response:
    try:
        transfer = transfers.find_by_code(request.form.get("code", ""))
    except TransferError as exc:
        flash(exc.message, "error")
        return redirect(url_for("transfers.index"))
    return redirect(url_for("transfers.detail", transfer_id=transfer.id, scanned=1) + "#handover")


@bp.get("/<int:transfer_id>")
def detail(transfer_id: int, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    transfer = _get(transfer_id)
    custody = transfers.custody_of(transfer)
    me = current_user.name or current_user.username
    items = transfers.items_of(transfer)
    onward = transfers.onward(items)
    return render_template(
        "hub/transfer.html", transfer=transfer, custody=custody, items=items, onward=onward,
        all_onward=bool(onward) and all(i.case_id in onward for i in items if i.case_id),
        handovers=transfers.handovers_of(transfer), item_states=ITEM_STATES, errors=errors or {},
        scanned=request.args.get("scanned") == "1", form=request.form if errors else {},
        defaults={"giver": custody.holder, "receiver": me if me != custody.holder else "", "place": "县级政务服务中心"},
    ), status


@bp.post("/<int:transfer_id>/receive")
def receive(transfer_id: int) -> Response | tuple[str, int]:
    """Record the receipt: who gave, who received, lines found missing, papers found extra."""
    transfer = _get(transfer_id)
    try:
        with db.atomic():  # the handover and its access-log entry, or neither
            done = transfers.record_at_county(
                transfer, giver=request.form.get("giver", ""), receiver=request.form.get("receiver", ""),
                place=request.form.get("place", ""), recorded_by=current_user.name or current_user.username,
                missing=[int(v) for v in request.form.getlist("missing") if v.isascii() and v.isdigit()],
                extra=request.form.get("extra", ""), note=request.form.get("note", ""),
                arrived=request.form.get("arrived") == "1", seen=request.form.get("seen", type=int))
            log_access("transfer_handover", obj=transfer.batch_no, detail=f"{done.giver} → {done.receiver}（{done.place}）")
    except TransferError as exc:
        flash(exc.message, "error")
        if exc.errors:
            return detail(transfer_id, errors=exc.errors, status=400)
        return redirect(url_for("transfers.detail", transfer_id=transfer.id))
    flash(f"已登记交接。{transfers.custody_of(HubTransfer.get_by_id(transfer.id)).words()}", "success")
    return redirect(url_for("transfers.detail", transfer_id=transfer.id))
