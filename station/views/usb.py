"""The USB bundle page (离线包): a village exports and takes back answers, a township relays."""

from __future__ import annotations

import io
import json
import tempfile

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from station.services import usb_bundles
from station.services.station_info import get_profile
from station.sync_hooks import station_hooks
from station.views.access import FRONT_OFFICE, TOWNSHIP, log_access
from sync import state
from sync.relay import held, mark_exported
from sync.usb_bundle import SUFFIX, BundleError
from sync.usb_export import USB_PROGRESS, last_export, record_progress
from websec.roles import roles_required

bp = Blueprint("usb", __name__, url_prefix="/sync/usb")


def raise_upload_limit() -> None:
    """Let a bundle file past the app's request limit (MAX_CONTENT_LENGTH, sized for scans) on its import form.

    Registered before CSRF protection, which reads the form before any view runs: raising the limit
    in the view came too late, and every bundle over 12 MiB (a few scans) was answered "文件太大".
    Only for staff who may import: a stranger's upload keeps the app's limit.
    """
    if (request.endpoint == "usb.import_bundle" and current_user.is_authenticated
            and current_user.role in FRONT_OFFICE):
        request.max_content_length = int(current_app.config["USB_BUNDLE_MAX_BYTES"])


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    township = usb_bundles.is_township()
    return render_template("sync/usb.html", township=township, profile=get_profile(),
                           last=last_export(), bundles=held() if township else [],
                           can_relay=current_user.role in TOWNSHIP)


@bp.get("/progress.json")
@roles_required(*FRONT_OFFICE)
def progress():  # noqa: ANN201
    raw = state.get_value(USB_PROGRESS)
    return jsonify(json.loads(raw) if raw else {})


@bp.post("/export")
@roles_required(*FRONT_OFFICE)
def export():  # noqa: ANN201
    """Write the bundle and hand it to the browser as a download (the agent saves it onto the stick)."""
    out = tempfile.TemporaryFile()  # sealed, written in chunks, sent from disk, then gone
    record_progress("export", 0, 1, "正在准备离线包")

    def step(done: int, total: int) -> None:
        record_progress("export", done, total, f"正在加密写入 {done * 100 // max(total, 1)}%")

    try:
        made = usb_bundles.export(out, station_hooks(current_app), step,
                                  max_bytes=int(current_app.config["USB_BUNDLE_MAX_BYTES"]))
    except BundleError as exc:
        out.close()
        record_progress("export", 0, 0, f"未导出：{exc.message}")
        flash(f"未导出：{exc.message}", "error")
        return redirect(url_for("usb.index"))
    record_progress("export", 1, 1, f"已导出第 {made.seq} 号离线包（{made.cases} 件办件、{made.events} 条事件、"
                                    f"{made.files} 个扫描件）{made.size_message()}")
    if made.left_for_next:
        flash(made.size_message(), "warning")
    log_access("usb_export", obj=f"第 {made.seq} 号离线包",
               detail=f"{made.cases} 件办件、{made.events} 条事件、{made.files} 个扫描件")
    out.seek(0)
    name = f"{get_profile().code}-离线包-{made.seq:03d}{SUFFIX}"
    return send_file(out, mimetype="application/octet-stream", as_attachment=True, download_name=name)


@bp.post("/import")
@roles_required(*FRONT_OFFICE)
def import_bundle():  # noqa: ANN201
    """Township: hold a village's bundle (clerk or admin). Village: take the county's return bundle."""
    if usb_bundles.is_township() and current_user.role not in TOWNSHIP:
        abort(403)
    upload = request.files.get("bundle")  # the limit was raised for it before the form was read
    if upload is None or not upload.filename:
        flash("请选择要导入的离线包文件（.bmz）。", "error")
        return redirect(url_for("usb.index"))
    try:
        done = usb_bundles.import_file(upload.stream, station_hooks(current_app))  # werkzeug spooled it to disk
    except BundleError as exc:
        flash(f"未导入：{exc.message}", "error")
        return redirect(url_for("usb.index"))
    log_access("usb_import", obj=upload.filename[:100], detail=done.message())
    flash(done.message(), "success")
    return redirect(url_for("usb.index"))


@bp.post("/return")
@roles_required(*TOWNSHIP)
def export_return():  # noqa: ANN201
    """Township: the county's return bundle for a village, as a download for its stick."""
    village = (request.form.get("station") or "").strip()
    raw = (request.form.get("device") or "0").strip()
    if not (raw.isascii() and raw.isdigit() and int(raw) <= 99):  # '²' passes isdigit() and then fails int()
        flash("未导出：设备编号不对，请在下表中点该行的“导出回执包”。", "error")
        return redirect(url_for("usb.index"))
    device = int(raw)
    try:
        bundle = usb_bundles.return_bundle(village, device)
    except BundleError as exc:
        flash(f"未导出：{exc.message}", "error")
        return redirect(url_for("usb.index"))
    mark_exported(bundle)  # its bytes are in hand: the download carries them
    log_access("usb_return_export", obj=village, detail=f"{bundle.source} 第 {bundle.seq} 号离线包的回执包")
    return send_file(io.BytesIO(bytes(bundle.data)), mimetype="application/octet-stream", as_attachment=True,
                     download_name=f"{village}{f'-{device:02d}' if device else ''}-回执包-{bundle.seq:03d}{SUFFIX}")
