"""Publishing catalog versions that stations pick up from the changes feed."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from sync.hub.extensions import db
from sync.hub.models import CatalogVersion
from sync.hub.security import ADMIN, log_access, require_role
from sync.hub.services import catalog
from sync.hub.services.errors import HubError

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.before_request
def _require_county_admin() -> None:
    """Publishing reaches every station: county admins only."""
    require_role(*ADMIN)


@bp.route("", methods=["GET", "POST"])
def publish() -> str | Response:
    """List published versions; publish a new one from pasted or uploaded JSON."""
    text = ""
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read() if upload and upload.filename else (request.form.get("catalog") or "").encode("utf-8")
        text = raw.decode("utf-8", errors="replace")
        try:
            if not raw.strip():  # 发布 pressed with no file chosen and nothing pasted
                raise HubError("请选择目录文件，或把目录 JSON 粘贴到文本框中，再点“发布”。")
            data = json.loads(raw.decode("utf-8-sig"))
            with db.atomic():
                row = catalog.publish(data, clerk=current_user.username)
                log_access("catalog_publish", obj=row.version, detail=f"发布事项目录 {row.version}（{row.item_count} 个事项）")
        except (UnicodeDecodeError, json.JSONDecodeError):
            flash("目录文件不是有效的 UTF-8 JSON。", "error")
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(f"目录版本 {row.version} 已发布（{row.item_count} 个事项），各站下次同步时更新。", "success")
            return redirect(url_for("catalog.publish"))
    versions = list(CatalogVersion.select(CatalogVersion.id, CatalogVersion.version, CatalogVersion.published_at,
                                          CatalogVersion.published_by, CatalogVersion.item_count)
                    .order_by(CatalogVersion.id.desc()))
    return render_template("hub/catalog.html", versions=versions, text=text if len(text) < 200_000 else "")
