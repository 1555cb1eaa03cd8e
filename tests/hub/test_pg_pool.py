"""The hub's PostgreSQL pool: no liveness round trip for a connection just given back, and still
no batch lost to a database connection that died while it sat idle."""

from __future__ import annotations

import threading
import time

import peewee
import psycopg2
import pytest

from demo.loopback import local_postgres_dsn
from rules import events
from sync import protocol
from sync.hub import database
from sync.hub.services import auth

pytestmark = pytest.mark.postgres


def _accepted(station, make_event) -> bool:
    answer = station.batch([make_event()])
    return answer.status_code == 200 and answer.json["results"][0]["status"] == "accepted"


def _pooled_pids(app) -> list[int]:
    pool = app.extensions["hub_db"]
    return [conn.get_backend_pid() for _ts, _n, conn in pool._connections]


def test_a_connection_killed_while_idle_costs_no_batch(pg_hub_app, make_station, make_event, monkeypatch):
    monkeypatch.setattr(database, "CHECK_IDLE_AFTER_S", 0.05)
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    assert _accepted(station, make_event)
    pids = _pooled_pids(pg_hub_app)
    assert pids
    with psycopg2.connect(local_postgres_dsn()) as admin, admin.cursor() as cur:
        for pid in pids:  # as a database restart or a firewall's idle timeout would
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    assert _accepted(station, make_event)


def test_a_connection_just_given_back_is_handed_out_without_a_round_trip(pg_hub_app, make_station, make_event,
                                                                         monkeypatch):
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    assert _accepted(station, make_event)
    pool = pg_hub_app.extensions["hub_db"]
    pings = []
    real = pool._adapter.is_connection_closed
    monkeypatch.setattr(pool._adapter, "is_connection_closed", lambda conn: pings.append(conn) or real(conn))
    for _ in range(3):
        assert _accepted(station, make_event)
    assert pings == []
    monkeypatch.setattr(database, "CHECK_IDLE_AFTER_S", 0.05)
    time.sleep(0.1)
    assert _accepted(station, make_event)
    assert len(pings) >= 1  # idle longer than the delay: proved alive before use


def test_nonces_write_no_log_and_still_refuse_a_replay(pg_hub_app, make_station):
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        persistence = pool.execute_sql(
            "SELECT relpersistence FROM pg_class WHERE oid = 'hub_nonce'::regclass").fetchone()[0]
    assert persistence == "u"  # unlogged: no write-ahead log flushed for every signed request
    headers = protocol.sign_request(station.secret, "GET", "/api/v1/changes", b"", station=station.code)
    assert station.client.get("/api/v1/changes", headers=headers).status_code == 200
    again = station.client.get("/api/v1/changes", headers=headers)
    assert again.status_code == 401 and again.json["error"] == "replay"


def test_a_long_event_is_stored_in_its_row_not_in_a_toast_table(pg_hub_app, make_station, make_event):
    """A sealed body does not compress: a 3–4 KB event row went through pglz in vain, then to TOAST."""
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    long_note = make_event(kind=events.NOTE, seq=1, payload={"text": "材料说明" * 10, "detail": "x" * 2600})
    answer = station.batch([long_note])
    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "accepted"
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        row_bytes = pool.execute_sql("SELECT octet_length(body) FROM hub_event").fetchone()[0]
        toast = pool.execute_sql("SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'hub_event'::regclass"
                                 ).fetchone()[0]
        toasted = pool.execute_sql(f"SELECT count(*) FROM {toast}").fetchone()[0]
    assert 3000 < row_bytes < 8000  # past the default threshold, within a page
    assert toasted == 0


def test_the_replay_check_does_not_wait_on_the_stations_row(pg_hub_app, make_station):
    """The nonce's insert touches nothing of ``hub_station`` (hub migration 0031).

    With the foreign key, its check locked the station's row (``FOR KEY SHARE``); locking a row of
    a logged table is itself logged, so every request's nonce commit waited for the write-ahead log
    on disk after all. Here another session holds that row ``FOR UPDATE``: the check must go on.
    """
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    holder = psycopg2.connect(pg_hub_app.config["DATABASE_URL"])
    outcome: list[object] = []
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM hub_station WHERE code = 'ST-A' FOR UPDATE")

        def check() -> None:
            headers = protocol.sign_request(station.secret, "GET", "/api/v1/changes", b"", station=station.code)
            with pg_hub_app.app_context(), pg_hub_app.extensions["hub_db"].connection_context():
                try:
                    outcome.append(auth.authenticate("GET", "/api/v1/changes", headers, window_s=300,
                                                     prune_probability=0.0))
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    outcome.append(exc)

        worker = threading.Thread(target=check, daemon=True)
        worker.start()
        worker.join(timeout=5)
        assert outcome and not isinstance(outcome[0], Exception), "the replay check waited on the station's row"
    finally:
        holder.rollback()
        holder.close()
        worker.join(timeout=10)


