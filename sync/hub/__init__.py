"""The reference county platform ("hub"): its own Flask app speaking ``sync.protocol``.

``create_app`` reads like a table of contents: config → database → login/CSRF → platform seam
→ blueprints → error handlers. Nothing that matters lives in the process between requests, so
several WSGI workers can serve the same database.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, appcontext_pushed, g, jsonify, render_template, request
from peewee import ImproperlyConfigured, OperationalError
from werkzeug.routing import IntegerConverter, Map

from rules import labels
from rules.privacy import MASKING_FILTERS
from sync import protocol
from sync.hub import prepared
from sync.hub.admission import Admission, default_slots
from sync.hub.admission_gate import install_admission_gate
from sync.hub.china_time import to_china
from sync.hub.config import DEFAULT_INSTANCE_PATH, REPO_ROOT, Config, load_config
from sync.hub.database import DatabaseUnavailable, migrate, open_database
from sync.hub.extensions import csrf, db, key_ring, login_manager
from sync.hub.keyring import open_key_ring
from sync.hub.models import Change, HubUser
from sync.hub.peer_rounds import PeerRounds
from sync.hub.security import configure_security
from sync.hub.services import stations, users, workdays
from sync.hub.services.platform import load_platform
from sync.hub.services.resealing import reseal_everything, seal_case_parts
from sync.hub.views import (
    access_log,
    api,
    auth,
    booking,
    catalog,
    clerk,
    holidays,
    numbers,
    peers,
    public,
    remedies,
    station_pages,
    transfers,
)

#: The migration whose upgrade seals the rows already there (see migrations/0003).
SEALING_MIGRATION = "0003_sealed_personal_data"
#: The migration that sealed more of a case (see migrations/0032): its upgrade seals the cases already there.
CASE_PARTS_MIGRATION = "0032_privacy_case_parts_sealed"


def create_app(config_class: type[Config] = Config, instance_path: str | os.PathLike[str] | None = None) -> Flask:
    """Build a hub app from ``config_class`` in ``instance_path`` (else ``$HUB_INSTANCE_PATH``)."""
    instance_path = instance_path or os.environ.get("HUB_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()), instance_relative_config=True,
                template_folder=str(REPO_ROOT / "templates"), static_folder="static")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, config_class)
    try:
        configure_database(app)
    except (OperationalError, ImproperlyConfigured) as exc:
        raise DatabaseUnavailable(app.config.get("DATABASE_URL"), exc) from exc
    prepared.configure(app.config["PREPARED_STATEMENTS"])
    configure_public_url(app)
    configure_extensions(app)
    configure_platform(app)
    configure_blueprints(app)
    configure_errors(app)
    configure_templates(app)
    configure_security(app)
    return app


def configure_database(app: Flask) -> None:
    """Bind the model proxy to this app's database and key ring, migrate, and connect per request.

    The key ring comes first: a database holding sealed data without its key file is refused
    here (``MissingKeyFile``), and the upgrade to sealing seals the rows already stored.
    """
    database = open_database(app.config.get("DATABASE_URL"), app.config["DATABASE_PATH"])
    db.initialize(database)
    app.extensions["hub_db"] = database
    ring = open_key_ring(Path(app.config["KEY_FILE"]), database)
    key_ring.initialize(ring)
    app.extensions["hub_key_ring"] = ring
    if app.config.get("AUTO_MIGRATE"):
        attachment_dir = app.config["ATTACHMENT_DIR"]

        def _seal_what_was_plain(applied: list[str]) -> None:
            if SEALING_MIGRATION in applied:
                reseal_everything(attachment_dir)
            elif CASE_PARTS_MIGRATION in applied:
                seal_case_parts()

        migrate(database, after=_seal_what_was_plain)

    def _bind(sender: Flask, **extra: Any) -> None:
        # The model and key-ring proxies are process-wide; when a process holds several hub apps
        # one after the other (tests, demo), point them back at this app's whenever its context opens.
        if db.obj is not database:
            db.initialize(database)
        if key_ring.obj is not app.extensions["hub_key_ring"]:
            key_ring.initialize(app.extensions["hub_key_ring"])

    appcontext_pushed.connect(_bind, app, weak=False)

    @app.before_request
    def _connect() -> None:
        # the sync API connects when it is admitted (views/api.py `admitted`) or at its first query
        if request.blueprint != "api":
            db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()


def configure_public_url(app: Flask) -> None:
    """Send ``PUBLIC_URL`` down to the stations when it changed since the last start (receipts' QR codes)."""
    database = app.extensions["hub_db"]
    with database.connection_context():
        if app.config.get("AUTO_MIGRATE") or database.table_exists(Change._meta.table_name):
            stations.broadcast_public_url(app.config.get("PUBLIC_URL"))


def configure_extensions(app: Flask) -> None:
    """Clerk sessions with Flask-Login; CSRF on every HTML form (the signed API is exempt)."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "error"

    @login_manager.user_loader
    def _load_user(session_id: str) -> HubUser | None:
        raw_id, _dot, token = session_id.partition(".")
        if not raw_id.isdigit() or len(raw_id) > 12 or not token:
            return None
        user = HubUser.get_or_none(HubUser.id == int(raw_id))
        if user is None or not hmac.compare_digest(user.session_token, token):
            return None  # logged out or password reset since this cookie was made
        return user

    csrf.init_app(app)


def configure_platform(app: Flask) -> None:
    """Load the CasePlatform behind the API (the adapter seam, see services/platform.py), the admission
    gate, and the rounds with peer hubs."""
    app.extensions["hub_platform"] = load_platform(app)
    app.extensions["peer_rounds"] = PeerRounds(app)  # 跨域办 rounds: the scheduler in `run`, and 立即同步
    slots = app.config.get("ADMISSION_SLOTS")
    slots = default_slots(int(app.config["NODE_PROCESSES"])) if slots in (None, "") else int(slots)
    gate = Admission(slots, float(app.config["ADMISSION_WAIT_S"]),
                     int(app.config["RETRY_AFTER_S"]), int(app.config["ADMISSION_WAITING"]))
    app.extensions["hub_admission"] = gate
    install_admission_gate(app, gate)  # answers 503 before Flask builds a request


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in a hub URL is a row's id: a number no row can have (past SQLite's 2**63 - 1, an edited
    link) is a 404 when the URL is matched, not an overflow in the database and a 500."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, max=2**63 - 1)


def configure_blueprints(app: Flask) -> None:
    """Register the API (CSRF-exempt: it is authenticated by signatures) and the clerk pages."""
    app.url_map.converters["int"] = RowIdConverter  # before any rule is added
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(clerk.bp)
    app.register_blueprint(station_pages.bp)  # a station's devices and bookings
    app.register_blueprint(catalog.bp)
    app.register_blueprint(holidays.bp)  # the year's 放假安排, from the county admin's upload
    app.register_blueprint(access_log.bp)
    app.register_blueprint(numbers.bp)
    app.register_blueprint(public.bp)  # the resident's page: no login, rate-limited
    app.register_blueprint(booking.bp)  # the resident's bookings (预约): no login, rate-limited
    app.register_blueprint(remedies.bp)
    app.register_blueprint(peers.bp)
    app.register_blueprint(transfers.bp)


# status: (API error code, API message, page text)
_ERRORS = {
    400: ("bad_request", "请求有误。", "请求有误（页面可能已过期，请刷新后重试）"),
    403: ("forbidden", "无权访问。", "您的角色无权使用此功能。"),
    404: ("not_found", "接口不存在。", "页面不存在"),
    405: ("method_not_allowed", "请求方法不允许。", "请求方法不允许"),
    500: ("internal_error", "县级平台内部错误，请稍后重试。", "系统出错，已记录。请重试或联系管理员。"),
}


def configure_errors(app: Flask) -> None:
    """JSON for unknown API paths; plain pages elsewhere."""

    def handler(status: int) -> Callable[[Exception], tuple[Response | str, int]]:
        code, api_message, page_text = _ERRORS[status]

        def handle(exc: Exception) -> tuple[Response | str, int]:
            if request.path.startswith(protocol.API_PREFIX):
                return jsonify(error=code, message=api_message), status
            try:  # a page a phone shows at its size, with a way on (the bare words were tiny and a dead end)
                return render_template("hub/error.html", text=page_text), status
            except Exception:  # noqa: BLE001 — an error page must answer, whatever failed
                return page_text, status

        return handle

    for status in _ERRORS:
        app.register_error_handler(status, handler(status))


def configure_templates(app: Flask) -> None:
    """Filters the clerk pages use: China time, ages in words, sizes."""

    @app.template_filter("cst")
    def _cst(value: dt.datetime | str | None) -> str:
        """Hub rows are naive UTC; station times arrive as ISO text with their own offset."""
        if not value:
            return "—"
        local = to_china(value)
        return local.strftime("%Y-%m-%d %H:%M") if local else str(value)

    @app.template_filter("age")
    def _age(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        seconds = int(seconds)
        if seconds < 3600:
            return f"{max(seconds // 60, 0)} 分钟"
        if seconds < 86400:
            return f"{seconds // 3600} 小时"
        return f"{seconds // 86400} 天 {seconds % 86400 // 3600} 小时"

    app.jinja_env.filters.update(MASKING_FILTERS)  # one masking rule for every screen, the station's too
    app.add_template_filter(labels.label, "label")  # the glossary's words, as on paper
    app.add_template_filter(labels.limit_text, "limit_text")  # 20个工作日, never a bare 20
    app.add_template_global(workdays.provisional_warning)  # （暂定） beside a date counted without holiday data

    @app.template_filter("person")
    def _person(login: str | None) -> str:
        """Who acted, as residents and colleagues know them: the user's name, not the login.

        The county's users are few: one read of all of them per page, however many rows show a name.
        """
        if "person_names" not in g:
            g.person_names = users.person_names()
        return g.person_names.get(login or "", login or "")

    @app.template_filter("readable_json")
    def _readable_json(value: object) -> str:
        """An event body as a clerk reads it: indented, Chinese as Chinese (``tojson`` writes \\uXXXX)."""
        return json.dumps(value, ensure_ascii=False, indent=1)

    @app.template_filter("filesize")
    def _filesize(value: int | None) -> str:
        if value is None:
            return "—"
        for unit in ("B", "KB", "MB", "GB"):
            if value < 1024 or unit == "GB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024
        return str(value)
