"""A staff member's own profile: her ID number and work phone fill the 代办人 fields at intake."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules.privacy import mask_id_number
from station.services import users
from station.services.errors import ValidationFailed
from station.views.access import FRONT_OFFICE
from websec.roles import roles_required

bp = Blueprint("profile", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def own_profile():  # noqa: ANN201
    me = current_user._get_current_object()
    errors: dict[str, str] = {}
    typed = {"id_number": "", "phone": me.phone}
    if request.method == "POST":
        typed = {"id_number": request.form.get("id_number", ""), "phone": request.form.get("phone", "")}
        try:
            users.set_own_profile(me, typed["id_number"], typed["phone"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash("已保存。代办时“代办人”一栏将按本资料自动填写。", "success")
            return redirect(url_for("profile.own_profile"))
    return render_template("main/profile.html", masked_id=mask_id_number(users.own_id_number(me)), typed=typed,
                           errors=errors), (400 if errors else 200)
