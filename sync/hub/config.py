"""Hub configuration: defaults here, overridden by ``instance/hub/config.py`` and ``HUB_*`` env.

Nothing secret has a default: ``SECRET_KEY`` comes from the environment or is generated once
into the instance folder, so two deployments never share a session key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from sync import protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCE_PATH = REPO_ROOT / "instance" / "hub"

DEFAULTS: dict[str, Any] = {
    # Database: SQLite file in the instance folder unless DATABASE_URL says otherwise.
    "DATABASE_URL": None,
    "DATABASE_PATH": None,  # default: <instance>/hub.sqlite3
    "AUTO_MIGRATE": True,
    # Sync protocol limits.
    "CLOCK_WINDOW_S": protocol.CLOCK_WINDOW_S,
    "MAX_BATCH_EVENTS": protocol.MAX_EVENTS_PER_BATCH,
    "MAX_BATCH_BYTES": protocol.MAX_BATCH_BYTES,
    "MAX_DECOMPRESSED_BYTES": protocol.MAX_DECOMPRESSED_BYTES,
    "MAX_ATTACHMENT_BYTES": protocol.MAX_ATTACHMENT_BYTES,
    "MAX_CHANGES_PER_PAGE": protocol.MAX_CHANGES_PER_PAGE,
    "MAX_CHANGES_PAGE_BYTES": 4 * 1024 * 1024,
    "CATALOG_GRACE_DAYS": 30,
    "NONCE_PRUNE_PROBABILITY": 0.02,
    # County dashboard thresholds.
    "STATION_DARK_HOURS": 24,
    "QUEUE_AGE_WARN_HOURS": 24,
    # The adapter seam: dotted path of a CasePlatform factory (see services/platform.py).
    "HUB_PLATFORM": "sync.hub.services.platform:LocalPlatform",
    # HTML forms (catalog upload) may be large; the JSON API has its own per-endpoint limits.
    "MAX_FORM_MEMORY_SIZE": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # True forces it; otherwise Secure whenever served over HTTPS
    "IDLE_TIMEOUT_MINUTES": 30,  # a county PC left unattended asks for the password again
    "TRUSTED_PROXIES": 0,  # load balancer hops whose X-Forwarded-For/-Proto are believed (address lockouts)
    "WTF_CSRF_TIME_LIMIT": None,
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, the instance file, the environment, then ``test_config``."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("HUB")
        if os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
        if os.environ.get("SECRET_KEY") and not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    else:
        app.config.update(test_config)
    if not app.config.get("DATABASE_PATH"):
        app.config["DATABASE_PATH"] = str(Path(app.instance_path) / "hub.sqlite3")
    if not app.config.get("ATTACHMENT_DIR"):
        app.config["ATTACHMENT_DIR"] = str(Path(app.instance_path) / "attachments")
    # Werkzeug's own cap sits above every endpoint's limit; endpoints enforce theirs with a 413.
    app.config.setdefault(
        "MAX_CONTENT_LENGTH",
        max(app.config["MAX_BATCH_BYTES"], app.config["MAX_ATTACHMENT_BYTES"]) + 64 * 1024,
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


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