def test_each_requests_statements_are_planned_once_per_connection(pg_hub_app, make_station, make_event):
    """The station's read, the nonce and the heartbeat's update are prepared once per connection
    and then only executed (sync/hub/prepared.py): planning them on every request cost the
    database more than running them. Statements on the growing tables (events, cases) are not:
    a plan kept from when they were nearly empty scanned them whole once they were large."""
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    first = make_event()
    for n in range(8):
        event = first if n == 0 else make_event(case_id=first["case_id"], seq=n + 1, kind=events.NOTE,
                                                payload={"text": f"第{n}次补充"})
        answer = station.batch([event], heartbeat={"queue_length": 8 - n})
        assert answer.status_code == 200 and answer.json["results"][0]["status"] == "accepted"
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        prepared = pool.execute_sql("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
                                    ).fetchall()
    assert len(_pooled_pids(pg_hub_app)) == 1  # one connection served every request: all its statements are here
    runs = {kind: sum(count for statement, count in prepared if marker in statement)
            for kind, marker in (("station read", 'FROM "hub_station" WHERE "code"'),
                                 ("nonce", 'INSERT INTO "hub_nonce"'), ("heartbeat", 'UPDATE "hub_station"'))}
    assert runs == {"station read": 8, "nonce": 8, "heartbeat": 8}
    assert not [statement for statement, _n in prepared if "hub_event" in statement or '"hub_case"' in statement]


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(pg_hub_app, make_station, make_event,
                                                                        monkeypatch):
    """Behind PgBouncer in transaction mode a session is not the hub's own: nothing is prepared."""
    from sync.hub import prepared

    monkeypatch.setitem(prepared._SETTINGS, "enabled", False)
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    assert _accepted(station, make_event)
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        assert pool.execute_sql("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0


def test_a_transaction_begins_with_its_first_statement_and_still_rolls_back_whole(pg_hub_app, caplog):
    """``BEGIN`` rides with a transaction's first statement (one round trip fewer per batch), and a
    transaction is still all or nothing — a COPY, which the driver sends on its own, included."""
    import io
    import logging

    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE begin_probe (n integer)")
        with caplog.at_level(logging.DEBUG, logger="peewee"), pool.atomic():
            pool.execute_sql("INSERT INTO begin_probe VALUES (1)")
        assert any(isinstance(r.msg, tuple) and r.msg[0] == "BEGIN; INSERT INTO begin_probe VALUES (1)"
                   for r in caplog.records)
        with pytest.raises(RuntimeError), pool.atomic():
            pool.execute_sql("INSERT INTO begin_probe VALUES (2)")
            raise RuntimeError("the batch fails after its first write")
        with pytest.raises(RuntimeError), pool.atomic():
            pool.cursor().copy_expert("COPY begin_probe (n) FROM STDIN", io.StringIO("3\n"))
            raise RuntimeError("the batch fails after its COPY")
        with pool.atomic():
            pass  # nothing sent, nothing to commit
        assert pool.execute_sql("SELECT n FROM begin_probe ORDER BY n").fetchall() == [(1,)]
        assert pool.execute_sql("SELECT 1").fetchall() == [(1,)]  # and no transaction is left open
        assert pool.connection().get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_first_statement_refused_before_it_ran_leaves_the_transaction_still_to_begin(pg_hub_app):
    """With BEGIN sent alongside the first statement, a first statement the server refused whole
    (a syntax error: nothing of the text runs) must not leave the rest of the block in autocommit."""
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE begin_probe2 (n integer)")
        with pytest.raises(RuntimeError), pool.atomic():
            with pytest.raises(peewee.ProgrammingError):
                pool.execute_sql("SELEC 1")
            pool.execute_sql("INSERT INTO begin_probe2 VALUES (2)")
            raise RuntimeError("the rest of the batch fails")
        assert pool.execute_sql("SELECT count(*) FROM begin_probe2").fetchone()[0] == 0


def test_a_station_is_served_after_its_table_changed_under_a_running_hub(pg_hub_app, make_station, make_event):
    """A prepared station read whose columns changed type (an upgrade's migration while a hub process
    still runs) answered every signed request with "cached plan must not change result type"; it is
    prepared again and the request is served."""
    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    assert _accepted(station, make_event)  # the station's read is prepared on the pooled connection
    other = psycopg2.connect(pg_hub_app.config["DATABASE_URL"])
    other.autocommit = True
    with other.cursor() as cur:
        cur.execute('ALTER TABLE hub_station ALTER COLUMN "name" TYPE varchar(300)')
    other.close()
    assert _accepted(station, make_event)


def test_telemetry_alone_does_not_wait_for_the_disk_and_a_batch_still_does(pg_hub_app, make_station, make_event,
                                                                           caplog):
    """A pull's "last seen" and a resent batch's heartbeat are written without waiting for the log to
    reach the disk (every pull of every station waited); a batch that stores events commits durably,
    its heartbeat inside it."""
    import logging

    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    event = make_event()

    def sent(action) -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            action()
        return [r.msg[0] for r in caplog.records if isinstance(r.msg, tuple)]

    stored = sent(lambda: station.batch([event], heartbeat={"queue_length": 3}))
    assert any('"hub_event"' in sql or "EXECUTE" in sql for sql in stored)
    assert not [sql for sql in stored if "synchronous_commit" in sql]  # the events' commit waits for the disk
    resent = sent(lambda: station.batch([event], heartbeat={"queue_length": 0}))
    assert [sql for sql in resent if sql.startswith("SET LOCAL synchronous_commit TO off; EXECUTE")]
    pulled = sent(lambda: station.client.get("/api/v1/changes", headers=protocol.sign_request(
        station.secret, "GET", "/api/v1/changes", b"", station=station.code)))
    assert [sql for sql in pulled if sql.startswith("SET LOCAL synchronous_commit TO off; EXECUTE")]
    with pg_hub_app.app_context():
        from sync.hub.models import Station
        assert Station.get(Station.code == "ST-A").queue_length == 0  # and what it wrote is there


def test_a_batchs_commit_goes_with_its_heartbeat_in_one_round_trip(pg_hub_app, make_station, make_event, caplog,
                                                                   monkeypatch):
    """The heartbeat is the last thing a storing batch writes; its transaction's COMMIT rides with it
    (one round trip fewer per batch), and what the batch wrote is there for every other connection."""
    import logging

    from sync.hub.services import ingest

    station = make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    monkeypatch.setattr(ingest.tally, "fold_sometimes", lambda: None)  # one batch in 20 folds apart
    commits: list[bool] = []
    real_commit = peewee.Database.commit
    monkeypatch.setattr(peewee.Database, "commit", lambda self: commits.append(True) or real_commit(self))
    event = make_event()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        answer = station.batch([event], heartbeat={"queue_length": 6})
    assert answer.json["results"][0]["status"] == "accepted"
    sent = [r.msg[0] for r in caplog.records if isinstance(r.msg, tuple)]
    assert [sql for sql in sent if sql.startswith("EXECUTE") and sql.endswith("; COMMIT")]
    assert commits == []  # no COMMIT of its own
    other = psycopg2.connect(pg_hub_app.config["DATABASE_URL"])
    with other.cursor() as cur:
        cur.execute("SELECT count(*) FROM hub_event WHERE event_id = %s", (event["event_id"],))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT queue_length FROM hub_station WHERE code = 'ST-A'")
        assert cur.fetchone()[0] == 6
    other.close()


def test_nothing_runs_after_a_commit_sent_with_the_last_statement_and_a_failed_one_commits_nothing(pg_hub_app):
    """A statement after the COMMIT that rode with the last one is refused (it would run outside the
    transaction); a last statement that fails takes its transaction down whole."""
    pool = pg_hub_app.extensions["hub_db"]
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE commit_probe (n integer)")
        with pytest.raises(RuntimeError, match="outside"), pool.atomic():
            pool.execute_sql("INSERT INTO commit_probe VALUES (1)")
            pool.execute_then_commit("INSERT INTO commit_probe VALUES (2)")
            pool.execute_sql("INSERT INTO commit_probe VALUES (3)")  # would run in autocommit
        with pytest.raises(peewee.DataError), pool.atomic():
            pool.execute_sql("INSERT INTO commit_probe VALUES (4)")
            pool.execute_then_commit("INSERT INTO commit_probe VALUES (1 / 0)")  # refused: its COMMIT never runs
        assert pool.execute_sql("SELECT n FROM commit_probe ORDER BY n").fetchall() == [(1,), (2,)]
        assert pool.connection().get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_batch_taken_inside_a_callers_transaction_leaves_the_commit_to_the_caller(pg_hub_app, make_station,
                                                                                    make_event):
    """Inside another transaction the batch's own is a savepoint: its heartbeat carries no COMMIT,
    and the caller's failure undoes the batch."""
    from sync.hub.models import Event, Station
    from sync.hub.services import ingest, stations

    make_station(pg_hub_app, "ST-A", "甲村便民服务站")
    pool = pg_hub_app.extensions["hub_db"]
    event = make_event()
    with pg_hub_app.app_context(), pool.connection_context():
        station = Station.get(Station.code == "ST-A")
        with pytest.raises(RuntimeError, match="caller"), pool.atomic():
            beat = stations.heartbeat_update(station, {"queue_length": 2})
            results, stored_beat = ingest.receive_batch(station, {"events": [event]}, grace_days=30, also=beat)
            assert results[0].status == "accepted" and stored_beat
            raise RuntimeError("the caller's transaction fails afterwards")
        assert not Event.select().where(Event.event_id == event["event_id"]).exists()
