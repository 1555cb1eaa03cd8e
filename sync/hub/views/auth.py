"""County login and logout: throttled per account and per address, sessions ended on logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from sync.hub.security import log_access, login_guard
from sync.hub.services import users
from websec.logins import mark_seen

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Follow ``next`` only to a path on this site (no open redirect to another host)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("clerk.cases")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the login form; log the clerk in on valid credentials."""
    if current_user.is_authenticated:
        return redirect(url_for("clerk.cases"))
    if request.method == "POST":
        username = request.form.get("username", "")
        guard = login_guard()
        refusal = guard.refusal(username, request.remote_addr)
        if refusal:
            flash(refusal, "error")
            log_access("lockout", actor_name=username[:100], obj=username, detail=f"已锁定，拒绝登录：{refusal}")
            return render_template("hub/login.html"), 429  # type: ignore[return-value]
        user = users.authenticate(username, request.form.get("password", ""))
        if user is None:
            locked = guard.failed(username, request.remote_addr)
            flash(locked or "用户名或密码错误。", "error")
            log_access("login_failed", actor_name=username[:100], obj=username, detail="用户名或密码错误")
            if locked:
                log_access("lockout", actor_name=username[:100], obj=username, detail=locked)
        else:
            guard.succeeded(username)
            login_user(user)
            mark_seen()
            log_access("login", obj=user.username, detail="登录成功")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("hub/login.html")


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out (POST, so a link on another site cannot log a clerk out); a copy of the cookie stops working too."""
    log_access("logout", obj=current_user.username, detail="退出登录")
    current_user.end_sessions()
    logout_user()
    return redirect(url_for("auth.login"))
