"""The exactly-once checks again with the county hub on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.loopback import ServedHub, start_hub
from tests.e2e.conftest import FaultSwitch, assert_exactly_once, hub_events, link, queue_cases, sync

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _pg_dsn() -> str | None:
    try:
        import psycopg2
    except ImportError:
        return None
    for user in ("postgres", "root"):
        dsn = f"postgresql://{user}@127.0.0.1:5432/test"
        try:
            psycopg2.connect(dsn, connect_timeout=3).close()
            return dsn
        except psycopg2.Error:
            continue
    return None


@pytest.fixture
def pg_hub(tmp_path: Path) -> Iterator[ServedHub]:
    import psycopg2

    dsn = _pg_dsn()
    if dsn is None:
        pytest.skip("!!! POSTGRESQL NOT REACHABLE at 127.0.0.1:5432 — the PostgreSQL e2e sync tests did NOT run !!!")
    schema = "e2e_" + uuid.uuid4().hex[:12]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    served = start_hub(tmp_path / "hub", config={
        "TESTING": True, "SECRET_KEY": "e2e-pg", "NONCE_PRUNE_PROBABILITY": 0.0,
        "DATABASE_URL": f"{dsn}?options=-csearch_path%3D{schema}"}, wrap=FaultSwitch)
    yield served
    served.stop()
    from sync.hub.extensions import db as hub_db

    if not hub_db.is_closed():
        hub_db.close()
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_linked(app, pg_hub):  # noqa: ANN001, ANN201
    return link(app, pg_hub)


def test_thousand_cases_exactly_once_on_postgres(pg_linked, pg_hub):
    pg_hub.server.app.down = True
    queue_cases(pg_linked, 1000)
    assert sync(pg_linked).error
    pg_hub.server.app.down = False
    summary = sync(pg_linked)
    assert not summary.error, summary.error
    assert summary.acknowledged == 1000
    assert_exactly_once(pg_linked, pg_hub)


def test_lost_reply_and_duplicate_delivery_on_postgres(pg_linked, pg_hub):
    queue_cases(pg_linked, 40)
    pg_hub.server.app.drop_after = 1
    assert sync(pg_linked).error
    assert len(hub_events(pg_hub)) == 40
    again = sync(pg_linked)
    assert again.duplicates == 40
    assert_exactly_once(pg_linked, pg_hub)


def test_500_then_recovery_on_postgres(pg_linked, pg_hub):
    queue_cases(pg_linked, 20)
    pg_hub.server.app.fail_before = 1
    assert sync(pg_linked).error
    assert not sync(pg_linked).error
    assert_exactly_once(pg_linked, pg_hub)
