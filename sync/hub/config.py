"""Hub configuration: defaults here, overridden by ``instance/hub/config.py`` and ``HUB_<NAME>`` env.

Only the settings ``Config`` defines are read from the environment.

Nothing secret has a default: ``SECRET_KEY`` comes from the environment or is generated once
into the instance folder, so two deployments never share a session key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Config as FlaskConfig
from flask import Flask

from sync import protocol
from sync.usb_bundle import MAX_BUNDLE_BYTES
from websec.environment import (
    Allowed,
    check_booleans,
    check_ranges,
    check_texts,
    defined_settings,
    factory_problem,
    read_settings_file,
    same_site_problem,
)
from websec.urls import web_url_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCE_PATH = REPO_ROOT / "instance" / "hub"

ENV_PREFIX = "HUB_"


class Config:
    """Defaults for a county hub."""

    SECRET_KEY: str | None = None  # HUB_SECRET_KEY / SECRET_KEY, else generated into the instance folder
    # Database: SQLite file in the instance folder unless DATABASE_URL says otherwise.
    DATABASE_URL: str | None = None
    DATABASE_PATH: str | None = None  # default: <instance>/hub.sqlite3
    ATTACHMENT_DIR: str | None = None  # default: <instance>/attachments
    # The key ring sealing personal data and station secrets (docs/security.md). Keep it out of
    # database backups; without it sealed data cannot be read.
    KEY_FILE: str | None = None  # default: <instance>/hub.key
    AUTO_MIGRATE = True
    # Sync protocol limits.
    CLOCK_WINDOW_S = protocol.CLOCK_WINDOW_S
    MAX_BATCH_EVENTS = protocol.MAX_EVENTS_PER_BATCH
    MAX_BATCH_BYTES = protocol.MAX_BATCH_BYTES
    MAX_DECOMPRESSED_BYTES = protocol.MAX_DECOMPRESSED_BYTES
    MAX_ATTACHMENT_BYTES = protocol.MAX_ATTACHMENT_BYTES
    MAX_CHANGES_PER_PAGE = protocol.MAX_CHANGES_PER_PAGE
    MAX_CHANGES_PAGE_BYTES = 4 * 1024 * 1024
    # A village's USB bundle forwarded by its township (scans included): read whole into memory.
    MAX_RELAY_BUNDLE_BYTES = MAX_BUNDLE_BYTES  # what a township takes from a village (sync/usb_bundle.py)
    CATALOG_GRACE_DAYS = 30
    NONCE_PRUNE_PROBABILITY = 0.02
    # PostgreSQL plans each request's small statements once per connection (sync/hub/prepared.py).
    # False behind a PgBouncer in transaction mode, where a connection's session is not its own.
    PREPARED_STATEMENTS = True
    # Admission control (sync/hub/admission.py): per process, this many batches, pulls and uploads
    # run at once; another waits up to ADMISSION_WAIT_S for a slot, else is answered 503 with
    # Retry-After. About twice the process's share of the machine's cores keeps admitted answers
    # fast (docs/scaling.md, session 7): None works it out from NODE_PROCESSES; 0: no gate.
    ADMISSION_SLOTS: int | None = None
    NODE_PROCESSES = 1  # hub processes sharing this machine's cores, each with its own gate
    ADMISSION_WAIT_S = 0.2
    ADMISSION_WAITING = 8  # at most this many wait for a slot at once; the next is answered 503 at once
    RETRY_AFTER_S = 2
    # County dashboard thresholds.
    STATION_DARK_HOURS = 24
    QUEUE_AGE_WARN_HOURS = 24
    # 免证办: items whose approved 办结 issues a licence into the register (sync/hub/services/licences.py),
    # by national item code: the licence kind (as materials name it), the issuer, years valid (0: no limit).
    LICENCE_ISSUING_ITEMS: Mapping[str, Mapping[str, Any]] = {
        "000116001000": {"kind": "残疾人证", "issuer": "示范县残疾人联合会", "valid_years": 10},
    }
    # The adapter seam: dotted path of a CasePlatform factory (see services/platform.py).
    HUB_PLATFORM = "sync.hub.services.platform:LocalPlatform"
    # HTML forms (catalog upload) may be large; the JSON API has its own per-endpoint limits.
    MAX_FORM_MEMORY_SIZE = 16 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True forces it; otherwise Secure whenever served over HTTPS
    IDLE_TIMEOUT_MINUTES = 30  # a county PC left unattended asks for the password again
    TRUSTED_PROXIES = 0  # load balancer hops whose X-Forwarded-For/-Proto are believed (address lockouts)
    WTF_CSRF_TIME_LIMIT = None
    # The resident's public progress page (/q/<code>): the address residents reach it at, sent down
    # to stations for the receipts' QR codes (empty: stations keep their own page), and its limit.
    PUBLIC_URL = ""
    PUBLIC_LOOKUP_LIMIT = 30
    PUBLIC_LOOKUP_WINDOW_S = 600
    # Retention (services/retention.py, `purge-personal`): a finished booking's or home visit's resident
    # (name and phone kept masked, address and the phone's blind index removed) after this many months;
    # 0: never. Cases are official records (办件档案), kept by archival rules, never purged here.
    PERSONAL_RETENTION_MONTHS = 36
    # 差评整改: the first call-back and the fix are due this many working days after the 差评.
    REMEDY_CALLBACK_WORKING_DAYS = 1
    REMEDY_FIX_WORKING_DAYS = 15
    # 跨域办: this county's 6-digit code, and how often `run` forwards to peer hubs (0: never; `peers --once`)
    AREA_CODE = ""
    PEER_SYNC_INTERVAL_S = 30
    # Read the instance folder's config.py and the environment (TestConfig turns this off).
    READ_INSTANCE_CONFIG = True

    @classmethod
    def with_overrides(cls, **overrides: Any) -> type[Config]:
        """A subclass with `overrides`: how tests, the demo and benchmarks set a hub up."""
        return type(cls.__name__, (cls,), overrides)


#: What each number setting may be, checked when the settings are read (websec.environment.check_ranges):
#: a value outside crashed later with a traceback, or set a limit that refused every station.
SETTING_RANGES: dict[str, Allowed] = {
    "CLOCK_WINDOW_S": Allowed(1),
    "MAX_BATCH_EVENTS": Allowed(1),
    "MAX_BATCH_BYTES": Allowed(1),
    "MAX_DECOMPRESSED_BYTES": Allowed(1),
    "MAX_ATTACHMENT_BYTES": Allowed(1),
    "MAX_CHANGES_PER_PAGE": Allowed(1),
    "MAX_CHANGES_PAGE_BYTES": Allowed(1),
    "MAX_RELAY_BUNDLE_BYTES": Allowed(1),
    "CATALOG_GRACE_DAYS": Allowed(0),
    "NONCE_PRUNE_PROBABILITY": Allowed(0, 1, whole=False),
    "ADMISSION_SLOTS": Allowed(0, blank=True),  # None: from NODE_PROCESSES; 0: no gate
    "NODE_PROCESSES": Allowed(1),
    "ADMISSION_WAIT_S": Allowed(0, whole=False),
    "ADMISSION_WAITING": Allowed(0),
    "RETRY_AFTER_S": Allowed(1),
    "STATION_DARK_HOURS": Allowed(1),
    "QUEUE_AGE_WARN_HOURS": Allowed(1),
    "MAX_FORM_MEMORY_SIZE": Allowed(1),
    "IDLE_TIMEOUT_MINUTES": Allowed(1),
    "TRUSTED_PROXIES": Allowed(0),
    "WTF_CSRF_TIME_LIMIT": Allowed(1, blank=True),  # None: a form never expires
    "PUBLIC_LOOKUP_LIMIT": Allowed(1),
    "PUBLIC_LOOKUP_WINDOW_S": Allowed(1),
    "PERSONAL_RETENTION_MONTHS": Allowed(0),  # 0: never
    "REMEDY_CALLBACK_WORKING_DAYS": Allowed(0),
    "REMEDY_FIX_WORKING_DAYS": Allowed(0),
    "PEER_SYNC_INTERVAL_S": Allowed(0),  # 0: only `peers --once`
}


def _public_url_problem(value: Any) -> str | None:
    return web_url_problem(str(value)) if str(value or "").strip() else None


def _area_code_problem(value: Any) -> str | None:
    text = str(value or "").strip()
    return None if not text or (len(text) == 6 and text.isdigit()) else "应为本县 6 位行政区划代码（如 141081），或不设"


#: Text settings that must work, checked with the numbers: a mistyped HUB_PLATFORM was an ImportError
#: traceback, a PUBLIC_URL that is no web address one from configure_public_url after the database was made.
SETTING_CHECKS = {"HUB_PLATFORM": factory_problem, "PUBLIC_URL": _public_url_problem, "AREA_CODE": _area_code_problem,
                  "SESSION_COOKIE_SAMESITE": same_site_problem}


class TestConfig(Config):
    """The test suite's hub: fixtures add a database URL or limits with `with_overrides`."""

    TESTING = True
    SECRET_KEY = "test-only-hub-secret"  # noqa: S105 - tests only
    NONCE_PRUNE_PROBABILITY = 0.0
    READ_INSTANCE_CONFIG = False


