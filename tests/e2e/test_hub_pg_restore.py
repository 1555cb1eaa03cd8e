"""The county's PostgreSQL lost and restored from a pg_dump taken earlier: stations sync on.

The dump is older than what the station saw: events it sent after the dump are acknowledged at
the station and gone at the hub, and the station's changes cursor points past the restored
hub's last change. After ``python -m sync.hub restored`` the station sends those events again
(each stored once) and pulls the county's new decisions (none skipped). docs/reliability.md.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest
from click.testing import CliRunner

from demo.loopback import local_postgres_dsn, start_hub, throwaway_schema
from station.extensions import db
from station.models import AccessLog, Case
from sync import state
from sync.hub.cli import cli as hub_cli
from tests.fixtures.config import hub_test_config
from tests.fixtures.e2e import assert_exactly_once, link, queue_cases, sync


def _decide(hub, case_id: str) -> None:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")


def _status(app, case_id: str) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return Case.get_by_id(case_id).status


def _stop(hub) -> None:  # noqa: ANN001
    hub.stop()
    database = hub.app.extensions["hub_db"]
    if hasattr(database, "close_all"):
        database.close_all()


def _log(app, n: int) -> None:  # noqa: ANN001
    from station.services import access_log

    with app.app_context(), db.connection_context():
        for i in range(n):
            access_log.record("case_view", actor_name="张三", obj=f"第{i}次")


def _hub_access_log_seqs(hub) -> list[int]:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import StationAccessLog

    with hub.app.app_context(), hub_db.connection_context():
        return [e.seq for e in StationAccessLog.select().order_by(StationAccessLog.seq)]


def test_a_hub_restored_from_an_older_pg_dump_loses_nothing_and_skips_no_change(app, tmp_path: Path):
    dsn = local_postgres_dsn()
    if dsn is None or shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("!!! POSTGRESQL OR pg_dump/pg_restore NOT AVAILABLE — the hub's PostgreSQL restore test did NOT run !!!")
    with throwaway_schema(dsn, "pgrestore") as url:
        schema = parse_qs(urlsplit(url).query)["options"][0].split("=", 1)[1]
        config = hub_test_config(DATABASE_URL=url)
        hub = start_hub(tmp_path / "hub", config_class=config)
        port = hub.server.port
        link(app, hub)
        before = queue_cases(app, 3)
        _log(app, 2)
        assert sync(app).error == ""
        _decide(hub, before[0])
        assert sync(app).error == "" and _status(app, before[0]) == "accepted"

        dump = tmp_path / "hub.dump"  # the nightly dump, custom format, this hub's schema only
        subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", dsn], check=True)

        after = queue_cases(app, 2)  # sent after the dump: acknowledged here, lost there
        _log(app, 3)
        _decide(hub, before[1])
        assert sync(app).error == "" and _status(app, before[1]) == "accepted"
        with app.app_context(), db.connection_context():
            cursor_before_loss = int(state.get_value(state.CURSOR))
            entries = AccessLog.select().count()
        assert entries and _hub_access_log_seqs(hub)[-1] == entries

        _stop(hub)  # the county's database is lost …
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
        # … and restored from the dump into a fresh schema of the same name
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={dsn}", str(dump)], check=True)
        result = CliRunner().invoke(hub_cli, ["restored"], env={"DATABASE_URL": url, "HUB_INSTANCE_PATH": str(tmp_path / "hub"),
                                                                "SECRET_KEY": config.SECRET_KEY})
        assert result.exit_code == 0, result.output
        hub = start_hub(tmp_path / "hub", port=port, config_class=config)
        try:
            from sync.hub.extensions import db as hub_db
            from sync.hub.models import Change

            with hub.app.app_context(), hub_db.connection_context():
                assert Change.select().where(Change.kind == "case.status").count() == 1  # the dump's one
            _decide(hub, before[2])  # a decision made on the restored hub, before the station syncs
            summary = sync(app)
            assert summary.error == "", summary.error

            assert_exactly_once(app, hub)  # the events the restore lost were sent again, each stored once
            assert _status(app, before[2]) == "accepted"  # the new decision was not skipped
            _decide(hub, after[0])  # the cases sent again can be decided, and the decision comes down
            assert sync(app).error == "" and _status(app, after[0]) == "accepted"
            with app.app_context(), db.connection_context():
                assert int(state.get_value(state.CURSOR)) > cursor_before_loss
                entries = AccessLog.select().count()
            assert _hub_access_log_seqs(hub) == list(range(1, entries + 1))  # the access log sent again too
            assert sync(app).pushed == 0  # and nothing twice afterwards
        finally:
            _stop(hub)
