"""The station's migrations build exactly the schema its models declare."""

from __future__ import annotations

from peewee import SqliteDatabase

from station.database import PRAGMAS
from station.models import ALL_MODELS
from sync.outbox import OutboxEvent
from sync.relay import RelayBundle
from sync.state import SyncState
from tests.fixtures.schema import assert_migrations_match_models

# Every model whose table lives in the station's database: one entry per package that keeps one.
STATION_DATABASE_MODELS = [
    *ALL_MODELS,
    OutboxEvent,
    SyncState,
    RelayBundle,
]


def test_migrations_build_exactly_the_models_schema(app):
    assert_migrations_match_models(app.extensions["station_db"], STATION_DATABASE_MODELS,
                                   SqliteDatabase(":memory:", pragmas=PRAGMAS), history_table="schema_migration")
