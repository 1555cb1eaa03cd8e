"""Station admin: staff accounts, station identity, holiday table, item powers, catalog file import."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rules.labels import ACCESS_ACTIONS
from rules.periods import bad_date_message
from station.extensions import db
from station.models import CatalogVersion, HolidayOverride, HolidayYear, User
from station.models.users import ROLES
from station.services import access_log, backups, calendar, catalog, station_info, station_settings, users
from station.services.errors import DomainError, ValidationFailed
from station.views.access import ADMIN, log_access
from station.views.forms import CatalogImportForm, HolidayForm, PasswordForm, StationForm, UserForm
from station.views.params import int_arg
from websec.roles import roles_required

LOG_PAGE_SIZE = 50

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
            with db.atomic("IMMEDIATE"):  # the account and its log entry, or neither
                user = users.create_user(form.username.data, form.name.data, form.role.data, form.password.data,
                                         form.phone.data or "")
                log_access("user_create", obj=user.username, detail=f"添加用户 {user.username}（{user.role_name}）")
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash(f"已添加用户 {user.username}（{user.role_name}）。", "success")
            return redirect(url_for("admin.user_list"))
    return _user_page(form, _refused_status())


def _refused_status() -> int:
    """The status of a form page rendered again: after a POST it was refused (a saved form redirects),
    so 400 with its Chinese messages and nothing changed, as every other refused form of the station."""
    return 400 if request.method == "POST" else 200


def _user_page(form: UserForm, status: int = 200):  # noqa: ANN202
    return render_template("admin/users.html", form=form, users=User.select().order_by(User.id),
                           password_form=PasswordForm()), status


#: The values the user list's 启用 / 停用 buttons send; anything else was not sent by the page.
_ACTIVE_VALUES = {"1": True, "0": False}


@bp.post("/users/<int(max=2147483647):user_id>/active")
@roles_required(*ADMIN)
def user_active(user_id: int):  # noqa: ANN201
    """启用 / 停用 an account; a value the form never sends changes nothing (a forged 停用 must not lock anyone out)."""
    active = _ACTIVE_VALUES.get(request.form.get("active", ""))
    if active is None:
        flash("启用或停用的请求无效，未做任何修改。请在用户列表中点“启用”或“停用”按钮。", "error")
        return _user_page(UserForm(formdata=None), 400)
    try:
        with db.atomic("IMMEDIATE"):
            user = users.set_active(user_id, active, current_user._get_current_object())
            log_access("user_activate" if user.active else "user_deactivate", obj=user.username,
                       detail=f"{'启用' if user.active else '停用'}用户 {user.username}")
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
            with db.atomic("IMMEDIATE"):
                users.reset_password(user_id, form.password.data)
                target = User.get_by_id(user_id)
                log_access("password_reset", obj=target.username, detail=f"重置用户 {target.username} 的密码")
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
            values = {f: getattr(form, f).data or "" for f in station_info.KEYS}
            with db.atomic("IMMEDIATE"):
                before = station_info.get_profile().__dict__
                station_info.update_profile(**values)
                changed = [f for f in station_info.KEYS if str(before.get(f, "")) != str(values[f])]
                log_access("settings_station", obj="站点信息",
                           detail="修改站点设置：" + ("、".join(str(getattr(form, f).label.text) for f in changed) or "无变化"))
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash("站点设置已保存。", "success")
            return redirect(url_for("admin.station"))
    return render_template("admin/station.html", form=form), _refused_status()


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*ADMIN)
def settings():  # noqa: ANN201
    """本站设置: what a station sets once (villages, paper, sync, backup folder)."""
    errors: dict[str, str] = {}
    values = None
    if request.method == "POST":
        f = request.form
        window_from, window_to = f.get("sync_window_from", ""), f.get("sync_window_to", "")
        try:
            with db.atomic("IMMEDIATE"):  # every value or none
                station_settings.update_settings(
                    f.get("villages", ""), {k: f.get(f"paper_{k}", "a4") for k in station_settings.PAPER_DOCUMENTS},
                    f.get("margin_mm", ""), f.get("sync_interval_s", ""), window_from, window_to,
                    f.get("backup_dir", ""))
                log_access("settings_station", obj="本站设置", detail="修改本站设置（村社区、纸张、同步、备份文件夹）")
        except ValidationFailed as exc:
            errors = exc.errors
            values = f
        else:
            flash("本站设置已保存。", "success")
            return redirect(url_for("admin.settings"))
    current = station_settings.get_settings()
    window = current.sync_window.split("-") if current.sync_window else ["", ""]
    return render_template("admin/settings.html", s=current, errors=errors, posted=values, window=window,
                           last_backup=backups.last_backup(),
                           papers=station_settings.PAPERS, documents=station_settings.PAPER_DOCUMENTS,
                           margin_range=station_settings.MARGIN_RANGE), (400 if errors else 200)


def _recounted_words(recounted: int) -> str:
    """What a holiday-table change did to open cases' 暂定 deadlines, for the admin's message."""
    if not recounted:
        return ""
    return f"{recounted}个在办办件的暂定期限已按新数据重新计算（见各办件的办理记录，已告知县级平台）。"


@bp.route("/holidays", methods=["GET", "POST"])
@roles_required(*ADMIN)
def holidays():  # noqa: ANN201
    year = int_arg("year", dt.date.today().year, 1900, 2100)
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            with db.atomic("IMMEDIATE"):
                recounted = calendar.set_override(form.day.data, form.is_workday.data == "1", form.name.data,
                                      form.mark_year_known.data)
                log_access("settings_holiday", obj=form.day.data.isoformat(),
                           detail=f"设置 {form.day.data.isoformat()} 为{'调休上班' if form.is_workday.data == '1' else '放假'}（{form.name.data}）")
        except ValidationFailed as exc:
            _form_errors(form, exc.errors)
        else:
            flash("节假日设置已保存，新办件的期限按新设置计算。" + _recounted_words(recounted), "success")
            return redirect(url_for("admin.holidays", year=form.day.data.year))
    rows = (
        HolidayOverride.select()
        .where((HolidayOverride.day >= dt.date(year, 1, 1)) & (HolidayOverride.day <= dt.date(year, 12, 31)))
        .order_by(HolidayOverride.day)
    )
    known = [y.year for y in HolidayYear.select().order_by(HolidayYear.year)]
    return render_template("admin/holidays.html", form=form, rows=rows, year=year, known=known,
                           year_row=HolidayYear.get_or_none(HolidayYear.year == year)), _refused_status()


@bp.post("/holidays/<day>/delete")
@roles_required(*ADMIN)
def holiday_delete(day: str):  # noqa: ANN201
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        flash(bad_date_message("日期", dt.date.today()), "error")
        return redirect(url_for("admin.holidays"))
    with db.atomic("IMMEDIATE"):
        recounted = calendar.delete_override(parsed)
        log_access("settings_holiday", obj=parsed.isoformat(), detail=f"删除 {parsed.isoformat()} 的节假日设置")
    flash(f"{parsed.isoformat()} 已恢复为按周一至周五计算。" + _recounted_words(recounted), "success")
    return redirect(url_for("admin.holidays", year=parsed.year))


@bp.post("/holidays/year/<int(min=1900, max=2100):year>")
@roles_required(*ADMIN)
def holiday_year(year: int):  # noqa: ANN201
    with db.atomic("IMMEDIATE"):
        recounted = calendar.set_year_known(year, request.form.get("known") == "1")
        log_access("settings_holiday", obj=str(year),
                   detail=f"{year}年节假日数据标记为{'完整' if request.form.get('known') == '1' else '不完整'}")
    flash(f"{year}年节假日数据状态已更新。" + _recounted_words(recounted), "success")
    return redirect(url_for("admin.holidays", year=year))


@bp.route("/items", methods=["GET", "POST"])
@roles_required(*ADMIN)
def items():  # noqa: ANN201
    if request.method == "POST":
        impl_code = request.form.get("impl_code", "")
        if not catalog.has_catalog():  # a fresh station before its first pull: the page says why, nothing set
            return redirect(url_for("admin.items"))
        if not any(i.impl_code == impl_code for i in catalog.current_items()):
            flash("没有这个事项。", "error")
        else:
            with db.atomic("IMMEDIATE"):
                catalog.set_station_power(impl_code, request.form.get("can_accept") == "1")
                log_access("settings_items", obj=impl_code,
                           detail=f"事项 {impl_code} 设为{'本站可受理' if request.form.get('can_accept') == '1' else '本站不受理'}")
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
            with db.atomic("IMMEDIATE"):
                version = catalog.import_catalog(data, source="file")
                log_access("catalog_import", obj=version.version, detail=f"从文件导入事项目录 {version.version}")
        except (ValueError, UnicodeDecodeError):
            form.file.errors.append("文件不是有效的 JSON 目录文件。")
        except DomainError as exc:
            form.file.errors.append(exc.message)
        else:
            flash(f"已导入事项目录 {version.version}，新办件按新目录办理；在办办件不受影响。", "success")
            return redirect(url_for("admin.catalog_import"))
    return render_template("admin/catalog.html", form=form,
                           versions=CatalogVersion.select().order_by(CatalogVersion.id.desc()))


@bp.route("/access-log", methods=["GET", "POST"])
@roles_required(*ADMIN)
def access_log_page():  # noqa: ANN201
    """Search the access log; the button walks the whole chain and says whether it is whole."""
    args = request.values
    f = access_log.LogFilter(date_from=_date_arg(args.get("from")), date_to=_date_arg(args.get("to")),
                             actor=args.get("actor", "").strip()[:40], action=args.get("action", ""),
                             case_id=args.get("case", "").strip()[:40])
    verification = None
    if request.method == "POST":  # the check reads every row: a button, not every page view
        verification = access_log.verify()
        log_access("log_verify", detail=verification.message)
    page = int_arg("page", 1, 1, 100_000)
    query = access_log.search(f)
    total = query.count()
    rows = list(query.paginate(page, LOG_PAGE_SIZE))
    return render_template("admin/access_log.html", rows=rows, total=total, page=page,
                           page_size=LOG_PAGE_SIZE, f=f, actions=ACCESS_ACTIONS, verification=verification,
                           roles=ROLES)


def _date_arg(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        flash(bad_date_message("日期", dt.date.today()), "error")
        return None
