"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from station.models import User
from station.views.access import safe_local_path
from station.views.forms import LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.username == form.username.data.strip())
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append("用户名或密码不正确。")
        elif not user.active:
            form.username.errors.append("该账号已停用，请联系站长。")
        else:
            login_user(user, remember=form.remember.data)
            flash(f"欢迎，{user.name}（{user.role_name}）。", "success")
            return redirect(safe_local_path(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # noqa: ANN201
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
