"""物料流转 pages: batches of paper originals, the 物料流转单, and handovers recorded by scanning its barcode."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from printouts.sheets import transfer_sheet
from rules.privacy import mask_numbers_in
from rules.transfers import HANDOVER_WORKING_DAYS, ITEM_STATES, normalize_code, origin_of
from station.models import Transfer, TransferHandover, TransferItem
from station.services import paper, transfers
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from station.services.station_info import get_profile
from station.views.access import FRONT_OFFICE, log_access
from websec.roles import roles_required

bp = Blueprint("transfers", __name__, url_prefix="/transfers")


def _get(transfer_id: str) -> Transfer:
    transfer = Transfer.get_or_none(Transfer.id == transfer_id)
    if transfer is None:
        abort(404)
    return transfer


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    moving = transfers.in_transit()
    calendar, today = load_calendar(), dt.date.today()
    return render_template("transfers/index.html", moving=moving, recent=transfers.recent(),
                           late={c.transfer.id for c in moving if c.late(today, calendar)},
                           limit_days=HANDOVER_WORKING_DAYS,
                           waiting=len(transfers.cases_awaiting_transfer()))


@bp.post("/scan")
@roles_required(*FRONT_OFFICE)
def scan():  # noqa: ANN201
    """The scanner types the batch number and Enter into the box: open that batch at its handover form."""
    try:
        transfer = transfers.find_by_code(request.form.get("code", ""))
    except transfers.NotHere as exc:  # another station's batch, come on paper: record its receipt here
        return redirect(url_for("transfers.receive", code=exc.code) + "#handover")
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("transfers.index"))
    return redirect(url_for("transfers.detail", transfer_id=transfer.id, scanned=1) + "#handover")


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def new():  # noqa: ANN201
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            transfer = transfers.create_transfer(
                request.form.getlist("case"), destination=request.form.get("destination", ""),
                direction=request.form.get("direction", ""), user=current_user._get_current_object())
        except ValidationFailed as exc:
            errors = exc.errors
            flash(exc.message, "error")
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            log_access("transfer_create", obj=transfer.batch_no, detail=f"送往{transfer.destination}")
            flash(f"已建立流转批次 {transfer.batch_no}，请打印物料流转单，随材料一起交接。", "success")
            return redirect(url_for("transfers.detail", transfer_id=transfer.id))
    return render_template("transfers/new.html", cases=transfers.cases_awaiting_transfer(), errors=errors,
                           directions=transfers.DIRECTIONS, form=request.form), 400 if errors else 200


@bp.get("/<transfer_id>")
@roles_required(*FRONT_OFFICE)
def detail(transfer_id: str, errors: dict[str, str] | None = None, status: int = 200):  # noqa: ANN201
    transfer = _get(transfer_id)
    custody = transfers.custody_of(transfer)
    items = list(TransferItem.select().where(TransferItem.transfer == transfer).order_by(TransferItem.id))
    handovers = list(TransferHandover.select().where(TransferHandover.transfer == transfer)
                     .order_by(TransferHandover.at, TransferHandover.seq))
    me = current_user.name
    return render_template(
        "transfers/detail.html", transfer=transfer, custody=custody, items=items, handovers=handovers,
        errors=errors or {}, scanned=request.args.get("scanned") == "1", item_states=ITEM_STATES,
        seen=transfers.handovers_so_far(transfer),
        directions=transfers.DIRECTIONS, form=request.form if errors else {},
        defaults={"giver": custody.holder, "receiver": me if me != custody.holder else "",
                  "place": get_profile().name},
    ), status


@bp.post("/<transfer_id>/handover")
@roles_required(*FRONT_OFFICE)
def handover(transfer_id: str):  # noqa: ANN201
    transfer = _get(transfer_id)
    try:
        done = transfers.record_handover(transfer, user=current_user._get_current_object(), **_handover_form())
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return detail(transfer_id, errors=exc.errors, status=400)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("transfers.detail", transfer_id=transfer.id))
    log_access("transfer_handover", obj=transfer.batch_no, detail=f"第 {done.seq} 次交接（{done.place}）")
    flash(f"已登记第 {done.seq} 次交接。{transfers.custody_of(Transfer.get_by_id(transfer.id)).words()}", "success")
    return redirect(url_for("transfers.detail", transfer_id=transfer.id))


def _number(value: str) -> int | None:
    """A whole number the page itself put in the form (a line's id, a count); anything else: None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _handover_form() -> dict:
    """The handover form's fields, as record_handover takes them."""
    return {"giver": request.form.get("giver", ""), "receiver": request.form.get("receiver", ""),
            "place": request.form.get("place", ""),
            "missing": [n for v in request.form.getlist("missing") if (n := _number(v)) is not None],
            "missing_names": request.form.get("missing_names", ""), "extra": request.form.get("extra", ""),
            "note": request.form.get("note", ""), "arrived": request.form.get("arrived") == "1",
            "receiver_kind": request.form.get("receiver_kind", "staff"),
            "seen_handovers": _number(request.form.get("seen_handovers", ""))}


@bp.route("/receive", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def receive():  # noqa: ANN201
    """Another station's batch, scanned here from its paper sheet: record who handed it to whom."""
    code = normalize_code(request.values.get("code", ""))
    origin = origin_of(code)
    if not origin:
        flash(f"{mask_numbers_in(code) or '（空）'} 不是流转单的批次号，请重新扫描。", "error")
        return redirect(url_for("transfers.index"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            done = transfers.receive_foreign(code, user=current_user._get_current_object(), **_handover_form())
        except ValidationFailed as exc:
            errors = exc.errors
            flash(exc.message, "error")
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for("transfers.index"))
        else:
            log_access("transfer_handover", obj=code, detail=f"接收 {origin} 的批次（{done.place}）")
            flash(f"已登记接收批次 {code}，下次同步时报县级。"
                  f"{transfers.custody_of(done.transfer).words()}", "success")
            return redirect(url_for("transfers.detail", transfer_id=done.transfer_id))
    me = current_user.name
    seen = transfers.handovers_so_far(Transfer.get_or_none(Transfer.batch_no == code))  # received here before?
    return render_template("transfers/receive.html", code=code, origin=origin, errors=errors, seen=seen,
                           form=request.form if errors else {},
                           defaults={"giver": "", "receiver": me, "place": get_profile().name}), 400 if errors else 200


@bp.get("/<transfer_id>/sheet.pdf")
@roles_required(*FRONT_OFFICE)
def sheet(transfer_id: str):  # noqa: ANN201
    transfer = _get(transfer_id)
    log_access("print", obj=transfer.batch_no, detail=f"打印物料流转单 {transfer.batch_no}")
    response = Response(transfer_sheet(paper.station_info(), transfers.transfer_doc(transfer)),
                        mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={transfer.batch_no}.pdf"
    response.headers["Cache-Control"] = "no-store"
    return response
