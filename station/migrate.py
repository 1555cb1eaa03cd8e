"""Create or upgrade a station database in place, keeping every row (queued events included)."""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import Database
from playhouse.migrations import Runner

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def runner(database: Database) -> Runner:
    """The migration runner for a station database (history in `schema_migration`)."""
    return Runner(database, directory=str(MIGRATIONS_DIR))


def upgrade(database: Database, target: str | None = None) -> list[str]:
    """Apply pending migrations in order (up to `target`); return the names applied."""
    applied = runner(database).up(target)
    for name in applied:
        log.info("applied migration %s", name)
    return applied


def schema_version(database: Database) -> str:
    """Name of the newest applied migration, reported in every sync heartbeat."""
    applied = [m.name for m in runner(database).status() if m.applied]
    return applied[-1] if applied else ""


def pending(database: Database) -> list[str]:
    """Migrations not applied yet: the app refuses to serve until they are."""
    return [m.name for m in runner(database).status() if not m.applied and m.path]
