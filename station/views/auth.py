"""Logging in and out: throttled per account and per address, the same work for every name."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from station.models import User
from station.security import login_guard
from station.views.access import log_access, safe_local_path
from station.views.forms import LoginForm
from websec.logins import check_password, mark_seen

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        guard = login_guard()
        refusal = guard.refusal(username, request.remote_addr)
        if refusal:
            form.password.errors.append(refusal)
            log_access("lockout", actor_name=username, obj=username, detail=f"已锁定，拒绝登录：{refusal}")
            return render_template("auth/login.html", form=form), 429
        user = User.get_or_none(User.username == username)
        # an unknown name is checked against a dummy hash: the answer takes as long either way
        if not check_password(user.password_hash if user else None, form.password.data):
            locked = guard.failed(username, request.remote_addr)
            form.password.errors.append(locked or "用户名或密码不正确。")
            log_access("login_failed", actor_name=username, obj=username, detail="用户名或密码不正确")
            if locked:
                log_access("lockout", actor_name=username, obj=username, detail=locked)
        elif not user.active:
            form.username.errors.append("该账号已停用，请联系站长。")
            log_access("login_failed", actor_name=username, obj=username, detail="账号已停用")
        else:
            guard.succeeded(username)
            login_user(user)  # no "remember me": a shared PC must not stay logged in for days
            mark_seen()
            log_access("login", obj=user.username, detail="登录成功")
            flash(f"欢迎，{user.name}（{user.role_name}）。", "success")
            return redirect(safe_local_path(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # noqa: ANN201
    log_access("logout", obj=current_user.username, detail="退出登录")
    current_user.end_sessions()  # a copy of this cookie (replayed later) is refused too
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
