"""The station app: `create_app()` reads like a table of contents."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, appcontext_pushed, g

from printouts.fonts import configure_fonts
from station import keys
from station.config import Config, read_settings
from station.database import open_database
from station.extensions import csrf, db, login_manager
from station.migrate import (
    DatabaseNewer,
    UpgradeCopyFailed,
    UpgradeWhileServing,
    backup_before_upgrade,
    pending,
    refuse_newer,
    schema_version,
    upgrade,
)
from station.models import User
from station.security import configure_security
from station.services.backups import check_database
from station.services.protection import seal_plain_rows_if_pending
from station.single_instance import AlreadyRunning, hold_instance_lock
from station.views import (
    admin,
    appointments,
    auth,
    cases,
    catalog,
    errors,
    filters,
    follow_up,
    home_visits,
    intake,
    kiosk,
    library,
    main,
    notify,
    printing,
    profile,
    public,
    reports,
    sync_status,
    transfers,
    usb,
    villages,
)
from sync.local_db import db as sync_db
from websec.sealing import write_owner_only

REPO_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(config_class: type[Config] = Config, instance_path: str | os.PathLike[str] | None = None) -> Flask:
    """Build a station app from `config_class` (tests pass `TestConfig` with temporary paths)."""
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder="static",
    )
    configure_settings(app, config_class)
    configure_database(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_errors(app)
    configure_templates(app)
    configure_printouts(app)
    configure_security(app)
    return app


def configure_settings(app: Flask, config_class: type[Config]) -> None:
    """Class defaults, then the instance folder's config.py, then `STATION_<NAME>` variables."""
    app.config.from_object(config_class)
    keys.owner_only_folder(app.instance_path)  # database, key ring, scans: owner-only where the OS allows
    read_settings(app.config, config_class, app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config["DATABASE"] = app.config["DATABASE"] or os.path.join(app.instance_path, "station.sqlite3")
    app.config["ATTACHMENT_DIR"] = app.config.get("ATTACHMENT_DIR") or os.path.join(app.instance_path, "attachments")
    app.config["KEY_FILE"] = app.config.get("KEY_FILE") or os.path.join(app.instance_path, "keys", "data.key")


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder: never a fixed key in code."""
    path = instance / "secret_key"
    if not path.exists():
        write_owner_only(path, secrets.token_hex(32))  # created 0600, never readable for a moment
    return path.read_text(encoding="utf-8").strip()


def configure_database(app: Flask) -> None:
    """Bind the deferred database and the key ring; one connection per request, closed in teardown."""
    # a damaged file refuses to start (DatabaseDamaged, in Chinese) before anything writes to it
    check_database(app.config["DATABASE"])
    database = open_database(app.config["DATABASE"])
    try:
        with database.connection_context():
            refuse_newer(database)  # a newer release's database: refuse before anything writes
    except DatabaseNewer:
        database.close_all()  # no handle left open on the file (Windows would keep it locked)
        raise
    db.initialize(database)
    sync_db.initialize(database)  # the same Database: outbox rows join the caller's transaction
    app.extensions["station_db"] = database
    # refuses (KeyFileMissing, in Chinese) when sealed data has lost its key: never a silent new key
    ring = keys.load_for_station(Path(app.config["KEY_FILE"]), database)
    keys.bind(ring)
    app.extensions["key_ring"] = ring
    with database.connection_context():
        todo, fresh = pending(database), not schema_version(database)
    serving_lock = None
    try:
        if todo:  # never under a station still serving this folder (an old release started at logon)
            try:
                serving_lock = hold_instance_lock(app.instance_path)
            except AlreadyRunning:
                if fresh:  # nothing to upgrade: a second start of a new station, said as `run` says it
                    raise
                raise UpgradeWhileServing(app.instance_path) from None
        with database.connection_context():
            backup_before_upgrade(database, app.config["DATABASE"])
    except (UpgradeCopyFailed, UpgradeWhileServing, AlreadyRunning):
        database.close_all()  # as for DatabaseNewer: no handle left open on the file
        if serving_lock is not None:
            serving_lock.close()
        raise
    try:
        with database.connection_context():
            upgrade(database)  # a station in the field upgrades in place, queued events and all
            seal_plain_rows_if_pending(app.config["ATTACHMENT_DIR"])  # rows from before 0007 sealed once
    finally:
        if serving_lock is not None:
            serving_lock.close()  # `run` takes it again to serve

    def _bind(sender: Flask, **_extra: Any) -> None:
        # several station apps in one process (tests, benchmarks, demo tools): each app context
        # points the shared proxy at its own database
        db.initialize(sender.extensions["station_db"])
        sync_db.initialize(sender.extensions["station_db"])
        keys.bind(sender.extensions["key_ring"])

    appcontext_pushed.connect(_bind, app, weak=False)

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)
        g.db_opened = True

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        if g.pop("db_opened", False) and not db.is_closed():
            db.close()


def configure_extensions(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    app.before_request(usb.raise_upload_limit)  # before CSRF reads the form: a bundle is larger than a scan
    csrf.init_app(app)

    # see configure_blueprints: the models still reach sync/, which imports station
    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        raw_id, _dot, token = session_id.partition(".")
        if not raw_id.isdigit() or len(raw_id) > 10:
            return None
        user = User.get_or_none((User.id == int(raw_id)) & (User.active == True))  # noqa: E712
        if user is None or not hmac.compare_digest(user.session_token, token):
            return None  # password changed since this session or cookie was made
        return user


def configure_blueprints(app: Flask) -> None:
    for module in (main, auth, public, catalog, intake, cases, follow_up, library, printing, reports, admin,
                   sync_status, usb, transfers, kiosk, notify, villages, profile, appointments, home_visits):
        app.register_blueprint(module.bp)


def configure_errors(app: Flask) -> None:
    errors.register(app)


def configure_templates(app: Flask) -> None:
    filters.register(app)


def configure_printouts(app: Flask) -> None:
    """Hand the configured fonts to printouts (which never reads the station's settings)."""
    if app.config.get("CJK_FONT") or app.config.get("CJK_EXT_FONT"):
        configure_fonts(app.config.get("CJK_FONT"), app.config.get("CJK_EXT_FONT"))
