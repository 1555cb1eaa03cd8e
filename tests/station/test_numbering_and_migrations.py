"""Case numbers under concurrent saves, and upgrading a database made by an older schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from station.database import open_database
from station.extensions import db
from station.migrate import pending, schema_version, upgrade
from station.models import Case, User
from station.services import intake
from tests.fixtures.intake import form_for, item_named


def test_case_numbers_stay_unique_when_many_clerks_save_at_once(app):
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        agent = User.get(User.username == "agent")
        ids = [f"11010519491231{n:03d}" for n in range(40)]
    from stdnum.cn import ric

    numbers = [i + ric.calc_check_digit(i + "0") for i in ids]

    def save(number: str) -> str:
        with app.app_context(), db.connection_context():
            draft = intake.check_input([item], form_for([item], applicant_id_number=number), dt.date.today())
            [case] = intake.create_cases([item], draft, agent)
            return case.case_no

    with ThreadPoolExecutor(max_workers=8) as pool:
        case_nos = list(pool.map(save, numbers))
    assert len(set(case_nos)) == 40
    sequences = sorted(int(no[-4:]) for no in case_nos)
    assert sequences == list(range(1, 41))  # gapless: no number lost to a failed race


def _insert(conn: sqlite3.Connection, table: str, **values: object) -> None:
    """Insert a row as an old release would have: NOT NULL columns it did not name get an empty value."""
    for _cid, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if notnull and not pk and default is None and name not in values:
            values[name] = 0 if kind.upper() in ("INTEGER", "REAL") else ""
    columns = ", ".join(f'"{c}"' for c in values)
    conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(values))})', list(values.values()))


def test_upgrade_from_an_older_schema_keeps_rows_and_queued_cases(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = open_database(str(path))
    with old.connection_context():
        upgrade(old, target="0001_initial")
        assert schema_version(old) == "0001_initial"
        later = pending(old)
        assert later[0] == "0002_outbox"
    raw = sqlite3.connect(path)
    _insert(raw, "user", username="agent", name="王代办", role="agent", password_hash="x", created_at="2026-01-05 09:00:00")
    _insert(raw, "catalog_version", version="2026.01", imported_at="2026-01-01 00:00:00", is_current=1)
    _insert(raw, "service_item", catalog_id=1, item_code="000113005000", impl_code="X", name="高龄津贴申领",
            kind="committed")
    _insert(raw, "case", id="01OLDCASE", case_no="1410811022012026010500001", query_code="ABCD2345", item_id=1,
            catalog_version="2026.01", mode="assisted", decision="collected", status="collected",
            applicant_name="赵秀英", applicant_cert_type="111", applicant_id_stored="11010519491231002X",
            applicant_phone_stored="13912345678", agent_id=1, received_at="2026-01-05 09:30:00",
            updated_at="2026-01-05 09:30:00")
    raw.commit()
    raw.close()

    upgraded = open_database(str(path))
    with upgraded.connection_context():
        assert upgrade(upgraded) == later
        assert schema_version(upgraded) == later[-1]
        row = upgraded.execute_sql('SELECT applicant_name, status FROM "case" WHERE id = ?', ("01OLDCASE",)).fetchone()
        assert row == ("赵秀英", "collected")
        assert upgraded.table_exists("outbox_event")
        # 0006: each existing user gets a random session token of their own (old sessions end once)
        [(token,)] = upgraded.execute_sql('SELECT session_token FROM "user"').fetchall()
        assert len(token) == 32 and upgraded.table_exists("login_throttle")
        assert upgrade(upgraded) == []  # running it again changes nothing


def test_app_start_migrates_an_old_database_in_place(tmp_path):
    from station import create_app
    from station.config import TestConfig

    path = tmp_path / "station.sqlite3"
    old = open_database(str(path))
    with old.connection_context():
        upgrade(old, target="0001_initial")
    old.close()
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    config["DATABASE"] = str(path)
    create_app(config, instance_path=str(tmp_path / "instance"))
    with db.connection_context():
        assert pending(db.obj) == []
        assert Case.select().count() == 0


def test_link_command_stores_the_hub_settings_and_refuses_bad_input(tmp_path, monkeypatch, capsys):
    from station.cli import main
    from station.models import Setting

    instance = tmp_path / "inst"
    monkeypatch.setenv("STATION_INSTANCE", str(instance))
    assert main(["link", "--hub", "county.example", "--code", "ST1", "--secret", "x" * 40]) == 1
    assert "http://" in capsys.readouterr().err
    assert main(["link", "--hub", "http://127.0.0.1:8090/", "--code", "ST1", "--secret", "short"]) == 1
    monkeypatch.setenv("STATION_HUB_SECRET", "s" * 40)
    assert main(["link", "--hub", "http://127.0.0.1:8090/", "--code", "ST1"]) == 0
    with db.connection_context():
        assert Setting.get_value("sync.hub_url") == "http://127.0.0.1:8090"
        assert Setting.get_value("sync.secret") == "s" * 40
