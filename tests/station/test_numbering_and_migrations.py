"""Case numbers under concurrent saves, and upgrading a database made by an older schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from station.database import open_database
from station.extensions import db
from station.migrate import pending, schema_version, upgrade
from station.models import Case, User
from station.services import intake
from tests.fixtures.config import station_test_config
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


def test_a_case_number_is_handed_out_only_inside_the_saving_transaction(database):
    from station.models import DailySequence
    from station.services.errors import DomainError
    from station.services.numbering import next_case_no

    day = dt.date(2026, 11, 20)
    with pytest.raises(DomainError):
        next_case_no("141081102201", day)  # a number taken outside the save could be lost with no case
    assert DailySequence.get_or_none(DailySequence.day == "20261120") is None
    with db.atomic():
        assert next_case_no("141081102201", day) == "141081102201202611200001"


def _insert(conn: sqlite3.Connection, table: str, **values: object) -> None:
    """Insert a row as an old release would have: NOT NULL columns it did not name get an empty value."""
    for _cid, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if notnull and not pk and default is None and name not in values:
            values[name] = 0 if kind.upper() in ("INTEGER", "REAL") else ""
    columns = ", ".join(f'"{c}"' for c in values)
    conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(values))})', list(values.values()))


def _database_at(path: Path, target: str) -> Path:
    """A station database file migrated only up to ``target``, closed, as a station in the field left it."""
    old = open_database(str(path))
    with old.connection_context():
        upgrade(old, target=target)
    old.close()
    return path


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

    _database_at(tmp_path / "station.sqlite3", "0001_initial")
    create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with db.connection_context():
        assert pending(db.obj) == []
        assert Case.select().count() == 0


def test_app_start_copies_the_database_before_upgrading_it(tmp_path):
    """The copy opens at the schema the database had, with its rows, in case an upgrade goes wrong."""
    from station import create_app

    path = tmp_path / "station.sqlite3"
    old = open_database(str(path))
    with old.connection_context():
        upgrade(old, target="0001_initial")
        coming = pending(old)
        old.execute_sql("INSERT INTO setting (key, value, updated_at) VALUES ('station.name', '东关村便民服务站', '2026-01-05 09:00:00')")
        # left in the WAL, not yet in the main file: the copy must still hold it
    create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    old.close()

    copy = tmp_path / f"station.sqlite3.before-{coming[0]}.bak"
    assert copy.exists()
    kept = open_database(str(copy))
    with kept.connection_context():
        assert schema_version(kept) == "0001_initial"
        assert kept.execute_sql("SELECT value FROM setting WHERE key = 'station.name'").fetchone() == ("东关村便民服务站",)
    with db.connection_context():
        assert pending(db.obj) == []

    # an up-to-date database is not copied again on the next start
    copy.unlink()
    create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    assert not list(tmp_path.glob("*.bak"))


def test_a_new_database_is_not_copied(tmp_path):
    from station import create_app

    create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    assert not list(tmp_path.glob("*.bak"))


def test_upgrade_to_0022_names_every_handover_already_recorded_and_keeps_held_bundles(tmp_path):
    """A township upgraded with handovers recorded and a village's bundle waiting: all kept, each handover named."""
    path = _database_at(tmp_path / "relay.sqlite3", "0020_cross_area_items")
    raw = sqlite3.connect(path)
    _insert(raw, "transfer", id="01OLDTRANSFER", batch_no="WL-ST1-20261130-01", direction="up", destination="东关镇",
            state="in_transit", created_by="王代办", created_at="2026-11-30 09:00:00", updated_at="2026-11-30 10:00:00")
    for seq, receiver in ((1, "赵送件"), (2, "李窗口")):
        _insert(raw, "transfer_handover", transfer_id="01OLDTRANSFER", seq=seq, giver="王代办", receiver=receiver,
                place="东关村", at=f"2026-11-30 1{seq}:00:00", recorded_by="王代办")
    _insert(raw, "relay_bundle", bundle_id="01OLDBUNDLE", direction="up", station_code="ST1", seq=1, sha256="0" * 64,
            data=b"sealed bytes", state="waiting", received_at="2026-11-30 09:00:00")
    raw.commit()
    raw.close()

    upgraded = open_database(str(path))
    with upgraded.connection_context():
        assert "0022_transfers_known_elsewhere" in upgrade(upgraded)
        names = [n for (n,) in upgraded.execute_sql("SELECT handover_id FROM transfer_handover ORDER BY seq")]
        assert len(set(names)) == 2 and all(len(n) == 26 for n in names)  # each its own id, so the county keeps both
        assert upgraded.execute_sql("SELECT receiver FROM transfer_handover ORDER BY seq").fetchall() == [
            ("赵送件",), ("李窗口",)]
        assert upgraded.execute_sql("SELECT data, device, path FROM relay_bundle").fetchall() == [
            (b"sealed bytes", 0, "")]  # still forwarded from its bytes


