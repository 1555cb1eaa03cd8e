"""A resident's material library (只提交一次): what is kept for her, and withdrawing her consent."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from station.services import identity, material_library
from station.services.errors import DomainError
from station.views.access import ADMIN, FRONT_OFFICE, log_access
from websec.roles import roles_required

bp = Blueprint("library", __name__, url_prefix="/library")


def _number() -> str:
    """The ID number posted (never in a URL: it would land in logs and history), checked."""
    return identity.check_resident_id((request.form.get("id_number") or "").strip()).value


@bp.route("/", methods=["GET", "POST"])
@roles_required(*FRONT_OFFICE)
def index():  # noqa: ANN201
    if request.method == "GET":
        return render_template("library/index.html", number="", consent=None, kept={})
    try:
        number = _number()
    except identity.IdentityError as exc:
        flash(str(exc), "error")
        return render_template("library/index.html", number="", consent=None, kept={}), 400
    consent = material_library.consent_of(number)
    kept = material_library.kept_for(number)
    log_access("library_view", obj=number, detail=f"查看居民材料库：保存的材料 {len(kept)} 份")
    return render_template("library/index.html", number=number, consent=consent, kept=kept)


@bp.route("/validity", methods=["GET", "POST"])
@roles_required(*ADMIN)
def validity():  # noqa: ANN201
    """站长: how long each material's verification may be reused (按证件有效期, or N months)."""
    if request.method == "POST":
        key = (request.form.get("key") or "")[:60]
        try:
            rule = material_library.set_validity(key, request.form.get("rule") or "")
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            words = "按证件有效期" if rule == material_library.TYPED else f"{rule} 个月"
            name = material_library.material_name(key)
            log_access("settings_library", obj=name, detail=f"材料「{name}」的复用有效期设为{words}")
            flash("材料复用有效期已更新。", "success")
        return redirect(url_for("library.validity"))
    return render_template("library/validity.html", rows=material_library.validity_table(),
                           typed=material_library.TYPED)


@bp.post("/withdraw")
@roles_required(*FRONT_OFFICE)
def withdraw():  # noqa: ANN201
    try:
        if request.form.get("confirm") != "1":
            raise DomainError("请勾选“申请人要求撤回同意”后再提交。")
        count = material_library.withdraw_consent((request.form.get("resident") or "")[:64],
                                                  current_user._get_current_object(),
                                                  current_app.config["ATTACHMENT_DIR"])
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"申请人的材料保存同意已撤回，删除保存的材料 {count} 份（含扫描件）。", "success")
    return redirect(url_for("library.index"))
