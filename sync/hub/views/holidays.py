"""The county administrator's page for the year's holiday table (国务院办公厅 放假安排).

The same CSV and the same checks as ``python -m sync.hub publish-holidays`` (services/holidays.py);
county administrators do not use a command line. Upload → preview of what changes → confirm: a table
reaches every station at its next sync and recounts their 暂定 deadlines, so it is looked at first.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from sync.hub.security import ADMIN, log_access, require_role
from sync.hub.services import holidays
from sync.hub.services.errors import ValidationError

bp = Blueprint("holidays", __name__, url_prefix="/holidays")

#: A year's notice is some 30 lines; anything far larger is not one.
MAX_CSV_BYTES = 64 * 1024


@bp.before_request
def _require_county_admin() -> None:
    """Publishing reaches every station: county admins only."""
    require_role(*ADMIN)


def _index(status: int = 200) -> tuple[str, int]:
    return render_template("hub/holidays.html", tables=holidays.in_force()), status


@bp.route("")
def index() -> tuple[str, int]:
    """The table in force, per year, and the upload form."""
    return _index()


@bp.route("/preview", methods=["POST"])
def preview() -> tuple[str, int]:
    """Check the uploaded CSV and show what it would change; nothing is stored."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationError("请选择节假日文件（CSV）再点“预览”。")
        raw = upload.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            raise ValidationError("文件过大：一年的节假日安排只有几十行，请检查是否选错了文件。")
        text = holidays.decode_csv(raw, upload.filename)
        year, rows = holidays.parse_csv(text)
        shown = holidays.preview(year, rows)
    except ValidationError as exc:
        flash(f"未发布：{exc.message}", "error")
        return _index(400)
    return render_template("hub/holidays_preview.html", preview=shown, text=text,
                           filename=upload.filename), 200


@bp.route("/publish", methods=["POST"])
def publish() -> tuple[str, int] | Response:
    """Publish the previewed CSV, unless the year's table changed since the preview was shown."""
    text = request.form.get("csv") or ""
    try:
        if not text.strip():
            raise ValidationError("没有要发布的节假日文件，请先上传并预览。")
        year, rows = holidays.parse_csv(text)
        shown = holidays.preview(year, rows)
        if shown.current_version != (request.form.get("current_version") or ""):
            raise ValidationError(f"预览之后{year}年节假日安排已由他人更新（现为版本 "
                                  f"{shown.current_version or '无'}），请重新上传并预览。")
        table = holidays.publish(year, rows, current_user.username)
    except ValidationError as exc:
        flash(f"未发布：{exc.message}", "error")
        return _index(400)
    log_access("holiday_publish", obj=str(year),
               detail=f"发布{year}年节假日安排（版本 {table.version}，{len(table.days)} 天）")
    flash(f"已发布{year}年节假日安排，版本 {table.version}，共 {len(table.days)} 天；各站点下次同步时收到。", "success")
    return redirect(url_for("holidays.index"))
