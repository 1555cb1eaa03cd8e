"""Error pages: roll back, answer JSON to JSON clients and a Chinese page to people."""

from __future__ import annotations

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from station.extensions import db
from station.services.attachments import too_large_message
from station.services.errors import DomainError, NotFound

MESSAGES = {
    400: "请求有误。",
    403: "您的角色无权使用此功能。",
    404: "页面不存在。",
    405: "不支持此操作。",
    413: "文件太大。",
    500: "系统出错，已记录。请重试或联系管理员。",
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _answer(code: int, message: str):  # noqa: ANN202
    if _wants_json():
        return jsonify({"error": code, "message": message}), code
    return render_template("errors/error.html", code=code, message=message), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError):  # noqa: ANN202
        return _answer(400, "页面已过期或来源不明（缺少安全令牌），请刷新页面后重试。")

    @app.errorhandler(NotFound)
    def _not_found(e: NotFound):  # noqa: ANN202
        return _answer(404, e.message)

    @app.errorhandler(DomainError)
    def _domain(e: DomainError):  # noqa: ANN202
        if not db.is_closed() and db.in_transaction():
            db.rollback()
        return _answer(400, e.message)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):  # noqa: ANN202
        code = e.code or 500
        if code == 413 and request.endpoint == "cases.upload" and not _wants_json():
            # a scan over the request limit: back to its case with the limit named, the page as it was
            flash(too_large_message(current_app.config["MAX_ATTACHMENT_BYTES"]), "error")
            return redirect(url_for("cases.detail", case_id=(request.view_args or {}).get("case_id", "")))
        return _answer(code, MESSAGES.get(code, e.description or "请求有误。"))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):  # noqa: ANN202
        app.logger.exception("unhandled error: %s", e)
        if not db.is_closed() and db.in_transaction():
            db.rollback()
        return _answer(500, MESSAGES[500])