def from_environment(config_class: type, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``HUB_<NAME>`` for each setting ``config_class`` defines; ``DATABASE_URL`` and ``SECRET_KEY`` too.

    Text (or unset) settings are taken as written; others are parsed as Flask's
    ``from_prefixed_env`` parses them. Any other variable is left alone.
    """
    environ = os.environ if environ is None else environ
    found = defined_settings(config_class, ENV_PREFIX, environ)
    for name in ("DATABASE_URL", "SECRET_KEY"):  # the names every PaaS and ops script knows
        if environ.get(name) and not found.get(name):
            found[name] = environ[name]
    return found


def load_config(app: Flask, config_class: type[Config]) -> None:
    """Fill ``app.config`` from ``config_class``, then the instance file and the environment."""
    app.config.from_object(config_class)
    if app.config["READ_INSTANCE_CONFIG"]:
        read_settings_file(app.config, app.instance_path)
        app.config.update(from_environment(config_class))
        check_ranges(app.config, SETTING_RANGES, config_class, ENV_PREFIX, app.instance_path)
        check_texts(app.config, SETTING_CHECKS, config_class, ENV_PREFIX, app.instance_path)
        check_booleans(app.config, config_class, ENV_PREFIX, app.instance_path)
    if not app.config.get("DATABASE_PATH"):
        app.config["DATABASE_PATH"] = str(Path(app.instance_path) / "hub.sqlite3")
    if not app.config.get("ATTACHMENT_DIR"):
        app.config["ATTACHMENT_DIR"] = str(Path(app.instance_path) / "attachments")
    if not app.config.get("KEY_FILE"):
        app.config["KEY_FILE"] = str(Path(app.instance_path) / "hub.key")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def database_location(instance: Path, config_class: type[Config] = Config) -> tuple[str | None, Path, Path]:
    """(DATABASE_URL, the SQLite file, the key file) as ``load_config`` would settle them for ``instance``,
    creating nothing.

    Every command but ``init`` asks before it builds the app, which would create the folder and an
    empty database (sync/hub/cli.py refuse_a_missing_hub).
    """
    settings = FlaskConfig(str(instance))
    settings.from_object(config_class)
    if settings["READ_INSTANCE_CONFIG"]:
        read_settings_file(settings, str(instance))
        settings.update(from_environment(config_class))
        check_ranges(settings, SETTING_RANGES, config_class, ENV_PREFIX, str(instance))
        check_texts(settings, SETTING_CHECKS, config_class, ENV_PREFIX, str(instance))
        check_booleans(settings, config_class, ENV_PREFIX, str(instance))
    return (settings.get("DATABASE_URL") or None, Path(settings.get("DATABASE_PATH") or instance / "hub.sqlite3"),
            Path(settings.get("KEY_FILE") or instance / "hub.key"))


def instance_secret_key(instance: Path) -> str:
    """Return the key stored in ``instance/secret_key``, creating it on first run.

    ``O_EXCL`` makes the first of several starting workers win; the others read its key, so all
    workers sign sessions with the same key.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text(encoding="ascii").strip()
            if key:
                return key
            import time

            time.sleep(0.05)
        raise RuntimeError(f"{path} exists but is empty") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key
