"""Station configuration: defaults here, secrets and paths from the instance folder or environment."""

from __future__ import annotations

import os


class Config:
    """Defaults for a station in the field; `instance/config.py` and `STATION_*` env vars override."""

    SECRET_KEY: str | None = None  # generated into the instance folder on first start, never fixed
    DATABASE: str | None = None  # default: <instance>/station.sqlite3
    ATTACHMENT_DIR: str | None = None  # default: <instance>/attachments
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    ALLOWED_ATTACHMENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True forces it; otherwise the cookie is Secure whenever served over HTTPS
    IDLE_TIMEOUT_MINUTES = 30  # a shared PC left unattended asks for the password again
    TRUSTED_PROXIES = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are believed
    WTF_CSRF_TIME_LIMIT = 12 * 3600  # a village agent's whole working day on one page
    WTF_I18N_ENABLED = False  # use WTForms' own zh catalogue (forms set locales) — no Babel needed
    CASES_PER_PAGE = 30
    SCHEDULER_ENABLED = False  # the `run`/`demo` commands switch the sync jobs on
    CJK_FONT: str | None = None


class TestConfig(Config):
    """Used by the test suite: temporary instance paths are passed in by the fixtures."""

    TESTING = True
    SECRET_KEY = "test-only-secret"  # noqa: S105 - tests only, never used by create_app defaults


def env_overrides() -> dict[str, str]:
    """Collect STATION_* environment variables (STATION_DATABASE → DATABASE)."""
    return {key[len("STATION_") :]: value for key, value in os.environ.items() if key.startswith("STATION_")}
