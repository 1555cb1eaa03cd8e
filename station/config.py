"""Station configuration: defaults here; `instance/config.py` and `STATION_<NAME>` variables override.

Only the settings `Config` defines are read from the environment, so command-line inputs that
travel in variables (`STATION_HUB_SECRET`, `STATION_NEW_PASSWORD`) never land in `app.config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Config as FlaskConfig

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

ENV_PREFIX = "STATION_"


class Config:
    """Defaults for a station in the field."""

    SECRET_KEY: str | None = None  # generated into the instance folder on first start, never fixed
    DATABASE: str | None = None  # default: <instance>/station.sqlite3
    ATTACHMENT_DIR: str | None = None  # default: <instance>/attachments
    # The key ring sealing residents' data (docs/security.md): outside the database, owner-only;
    # back it up apart from the database. Default: <instance>/keys/data.key
    KEY_FILE: str | None = None
    # Closed cases the county acknowledged more than this many months ago lose their scans and
    # full personal numbers (`python -m station purge`); 0 turns purging off.
    RETENTION_MONTHS = 24
    # Backups (`python -m station backup`, docs/reliability.md 备份与恢复): the folder (a USB drive,
    # say), how many of this station's backups to keep, and the hour at which a served station
    # makes its daily backup (only when BACKUP_DIR is set).
    BACKUP_DIR: str | None = None
    BACKUP_KEEP = 14
    BACKUP_HOUR = 12
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    USB_BUNDLE_MAX_BYTES = MAX_BUNDLE_BYTES  # a bundle exported, or uploaded at the township (the county's limit too)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True forces it; otherwise the cookie is Secure whenever served over HTTPS
    IDLE_TIMEOUT_MINUTES = 30  # a shared PC left unattended asks for the password again
    TRUSTED_PROXIES = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are believed
    # The resident's /q page: lookups per client address per window (found or not).
    PUBLIC_LOOKUP_LIMIT = 30
    PUBLIC_LOOKUP_WINDOW_S = 600
    # The 好差评 kiosk page the agent opens for a case: its link works this long.
    KIOSK_TOKEN_MINUTES = 15
    # SMS to residents: dotted path of a factory returning an SmsSender (services/sms.py). The built-in
    # one sends nothing and says so on the case timeline; a real gateway plugs in here.
    SMS_SENDER = "station.services.sms:TimelineOnlySender"
    WTF_CSRF_TIME_LIMIT = 12 * 3600  # a village agent's whole working day on one page
    WTF_I18N_ENABLED = False  # use WTForms' own zh catalogue (forms set locales) — no Babel needed
    CASES_PER_PAGE = 30
    # The CJK TrueType font for paper ("file.ttc#1" picks a subfont, "cid" forces STSong-Light);
    # None lets printouts search the system. Handed to printouts when the app starts.
    CJK_FONT: str | None = None
    # A font for rare characters the main one lacks (SimSun-ExtB, HanaMinB); without it any
    # installed font that has the character is found through the system's font index.
    CJK_EXT_FONT: str | None = None
    # Read the instance folder's config.py and the environment (TestConfig turns this off, so a
    # developer's environment never leaks into a test).
    READ_INSTANCE_CONFIG = True

    @classmethod
    def with_overrides(cls, **overrides: Any) -> type[Config]:
        """A subclass with `overrides`: how tests and tools give an app its own paths."""
        return type(cls.__name__, (cls,), overrides)


#: What each number setting may be, checked when the settings are read (websec.environment.check_ranges):
#: a value outside crashed later with a traceback (BACKUP_HOUR=25 at `run`, in the cron trigger).
SETTING_RANGES: dict[str, Allowed] = {
    "RETENTION_MONTHS": Allowed(0),  # 0: never purge
    "BACKUP_KEEP": Allowed(0),  # 0: keep them all
    "BACKUP_HOUR": Allowed(0, 23),
    "MAX_CONTENT_LENGTH": Allowed(1),
    "MAX_ATTACHMENT_BYTES": Allowed(1),
    "USB_BUNDLE_MAX_BYTES": Allowed(1),
    "IDLE_TIMEOUT_MINUTES": Allowed(1),
    "TRUSTED_PROXIES": Allowed(0),
    "PUBLIC_LOOKUP_LIMIT": Allowed(1),
    "PUBLIC_LOOKUP_WINDOW_S": Allowed(1),
    "KIOSK_TOKEN_MINUTES": Allowed(1),
    "WTF_CSRF_TIME_LIMIT": Allowed(1),
    "CASES_PER_PAGE": Allowed(1),
}

#: Text settings that must work, checked with the numbers: a sender that does not import was a 500
#: on the notify page the first time an agent sent an SMS.
SETTING_CHECKS = {"SMS_SENDER": factory_problem, "SESSION_COOKIE_SAMESITE": same_site_problem}


class TestConfig(Config):
    """The test suite's settings; fixtures add temporary paths with `with_overrides`."""

    TESTING = True
    SECRET_KEY = "test-only-secret"  # noqa: S105 - tests only, never used by create_app defaults
    READ_INSTANCE_CONFIG = False


def from_environment(config_class: type, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`STATION_<NAME>` for each setting `config_class` defines (STATION_DATABASE → DATABASE)."""
    return defined_settings(config_class, ENV_PREFIX, environ)


def read_settings(config: FlaskConfig, config_class: type, folder: str) -> None:
    """The instance folder's config.py, then `STATION_<NAME>` variables, each checked (SettingInvalid)."""
    if config["READ_INSTANCE_CONFIG"]:
        read_settings_file(config, folder)
        config.update(from_environment(config_class))
        check_ranges(config, SETTING_RANGES, config_class, ENV_PREFIX, folder)
        check_texts(config, SETTING_CHECKS, config_class, ENV_PREFIX, folder)
        check_booleans(config, config_class, ENV_PREFIX, folder)


def database_file(instance: str, config_class: type[Config] = Config) -> str:
    """The station database `create_app` would open for `instance`, worked out creating nothing.

    `run` asks before it builds the app, which would make an empty station in a mistyped folder.
    """
    settings = FlaskConfig(instance)
    settings.from_object(config_class)
    read_settings(settings, config_class, instance)
    return settings.get("DATABASE") or os.path.join(instance, "station.sqlite3")
