"""Station admin: staff accounts, station identity, holiday table, item powers, catalog file import."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from station.models import HolidayOverride, HolidayYear, User
from station.services import calendar, catalog, station_info, users
from station.services.errors import DomainError, ValidationFailed
from station.views.access import ADMIN, roles_required
from station.views.forms import CatalogImportForm, HolidayForm, PasswordForm, StationForm, UserForm
from station.views.params import int_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _form_errors(form, errors: dict[str, str]) -> None:  # noqa: ANN001
    for name, message in errors.items():
        if hasattr(form, name):
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        else:
            flash(message, "error")


@bp.route("/users", methods=["GET", "POST"])
@roles_required(*ADMIN)
def user_list():  # noqa: ANN201
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.username.data, form.name.data, form.role.data, form.password.data,
                                     form.phone.data or "")
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash(f"已添加用户 {user.username}（{user.role_name}）。", "success")
            return redirect(url_for("admin.user_list"))
    return render_template("admin/users.html", form=form, users=User.select().order_by(User.id),
                           password_form=PasswordForm())


@bp.post("/users/<int(max=2147483647):user_id>/active")
@roles_required(*ADMIN)
def user_active(user_id: int):  # noqa: ANN201

    try:
        user = users.set_active(user_id, request.form.get("active") == "1", current_user._get_current_object())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已{'启用' if user.active else '停用'}用户 {user.username}。", "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int(max=2147483647):user_id>/password")
@roles_required(*ADMIN)
def user_password(user_id: int):  # noqa: ANN201
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.reset_password(user_id, form.password.data)
        except DomainError as exc:
            flash(getattr(exc, "errors", {}).get("password", exc.message), "error")
        else:
            flash("密码已重置。", "success")
    else:
        flash("请输入新密码。", "error")
    return redirect(url_for("admin.user_list"))


@bp.route("/station", methods=["GET", "POST"])
@roles_required(*ADMIN)
def station():  # noqa: ANN201
    profile = station_info.get_profile()
    form = StationForm(data=profile.__dict__ if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            station_info.update_profile(**{f: getattr(form, f).data or "" for f in station_info.KEYS})
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash("站点设置已保存。", "success")
            return redirect(url_for("admin.station"))
    return render_template("admin/station.html", form=form)


@bp.route("/holidays", methods=["GET", "POST"])
@roles_required(*ADMIN)
def holidays():  # noqa: ANN201
    year = int_arg("year", dt.date.today().year, 1900, 2100)
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            calendar.set_override(form.day.data, form.is_workday.data == "1", form.name.data,
                                  form.mark_year_known.data)
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash("节假日设置已保存，新办件的期限按新设置计算。", "success")
            return redirect(url_for("admin.holidays", year=form.day.data.year))
    rows = (
        HolidayOverride.select()
        .where((HolidayOverride.day >= dt.date(year, 1, 1)) & (HolidayOverride.day <= dt.date(year, 12, 31)))
        .order_by(HolidayOverride.day)
    )
    known = [y.year for y in HolidayYear.select().order_by(HolidayYear.year)]
    return render_template("admin/holidays.html", form=form, rows=rows, year=year, known=known)


@bp.post("/holidays/<day>/delete")
@roles_required(*ADMIN)
def holiday_delete(day: str):  # noqa: ANN201
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        flash("日期格式有误。", "error")
        return redirect(url_for("admin.holidays"))
    calendar.delete_override(parsed)
    flash(f"{parsed.isoformat()} 已恢复为按周一至周五计算。", "success")
    return redirect(url_for("admin.holidays", year=parsed.year))


@bp.post("/holidays/year/<int(min=1900, max=2100):year>")
@roles_required(*ADMIN)
def holiday_year(year: int):  # noqa: ANN201
    calendar.set_year_known(year, request.form.get("known") == "1")
    flash(f"{year}年节假日数据状态已更新。", "success")
    return redirect(url_for("admin.holidays", year=year))


@bp.route("/items", methods=["GET", "POST"])
@roles_required(*ADMIN)
def items():  # noqa: ANN201
    if request.method == "POST":
        impl_code = request.form.get("impl_code", "")
        if not any(i.impl_code == impl_code for i in catalog.current_items()):
            flash("没有这个事项。", "error")
        else:
            catalog.set_station_power(impl_code, request.form.get("can_accept") == "1")
            flash("受理权限已更新。", "success")
        return redirect(url_for("admin.items"))
    try:
        rows = catalog.current_items()
    except DomainError as exc:
        flash(exc.message, "warning")
        rows = []
    return render_template("admin/items.html", rows=rows, can_accept={i.id: catalog.station_can_accept(i) for i in rows})


@bp.route("/catalog", methods=["GET", "POST"])
@roles_required(*ADMIN)
def catalog_import():  # noqa: ANN201
    form = CatalogImportForm()
    if form.validate_on_submit():
        try:
            data = json.loads(form.file.data.read(8 * 1024 * 1024).decode("utf-8"))
            version = catalog.import_catalog(data, source="file")
        except (ValueError, UnicodeDecodeError):
            form.file.errors.append("文件不是有效的 JSON 目录文件。")
        except DomainError as exc:
            form.file.errors.append(exc.message)
        else:
            flash(f"已导入事项目录 {version.version}，新办件按新目录办理；在办办件不受影响。", "success")
            return redirect(url_for("admin.catalog_import"))
    from station.models import CatalogVersion

    return render_template("admin/catalog.html", form=form,
                           versions=CatalogVersion.select().order_by(CatalogVersion.id.desc()))