def test_upgrade_to_0026_keeps_a_booking_queued_for_the_county_and_sends_it(tmp_path):
    """A station upgraded with a no-show the county has not confirmed: kept whole, still sent, not cleared."""
    from station import create_app
    from station.models import Appointment
    from station.services import appointments, retention

    path = _database_at(tmp_path / "station.sqlite3", "0024_home_visit_personal_purged")
    raw = sqlite3.connect(path)
    _insert(raw, "catalog_version", version="2023.01", imported_at="2023-01-01 00:00:00", is_current=1)
    _insert(raw, "appointment", id="01OLDBOOKING", code="ABCD2345", slot_date="2023-03-01", slot_start="09:00",
            slot_end="10:00", item_name="高龄津贴申领", name_stored="赵桂英", phone_stored="13912345678",
            phone_index="old", status="no_show", source="public", created_at="2023-02-20 09:00:00",
            updated_at="2023-03-01 11:00:00", version=1, sent_version=0)
    raw.commit()
    raw.close()

    app = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context(), db.connection_context():
        assert pending(db.obj) == [] and schema_version(db.obj) >= "0026_appointment_personal_purged"
        assert Appointment.get_by_id("01OLDBOOKING").personal_purged_at is None
        [sent] = appointments.pending_push()["bookings"]
        assert (sent["name"], sent["phone"], sent["status"]) == ("赵桂英", "13912345678", "no_show")
        assert retention.booking_candidates(24) == []  # the county has not got the no-show yet
        appointments.push_confirmed({"bookings": [sent]})
        [listed] = retention.booking_candidates(24)
        assert listed.masked_name == "赵*英"


def test_upgrade_to_0027_seals_the_free_text_of_visits_already_recorded(tmp_path):
    """A station upgraded with a visit whose outcome note names a relative: sealed in the file, shown as it was."""
    from station import create_app
    from station.models import HomeVisit

    path = _database_at(tmp_path / "station.sqlite3", "0026_appointment_personal_purged")
    raw = sqlite3.connect(path)
    _insert(raw, "home_visit", id="01OLDVISIT", visited_on="2026-11-02", started_at="09:30", staff="王代办",
            resident_name_stored="孙福贵", address_stored="东关村五组3号", purpose="代办参保登记，联系人欧阳小明",
            outcome="done", outcome_note="由其子欧阳小明代签，电话13512349876", created_at="2026-11-02 10:40:00")
    raw.commit()
    raw.close()

    app = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context(), db.connection_context():
        assert pending(db.obj) == [] and schema_version(db.obj) >= "0027_home_visit_free_text_sealed"
        stored = db.execute_sql("SELECT purpose, outcome_note FROM home_visit").fetchone()
        assert all(value.startswith("enc1:") for value in stored)
        visit = HomeVisit.get_by_id("01OLDVISIT")
        assert (visit.purpose, visit.outcome_note) == ("代办参保登记，联系人欧阳小明", "由其子欧阳小明代签，电话13512349876")
    for file in (path, path.with_name(path.name + "-wal")):  # the copy made before upgrading is the old file, aside
        assert not file.exists() or b"13512349876" not in file.read_bytes(), file.name
