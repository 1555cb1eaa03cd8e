"""A real hub on loopback (a threaded HTTP server) and a real station database linked to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from demo.loopback import ServedHub, local_postgres_dsn, start_hub, throwaway_schema
from tests.fixtures.config import hub_test_config
from tests.fixtures.e2e import (
    FaultSwitch,
    link,
)


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServedHub]:
    """The county hub on loopback, once on SQLite and once on PostgreSQL (a throwaway schema)."""
    config: dict[str, Any] = {}
    with ExitStack() as stack:
        if request.param == "postgres":
            dsn = local_postgres_dsn()
            if dsn is None:
                pytest.skip("!!! POSTGRESQL NOT REACHABLE at 127.0.0.1:5432 — the PostgreSQL e2e sync tests did NOT run !!!")
            config["DATABASE_URL"] = stack.enter_context(throwaway_schema(dsn, "e2e"))
        served = start_hub(tmp_path / "hub", config_class=hub_test_config(**config), wrap=FaultSwitch)
        yield served
        served.stop()
        database = served.app.extensions["hub_db"]
        if hasattr(database, "close_all"):
            database.close_all()  # pooled connections would hold the schema open


@pytest.fixture
def faults(hub: ServedHub) -> FaultSwitch:
    return hub.server.app


@pytest.fixture
def linked(app: Flask, hub: ServedHub) -> Flask:
    return link(app, hub)


