"""Case numbers under concurrent saves, and upgrading a database made by an older schema."""

from __future__ import annotations

import datetime as dt
import json
import re
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


def test_no_room_for_the_copy_before_an_upgrade_says_so_and_upgrades_nothing(tmp_path, monkeypatch):
    """A village PC's disk full on upgrade day: a message, not a traceback; no migration without its copy."""
    from click.testing import CliRunner

    from station import migrate
    from station.cli import cli

    path = _database_at(tmp_path / "station.sqlite3", "0020_cross_area_items")

    def disk_full(_source: str, target: Path) -> None:
        target.write_bytes(b"half a copy")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(migrate, "copy_database", disk_full)
    monkeypatch.delenv("STATION_DATABASE", raising=False)
    result = CliRunner().invoke(cli, ["--instance", str(tmp_path), "init"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "复制失败：磁盘空间不足" in result.stderr and "没有任何改动" in result.stderr
    assert not list(tmp_path.glob("*.bak*"))  # no half copy left to fill the disk further
    kept = open_database(str(path))
    with kept.connection_context():
        assert schema_version(kept) == "0020_cross_area_items"
    kept.close()


def test_an_upgrade_under_the_old_release_still_serving_is_refused_and_changes_nothing(tmp_path, monkeypatch):
    """The new release installed beside an old one still serving (started at logon, not stopped):
    `init` (or the new `run`) migrated the database under the old code, which went on writing to
    tables it did not know; the new `run` then stopped at 本站已在运行."""
    from click.testing import CliRunner

    from station.cli import cli
    from station.single_instance import hold_instance_lock

    path = _database_at(tmp_path / "station.sqlite3", "0020_cross_area_items")
    monkeypatch.delenv("STATION_DATABASE", raising=False)
    monkeypatch.delenv("STATION_INSTANCE", raising=False)
    old_release = hold_instance_lock(tmp_path)  # what the serving station holds
    try:
        for command in (["init"], ["run"]):
            result = CliRunner().invoke(cli, ["--instance", str(tmp_path), *command])
            assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
            assert "本站正在运行" in result.stderr and "再升级" in result.stderr and "没有任何改动" in result.stderr
    finally:
        old_release.close()
    assert not list(tmp_path.glob("*.bak*"))
    kept = open_database(str(path))
    with kept.connection_context():
        assert schema_version(kept) == "0020_cross_area_items"
    kept.close()
    result = CliRunner().invoke(cli, ["--instance", str(tmp_path), "init"])  # stopped: it upgrades
    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("*.bak"))


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


#: A case row's JSON columns as a release before 0028 wrote them (empty, not absent).
OLD_CASE_JSON = {"form_values": "{}", "supplement_items": "[]", "supplement_keys": "[]", "delivery": "{}"}


def _started_at_0027(path: Path) -> sqlite3.Connection:
    """A connection to a database left at 0027 by a station that has started since: 0027's walk done, no mark."""
    raw = sqlite3.connect(path)
    raw.execute("DELETE FROM setting WHERE key = 'security.plain_rows'")
    return raw


def _ring_beside(tmp_path: Path):  # noqa: ANN202 - a websec KeyRing
    """The key ring the station at `tmp_path` will load (made now, as the release before had made it)."""
    from station.keys import owner_only_folder
    from websec.sealing import load_key_ring

    key_file = tmp_path / "instance" / "keys" / "data.key"
    owner_only_folder(key_file.parent)
    return load_key_ring(key_file, create=True)


def test_upgrade_to_0028_seals_the_county_reasons_notes_and_timeline_already_stored(tmp_path):
    """A station upgraded with a case the county asked to supplement, a 整改, a booking and a handover, each with
    words naming a relative and a number: sealed in the file and its WAL, every page's model reads them back."""
    import json

    from station import create_app
    from station.models import Appointment, CaseMaterial, Remedy, TimelineEntry, TransferHandover

    path = _database_at(tmp_path / "station.sqlite3", "0027_home_visit_free_text_sealed")
    reason = "户口簿缺页，请其女儿欧阳小红补交，电话13512349876"
    raw = _started_at_0027(path)
    _insert(raw, "case", **OLD_CASE_JSON, id="01OLDCASE", case_no="141081102201202611020001", query_code="Q7K2M9", item_id=1,
            catalog_version="2026.1", mode="assisted", decision="accepted", status="supplement",
            applicant_name="孙福贵", applicant_cert_type="01", applicant_id_stored="x", applicant_phone_stored="x",
            agent_id=1, received_at="2026-11-02 09:00:00", status_reason=reason, result_text="待补交后办结，联系人欧阳小红")
    _insert(raw, "case_material", case_id="01OLDCASE", key="hukou", name="户口簿", form="original",
            status="not_applicable", origin="{}", supplied_note="由其子欧阳小明代交，电话13512349876")
    _insert(raw, "timeline_entry", case_id="01OLDCASE", at="2026-11-03 10:00:00", actor="县级平台",
            action="county_supplement", message=f"县级平台：退回补正（{reason}）",
            data=json.dumps({"payload": {"reason": reason, "note": "已电话告知欧阳小红"}}, ensure_ascii=False))
    _insert(raw, "remedy", remedy_id=7, case_id="01OLDCASE", evaluation_id="EV1", status="closed",
            updated_at="2026-11-05 10:00:00", data=json.dumps({
                "fix_text": "已向欧阳小红致歉", "resident_answer": "满意，欧阳小红说谢谢", "closing_note": "回访13512349876",
                "contacts": [{"at": "2026-11-04", "said": "欧阳小红接的电话"}]}, ensure_ascii=False))
    _insert(raw, "appointment", id="01OLDBOOKING", code="ABCD2345", slot_date="2026-11-20", slot_start="09:00",
            slot_end="10:00", name_stored="x", phone_stored="x", phone_index="", note="由欧阳小红陪同，电话13512349876",
            created_at="2026-11-01 09:00:00", updated_at="2026-11-01 09:00:00")
    _insert(raw, "transfer", id="01OLDTRANSFER", batch_no="WL-ST1-20261130-01", direction="up", destination="东关镇",
            state="in_transit", created_by="王代办", created_at="2026-11-30 09:00:00", updated_at="2026-11-30 10:00:00")
    _insert(raw, "transfer_handover", transfer_id="01OLDTRANSFER", seq=1, giver="王代办", receiver="李窗口",
            place="东关村", at="2026-11-30 10:00:00", recorded_by="王代办", handover_id="01OLDHANDOVER", missing="[]",
            extra="[]",
            note="欧阳小红托人带来的户口簿")
    raw.commit()
    raw.close()

    app = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context(), db.connection_context():
        assert pending(db.obj) == [] and schema_version(db.obj) >= "0028_free_text_sealed"
        for sql in ('SELECT status_reason, result_text FROM "case"', "SELECT supplied_note FROM case_material",
                    "SELECT message, data FROM timeline_entry", "SELECT data FROM remedy",
                    "SELECT note FROM appointment", "SELECT note FROM transfer_handover"):
            assert all(value.startswith("enc1:") for value in db.execute_sql(sql).fetchone()), sql
        case = Case.get_by_id("01OLDCASE")
        assert (case.status_reason, case.result_text) == (reason, "待补交后办结，联系人欧阳小红")
        assert CaseMaterial.get().supplied_note == "由其子欧阳小明代交，电话13512349876"
        line = TimelineEntry.get()
        assert (line.message, line.data["payload"]["note"]) == (f"县级平台：退回补正（{reason}）", "已电话告知欧阳小红")
        assert Remedy.get().data["contacts"][0]["said"] == "欧阳小红接的电话"
        assert Appointment.get_by_id("01OLDBOOKING").note == "由欧阳小红陪同，电话13512349876"
        assert TransferHandover.get().note == "欧阳小红托人带来的户口簿"
    for file in (path, path.with_name(path.name + "-wal")):  # the copy made before upgrading is the old file, aside
        data = file.read_bytes() if file.exists() else b""
        for words in ("13512349876", "欧阳小红", "欧阳小明"):
            assert words.encode() not in data and json.dumps(words)[1:-1].encode() not in data, (file.name, words)


def test_upgrade_to_0028_puts_back_a_postal_address_stored_as_ciphertext(tmp_path):
    """Posted with no address typed before 81d22e3: the record, its line and the unsent event held the applicant's
    address column's ciphertext (cut to 200 characters); after the upgrade they hold her address, sealed whole."""
    import json

    from rules.events import DELIVERED
    from station import create_app
    from station.models import TimelineEntry
    from station.services import follow_up
    from sync.outbox import OutboxEvent

    ring = _ring_beside(tmp_path)
    path = _database_at(tmp_path / "station.sqlite3", "0027_home_visit_free_text_sealed")
    short, long = "示范县东关镇东关村三组12号", "示范县东关镇东关村三组12号" + "（东关村委会对面的老供销社后院往北第三户，门口有棵大槐树）" * 2
    raw = _started_at_0027(path)
    for n, address in ((1, short), (2, long)):
        stolen = ring.seal(address)[:200]  # what record_handover took, cut as it cut every address
        record = {"method": "post", "ems_no": f"EA12345678{n}CN", "address": stolen, "delivered_on": "2026-11-20"}
        _insert(raw, "case", **{**OLD_CASE_JSON, "delivery": ring.seal(json.dumps(record, ensure_ascii=False))},
                id=f"01POSTED{n}", case_no=f"14108110220120261102000{n}", query_code=f"Q7K2M{n}",
                item_id=1, catalog_version="2026.1", mode="assisted", decision="accepted", status="delivered",
                applicant_name="孙福贵", applicant_cert_type="01", applicant_id_stored="x", applicant_phone_stored="x",
                applicant_address=ring.seal(address), agent_id=1, received_at="2026-11-02 09:00:00",
                delivered_at="2026-11-20 10:00:00")
        _insert(raw, "timeline_entry", case_id=f"01POSTED{n}", at="2026-11-20 10:00:00", actor="王代办",
                action="delivered", message=f"办理结果已送达：邮寄，2026-11-20 寄出，EMS {record['ems_no']}，寄至 {stolen}",
                data="{}")
        _insert(raw, "outbox_event", event_id=f"01EVENT{n}", case_id=f"01POSTED{n}", seq=5, kind=DELIVERED,
                payload=ring.seal_bytes(json.dumps({**record, "by": "agent"}, ensure_ascii=False).encode()),
                occurred_at="2026-11-20T10:00:00+08:00", state="queued" if n == 1 else "acked")
    raw.commit()
    raw.close()

    app = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context(), db.connection_context():
        assert pending(db.obj) == []
        for n, address in ((1, short), (2, long)):
            case = Case.get_by_id(f"01POSTED{n}")
            assert case.delivery["address"] == address[:200]
            assert follow_up.handover_summary(case).endswith(f"寄至 {address[:200]}")  # the case page's line
            assert TimelineEntry.get(TimelineEntry.case == case.id).message.endswith(f"寄至 {address[:200]}")
        stored = db.execute_sql("SELECT delivery FROM \"case\" WHERE id = '01POSTED1'").fetchone()[0]
        assert stored.startswith("enc1:") and "enc1:" not in ring.unseal(stored)  # sealed whole, once
        queued, acked = OutboxEvent.select().order_by(OutboxEvent.event_id)
        assert queued.payload["address"] == short  # the county gets her address, not a value it cannot open
        assert acked.payload["address"].startswith("enc1:")  # what the county holds already, kept as it was sent


def test_upgrade_to_0029_seals_a_refusal_a_ratings_words_and_the_countys_reasons_already_stored(app, tmp_path):
    """A station at 0028 held them plain: why the county refused a handover, a resident's words in her rating, why
    the county set an event aside (naming her and giving her ID number) and why it asked for one again. After the
    upgrade: sealed in the file and its WAL, every page shows the words (a number masked), and the events the
    county has not got are sent once, as before."""
    from rules.privacy import mask_id_number
    from station import create_app
    from station.models import Evaluation, TransferHandover
    from station.services import evaluations, transfer_refusals
    from sync import protocol
    from sync.backlog import pending_events
    from sync.outbox import OutboxEvent
    from sync.push import record_results
    from sync.summary import SyncSummary
    from tests.fixtures.intake import GOOD_ID, SECOND_ID
    from tests.fixtures.station import StationClient

    refusal, words = "批次不经过本站：欧阳小红的材料应直接送县", "王代办讲得清楚，我女儿欧阳小红也说好"
    set_aside, again = f"申请人欧阳小红的身份证号{GOOD_ID}与县级登记不符", "县级平台数据库已从备份恢复，重新上传"
    received = StationClient(app.test_client()).login("clerk").post(
        "/transfers/receive", data={"code": "WL-OTHER99-20261130-01", "giver": "赵送件", "receiver": "李窗口",
                                    "place": "东关镇便民服务中心"})
    batch_page = received.headers["Location"]
    with app.app_context(), db.connection_context():  # what the release at 0028 did, and stored in clear
        item, agent = item_named("高龄津贴申领"), User.get(User.username == "agent")
        held, waiting = (intake.create_cases([item], intake.check_input([item], form_for(
            [item], applicant_id_number=number), dt.date.today()), agent, allow_duplicate=True)[0]
            for number in (GOOD_ID, SECOND_ID))
        [handover] = TransferHandover.select()
        transfer_refusals.push_refused([{"handover_id": handover.handover_id, "reason": refusal}])
        evaluations.rate_at_kiosk(evaluations.KioskPass(held.id, "case", "agent"), "very_satisfied", "clear", words)
        first = next(e for e in pending_events() if e.case_id == held.id)
        record_results([first], [{"event_id": first.event_id, "status": protocol.STATUS_REJECTED,
                                  "reason": set_aside}], SyncSummary())
        db.execute_sql("UPDATE transfer_handover SET refusal = ?", (refusal,))
        db.execute_sql("UPDATE evaluation SET reason_text = ?", (words,))
        db.execute_sql("UPDATE outbox_event SET reason = ? WHERE state = 'set_aside'", (set_aside,))
        db.execute_sql("UPDATE outbox_event SET reason = ? WHERE case_id = ?", (again, waiting.id))
        db.execute_sql("DELETE FROM schema_migration WHERE name LIKE '0029%'")
        to_send = [e.event_id for e in pending_events()]
        assert to_send and all(e.case_id == waiting.id for e in pending_events())  # the held case waits
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()

    upgraded = create_app(station_test_config(tmp_path), instance_path=str(tmp_path / "instance"))
    path = Path(upgraded.config["DATABASE"])
    with upgraded.app_context(), db.connection_context():
        assert pending(db.obj) == [] and schema_version(db.obj) >= "0029"
        for sql, rows in (("SELECT refusal FROM transfer_handover", 1), ("SELECT reason_text FROM evaluation", 1),
                          ("SELECT reason FROM outbox_event WHERE reason != ''", 1 + len(to_send))):
            stored = [value for (value,) in db.execute_sql(sql).fetchall()]
            assert len(stored) == rows and all(value.startswith("enc1:") for value in stored), sql
        assert (TransferHandover.get().refusal, Evaluation.get().reason_text) == (refusal, words)
        assert [e.event_id for e in pending_events()] == to_send  # each still to go, once
        assert {e.reason for e in OutboxEvent.select().where(OutboxEvent.case_id == waiting.id)} == {again}
    for file in (path, path.with_name(path.name + "-wal")):  # the copy made before upgrading is the old file, aside
        assert not file.exists() or "欧阳小红".encode() not in file.read_bytes(), file.name

    clerk, agent = (StationClient(upgraded.test_client()).login(role) for role in ("clerk", "agent"))
    batch = re.sub(r"<[^>]+>", "", clerk.get(batch_page).get_data(as_text=True))
    assert f"县级平台未接受：{refusal}" in batch and "现在：在途：由 李窗口" not in batch
    html = agent.get(f"/cases/{held.id}").get_data(as_text=True)
    page = re.sub(r"<[^>]+>", "", re.sub(r'<details class="reveal-number">.*?</details>', "", html, flags=re.S))
    masked = set_aside.replace(GOOD_ID, mask_id_number(GOOD_ID))
    assert words in page and f"被退回，需人工处理：{masked}" in page and GOOD_ID not in html
    listing = clerk.get("/sync/").get_data(as_text=True)
    assert masked in listing and GOOD_ID not in listing

    with upgraded.app_context(), db.connection_context():  # the county takes them: nothing is sent twice
        batch_sent = pending_events()
        record_results(batch_sent, [{"event_id": e.event_id, "status": protocol.STATUS_ACCEPTED} for e in batch_sent],
                       SyncSummary())
        assert pending_events() == []


def test_upgrade_to_0031_fixes_each_case_under_the_assessed_limit_in_force_at_the_upgrade(tmp_path):
    """Cases already taken keep the county's 考核时限 held at the upgrade: the one nearest to theirs the
    station can know, never a later change. An item the county set no limit for stays without one."""
    path = _database_at(tmp_path / "assessed.sqlite3", "0030_privacy_licence_numbers_sealed")
    raw = sqlite3.connect(path)
    _insert(raw, "user", username="agent", name="王代办", role="agent", password_hash="x", created_at="2026-11-05 09:00:00")
    _insert(raw, "catalog_version", version="2026.11", imported_at="2026-11-01 00:00:00", is_current=1)
    limits = {"000113005000": 3}  # as the county sent them (station_info.apply_hub_settings)
    _insert(raw, "setting", key="hub.assessed_days", value=json.dumps(limits), updated_at="2026-11-05 08:00:00")
    for n, code in enumerate(("000113005000", "000111001000"), 1):
        _insert(raw, "service_item", catalog_id=1, item_code=code, impl_code=f"X{n}", name=f"事项{n}", kind="committed")
        _insert(raw, "case", id=f"01OLDCASE{n}", case_no=f"14108110220120261105000{n}", query_code=f"ABCD234{n}",
                item_id=n, catalog_version="2026.11", mode="assisted", decision="collected", status="collected",
                applicant_name="赵秀英", applicant_cert_type="111", applicant_id_stored="x", applicant_phone_stored="x",
                agent_id=1, received_at="2026-11-05 09:30:00", updated_at="2026-11-05 09:30:00")
    raw.commit()
    raw.close()

    upgraded = open_database(str(path))
    with upgraded.connection_context():
        assert "0031_numbers_assessed_days" in upgrade(upgraded)
        held = dict(upgraded.execute_sql('SELECT i.item_code, c.assessed_days FROM "case" c '
                                         "JOIN service_item i ON i.id = c.item_id").fetchall())
    assert held == {code: limits.get(code) for code in ("000113005000", "000111001000")}
