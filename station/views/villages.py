"""The station admin's list of villages; the rules are in services.villages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from station.extensions import db
from station.services import villages
from station.services.errors import ValidationFailed
from station.views.access import ADMIN, log_access
from websec.roles import roles_required

bp = Blueprint("villages", __name__, url_prefix="/admin")


@bp.route("/villages", methods=["GET", "POST"])
@roles_required(*ADMIN)
def village_list():  # noqa: ANN201
    text = villages.as_text(villages.station_villages())
    error = ""
    if request.method == "POST":
        text = request.form.get("villages", "")
        try:
            with db.atomic("IMMEDIATE"):  # the list and its log entry, or neither
                saved = villages.save_villages(text)
                log_access("settings_station", detail=f"修改本站村（社区）列表：共{len(saved)}个")
        except ValidationFailed as exc:
            error = exc.errors["villages"]
        else:
            flash(f"已保存本站村（社区）列表，共{len(saved)}个。", "success")
            return redirect(url_for("villages.village_list"))
    return render_template("admin/villages.html", text=text, error=error), (400 if error else 200)
