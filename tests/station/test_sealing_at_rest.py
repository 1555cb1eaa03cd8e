"""Residents' data sealed at rest on the station: the key ring, file modes, rotation, old plain rows, retention."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from station import create_app, keys
from station.cli import cli
from station.extensions import db
from station.models import AccessLog, Appointment, Attachment, Case, HomeVisit, TimelineEntry, User
from station.services import appointments, cases, home_visits, intake, personal, retention
from station.services.attachments import add_attachment, blob_path, read_blob
from station.services.errors import DomainError
from sync import protocol
from sync import state as sync_state
from sync.outbox import OutboxEvent
from tests.fixtures.config import station_test_config
from tests.fixtures.intake import GOOD_ID, SECOND_ID, form_for, item_named
from tests.fixtures.scans import PNG
from websec.sealing import BLOB_MAGIC

POSIX = sys.platform != "win32"
SECRET = "s3cr3t-from-the-county-hub-0123456789"
NOTE = "申请人另留电话13512349876"
REASON = "请其女儿欧阳小红补交户口簿"  # the county's words: sealed by their field (0028)


def _intake(id_number: str = GOOD_ID, **overrides: str) -> Case:
    item = item_named("高龄津贴申领")
    draft = intake.check_input([item], form_for([item], applicant_id_number=id_number, **overrides), dt.date.today())
    [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
    return case


def _fill(app: Flask) -> tuple[str, str]:
    """Two cases, a scan on the first, the hub secret; return (case id, scan sha256)."""
    with app.app_context(), db.connection_context():
        case = _intake()
        _intake(SECOND_ID)
        attachment = add_attachment(case, User.get(User.username == "agent"), "户口簿.png", PNG,
                                    app.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
        sync_state.set_value(sync_state.SECRET, SECRET)
        cases.add_note(case, User.get(User.username == "agent"), NOTE)
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "supplement", "reason": REASON})
        return case.id, attachment.sha256


def _env(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    """Point `python -m station` at the test app's files."""
    for name in ("DATABASE", "ATTACHMENT_DIR", "KEY_FILE"):
        monkeypatch.setenv(f"STATION_{name}", app.config[name])
    monkeypatch.setenv("STATION_SECRET_KEY", "x")
    monkeypatch.setenv("STATION_INSTANCE", app.instance_path)


def _everything_opens(app: Flask, case_id: str, sha256: str) -> None:
    with app.app_context(), db.connection_context():
        case = Case.get_by_id(case_id)
        assert personal.applicant_id_number(case) == GOOD_ID
        assert personal.applicant_phone(case) == "13912345678"
        assert personal.applicant_address(case) == "示范县东关镇东关村三组12号"
        assert OutboxEvent.select().where(OutboxEvent.case_id == case_id).first().payload["applicant"]["id_number"] == GOOD_ID
        assert sync_state.get_value(sync_state.SECRET) == SECRET
        assert TimelineEntry.get((TimelineEntry.case == case_id) & (TimelineEntry.action == "note")).message == NOTE
        county = TimelineEntry.get((TimelineEntry.case == case_id) & (TimelineEntry.action == "county_supplement"))
        assert (case.status_reason, county.data["payload"]["reason"]) == (REASON, REASON)
        assert read_blob(app.config["ATTACHMENT_DIR"], sha256) == PNG
        # the duplicate check still finds the earlier case
        assert [c.id for c in intake.find_open_duplicates([item_named("高龄津贴申领")], GOOD_ID)] == [case_id]


def test_personal_data_is_stored_sealed_and_read_back(app):
    case_id, sha256 = _fill(app)
    with app.app_context(), db.connection_context():
        raw = db.execute_sql('SELECT applicant_id_stored, applicant_phone_stored, applicant_address, form_values, '
                             'applicant_id_index FROM "case" WHERE id = ?', (case_id,)).fetchone()
        payload = db.execute_sql("SELECT payload FROM outbox_event WHERE case_id = ?", (case_id,)).fetchone()[0]
        secret = db.execute_sql("SELECT value FROM sync_state WHERE key = 'secret'").fetchone()[0]
    assert all(value.startswith("enc1:") for value in [*raw[:3], raw[3], secret])
    assert payload.startswith(BLOB_MAGIC)  # outbox payloads: sealed bytes
    assert GOOD_ID not in raw[4] and len(raw[4]) == 64  # the blind index: an HMAC, not the number
    assert not blob_path(app.config["ATTACHMENT_DIR"], sha256).read_bytes().startswith(PNG[:8])
    _everything_opens(app, case_id, sha256)


@pytest.mark.skipif(not POSIX, reason="file modes: Windows keeps the key with an ACL (docs/security.md)")
def test_key_scans_and_instance_folder_are_owner_only(app):
    _case_id, sha256 = _fill(app)
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    assert mode(app.config["KEY_FILE"]) == 0o600
    assert mode(app.instance_path) == 0o700
    assert mode(blob_path(app.config["ATTACHMENT_DIR"], sha256)) == 0o600
    assert mode(blob_path(app.config["ATTACHMENT_DIR"], sha256).parent) == 0o700
    (Path(app.instance_path).parent / "fresh").mkdir()
    fresh = create_app(station_test_config(Path(app.instance_path).parent / "fresh"), instance_path=app.instance_path + "2")
    database = Path(fresh.config["DATABASE"])
    assert [mode(p) for p in database.parent.glob(database.name + "*")] == [0o600] * 3  # with -wal and -shm


def test_a_start_without_the_key_file_refuses_when_sealed_data_exists(app, tmp_path, monkeypatch):
    _fill(app)
    Path(app.config["KEY_FILE"]).rename(tmp_path / "kept-aside.key")
    with pytest.raises(keys.KeyFileMissing, match="找不到密钥文件"):
        create_app(station_test_config(tmp_path), instance_path=app.instance_path)
    _env(monkeypatch, app)
    result = CliRunner().invoke(cli, ["sync", "--once"])  # an operator's command: the message, no traceback
    assert result.exit_code == 1 and "找不到密钥文件" in result.stderr
    assert not Path(app.config["KEY_FILE"]).exists()  # no new key made behind the operator's back


def test_rotation_refuses_while_the_station_is_serving_and_changes_nothing(app, monkeypatch):
    """The station starts at logon: rotating under it left the running process sealing new cases
    with the key the rotation deleted — unreadable after its next start."""
    from station.single_instance import hold_instance_lock

    case_id, _sha256 = _fill(app)
    old_key = Path(app.config["KEY_FILE"]).read_text()
    _env(monkeypatch, app)
    serving = hold_instance_lock(app.instance_path)  # what `python -m station run` holds while it serves
    try:
        result = CliRunner().invoke(cli, ["rotate-key"])
    finally:
        serving.close()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "本站正在运行" in result.stderr and "请先关闭服务站窗口" in result.stderr
    assert Path(app.config["KEY_FILE"]).read_text() == old_key
    assert CliRunner().invoke(cli, ["rotate-key"]).exit_code == 0  # stopped: it rotates


def test_rotation_reseals_everything_and_every_record_still_opens(app, monkeypatch):
    case_id, sha256 = _fill(app)
    old_key = Path(app.config["KEY_FILE"]).read_text()
    _env(monkeypatch, app)
    result = CliRunner().invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "密钥轮换完成" in result.output
    new_ring = keys.ring()
    assert len(new_ring.keys) == 1 and new_ring.current not in old_key
    with app.app_context(), db.connection_context():
        stored = db.execute_sql('SELECT applicant_id_stored FROM "case" WHERE id = ?', (case_id,)).fetchone()[0]
    assert stored.startswith(f"enc1:{new_ring.current}:")
    app.extensions["key_ring"] = new_ring  # the test's app object outlived the command's own app
    _everything_opens(app, case_id, sha256)


def test_an_interrupted_rotation_keeps_every_record_readable_and_finishes_when_run_again(app):
    from station.services import protection

    case_id, sha256 = _fill(app)

    def power_cut() -> None:
        raise KeyboardInterrupt

    with app.app_context(), db.connection_context(), pytest.raises(KeyboardInterrupt):
        protection.rotate_key(app.config["ATTACHMENT_DIR"], before_retire=power_cut)
    restarted = create_app(station_test_config(Path(app.config["DATABASE"]).parent), instance_path=app.instance_path)
    assert len(restarted.extensions["key_ring"].keys) == 2  # old and new, both on disk
    _everything_opens(restarted, case_id, sha256)
    with restarted.app_context(), db.connection_context():
        ring = protection.rotate_key(restarted.config["ATTACHMENT_DIR"])
    assert len(ring.keys) == 1
    restarted.extensions["key_ring"] = ring
    _everything_opens(restarted, case_id, sha256)


def test_plain_rows_of_an_older_release_are_sealed_at_start(app):
    case_id, sha256 = _fill(app)
    blob = blob_path(app.config["ATTACHMENT_DIR"], sha256)
    blob.write_bytes(PNG)  # as an older release stored scans
    with app.app_context(), db.connection_context():
        db.execute_sql('UPDATE "case" SET applicant_id_stored = ?, applicant_id_index = \'\', applicant_address = ?',
                       (GOOD_ID, "示范县东关镇东关村三组12号"))
        db.execute_sql("UPDATE outbox_event SET payload = ?", ('{"text": "13912345678"}',))
        db.execute_sql("INSERT OR REPLACE INTO setting (key, value, updated_at) "
                       "VALUES ('security.plain_rows', 'pending', '2026-01-01 00:00:00')")
    restarted = create_app(station_test_config(Path(app.config["DATABASE"]).parent), instance_path=app.instance_path)
    with restarted.app_context(), db.connection_context():
        row = db.execute_sql('SELECT applicant_id_stored, applicant_address FROM "case" WHERE id = ?',
                             (case_id,)).fetchone()
        assert all(value.startswith("enc1:") for value in row)
        assert intake.find_open_duplicates([item_named("高龄津贴申领")], GOOD_ID)
        payloads = [p for (p,) in db.execute_sql("SELECT payload FROM outbox_event").fetchall()]
        assert payloads and all(p.startswith(BLOB_MAGIC) for p in payloads)
        assert OutboxEvent.select().first().payload == {"text": "13912345678"}
    assert blob.read_bytes().startswith(BLOB_MAGIC)
    assert read_blob(restarted.config["ATTACHMENT_DIR"], sha256) == PNG
    database = Path(restarted.config["DATABASE"])
    for path in database.parent.glob(database.name + "*"):  # freed pages zeroed, the WAL truncated
        assert GOOD_ID.encode() not in path.read_bytes(), path.name


# --- retention ------------------------------------------------------------------------------------

def _close(case_id: str, months_ago: int) -> None:
    closed = dt.datetime.now() - dt.timedelta(days=31 * months_ago)
    Case.update(status="completed", closed_at=closed).where(Case.id == case_id).execute()
    OutboxEvent.update(state="acked", acked_at=closed).where(OutboxEvent.case_id == case_id).execute()


def test_purge_removes_scans_and_full_numbers_of_old_acknowledged_cases_only(app, monkeypatch):
    old_id, sha256 = _fill(app)
    with app.app_context(), db.connection_context():
        recent = _intake("141081197204050010").id
        unsynced = _intake("141081199001010018").id
        _close(old_id, 30)
        _close(recent, 3)
        _close(unsynced, 30)
        cases.add_note(Case.get_by_id(unsynced), User.get(User.username == "agent"), "已电话告知结果")
        # …but that last note is still queued: the county has not got it, so nothing is purged
    _env(monkeypatch, app)

    dry = CliRunner().invoke(cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "110105********002X" in dry.output and GOOD_ID not in dry.output
    assert "将删除 1 件" in dry.output
    with app.app_context(), db.connection_context():
        assert personal.applicant_id_number(Case.get_by_id(old_id)) == GOOD_ID  # a dry run changes nothing

    done = CliRunner().invoke(cli, ["purge"])
    assert done.exit_code == 0, done.output
    assert "已删除 1 件" in done.output
    with app.app_context(), db.connection_context():
        case = Case.get_by_id(old_id)
        assert personal.applicant_id_number(case) == "110105********002X"
        assert personal.applicant_phone(case) == "139****5678"
        assert personal.applicant_address(case) == ""
        assert not Attachment.select().where(Attachment.case == case).exists()
        payload = OutboxEvent.select().where(OutboxEvent.case_id == old_id).first().payload
        assert payload["applicant"]["id_number"] == "110105********002X" and payload["applicant"]["address"] == ""
        assert TimelineEntry.select().where((TimelineEntry.case == case)
                                            & (TimelineEntry.action == "personal_data_purged")).exists()
        for kept in (recent, unsynced):
            assert len(personal.applicant_id_number(Case.get_by_id(kept))) == 18
        assert not intake.find_open_duplicates([item_named("高龄津贴申领")], GOOD_ID)
    assert not blob_path(app.config["ATTACHMENT_DIR"], sha256).exists()
    again = CliRunner().invoke(cli, ["purge"])
    assert "已删除 0 件" in again.output


def test_retention_cutoff_counts_calendar_months():
    assert retention.cutoff(24, dt.date(2026, 3, 31)) == dt.datetime(2024, 3, 31)
    assert retention.cutoff(1, dt.date(2026, 3, 31)) == dt.datetime(2026, 2, 28)


# --- the hub link -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "warned"), [
    ("http://hub.county.gov.cn/", True), ("http://10.0.0.5:8090/", True),
    ("https://hub.county.gov.cn/", False), ("http://127.0.0.1:8090/", False), ("http://localhost:8090/", False),
])
def test_link_warns_loudly_about_plain_http_to_another_machine(tmp_path, monkeypatch, url, warned):
    for name in ("STATION_INSTANCE", "STATION_DATABASE", "STATION_ATTACHMENT_DIR", "STATION_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert CliRunner().invoke(cli, ["--instance", str(tmp_path), "init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["--instance", str(tmp_path), "link", "--hub", url, "--code", "ST1",
                                      "--secret", "x" * 40])
    assert result.exit_code == 0, result.output
    assert ("警告" in result.stderr and "未加密" in result.stderr) is warned


def test_the_case_list_finds_a_case_by_its_id_number_through_the_blind_index(app, agent):
    with app.app_context(), db.connection_context():
        case_no = _intake().case_no
        other = _intake(SECOND_ID).case_no
    page = agent.get(f"/cases/?q={GOOD_ID.lower()}").get_data(as_text=True)  # x and X are the same number
    assert case_no in page and other not in page


def test_the_case_list_finds_a_number_typed_full_width(app, agent):
    """A number typed with a Chinese input method is full-width: intake takes it, the case list found nothing."""
    with app.app_context(), db.connection_context():
        case = _intake()
        other = _intake(SECOND_ID).case_no

    def full_width(text: str) -> str:
        return "".join(chr(ord(ch) + 0xFEE0) for ch in text)

    for typed in (full_width(GOOD_ID.lower()), f" {full_width(case.case_no)} ", full_width(case.query_code)):
        page = agent.get("/cases/", query_string={"q": typed}).get_data(as_text=True)
        assert case.case_no in page and other not in page, typed
    # sent from the search box (a post), the full-width ID number goes into the address as its index only
    address = agent.post("/cases/", {"q": full_width(GOOD_ID)}).headers["Location"]
    assert "id=" in address and "q=" not in address
    assert case.case_no in agent.get(address).get_data(as_text=True)


def test_an_id_number_searched_from_the_case_list_never_stands_in_its_address(app, agent):
    """The filter form posts; the list it sends the browser to names the number by its blind index only, so the
    browser's history on the station PC (and any proxy's log) keeps no ID number; the list finds the case."""
    with app.app_context(), db.connection_context():
        case = _intake()
        case_no, status = case.case_no, case.status
        other = _intake(SECOND_ID).case_no
    sent = agent.post("/cases/", {"q": f" {GOOD_ID.lower()} ", "status": status})
    address = sent.headers["Location"]
    assert sent.status_code == 302 and "id=" in address and f"status={status}" in address
    assert GOOD_ID not in address.upper() and GOOD_ID[:17] not in address
    page = agent.get(address).get_data(as_text=True)
    assert case_no in page and other not in page and GOOD_ID not in page
    assert agent.get("/cases/?id=" + "0" * 64).get_data(as_text=True).count(case_no) == 0  # another index: nothing
    by_name = agent.post("/cases/", {"q": "赵"}).headers["Location"]  # any other search goes as typed
    assert "q=" in by_name and "id=" not in by_name


# --- retention of home visits (上门服务) --------------------------------------------------------------

VISIT = {"started_at": "09:30", "ended_at": "10:40", "staff": "王代办", "resident_name": "孙福贵",
         "resident_phone": "13700002222", "address": "示范县东关镇东关村五组3号", "purpose": "代办养老保险参保登记",
         "outcome": "done"}


def _visit(agent, months_ago: int, name: str = "孙福贵") -> str:  # noqa: ANN001
    """A visit made `months_ago` months back, recorded through the form."""
    day = dt.date.today() - dt.timedelta(days=31 * months_ago)
    response = agent.post("/visits/new", {**VISIT, "visited_on": day.isoformat(), "resident_name": name})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _acked(visit_id: str) -> None:
    OutboxEvent.update(state="acked", acked_at=dt.datetime.now()).where(OutboxEvent.case_id == visit_id).execute()


def test_purge_clears_the_resident_of_old_finished_acknowledged_visits_only(app, agent, monkeypatch):
    old, recent = _visit(agent, 30), _visit(agent, 3, "钱多多")
    unsynced, open_case = _visit(agent, 30, "周小丽"), _visit(agent, 30, "吴大成")
    with app.app_context(), db.connection_context():
        for visit_id in (old, recent, open_case, unsynced):
            _acked(visit_id)
        # a case taken during that visit is still open: the visit is not finished
        home_visits.carry(open_case, _intake())
        _acked(open_case)
        # the county has this visit, but not yet that a case (since closed) was taken during it
        taken_later = _intake(SECOND_ID)
        home_visits.carry(unsynced, taken_later)
        Case.update(status="completed", closed_at=dt.datetime.now()).where(Case.id == taken_later.id).execute()
    _env(monkeypatch, app)

    dry = CliRunner().invoke(cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "孙*贵" in dry.output and "孙福贵" not in dry.output
    assert "上门服务记录：将删除 1 条" in dry.output
    with app.app_context(), db.connection_context():
        assert home_visits.intake_values(HomeVisit.get_by_id(old))["applicant_name"] == "孙福贵"  # nothing changed

    monkeypatch.setattr(getpass, "getuser", lambda: "wangwu")  # the OS account that ran the purge
    done = CliRunner().invoke(cli, ["purge"])
    assert done.exit_code == 0, done.output
    assert "上门服务记录：已删除 1 条" in done.output
    with app.app_context(), db.connection_context():
        logged = AccessLog.select().where((AccessLog.action == "home_visit") & AccessLog.detail.contains("保存期满"))
        assert [(e.object, e.actor_name) for e in logged] == [(old, "命令行（wangwu）")]
        visit = HomeVisit.get_by_id(old)
        ring = keys.ring()
        assert ring.unseal(visit.resident_name_stored) == "孙*贵"
        assert ring.unseal(visit.resident_phone_stored) == "137****2222"
        assert ring.unseal(visit.address_stored) == ""
        [payload] = [e.payload for e in OutboxEvent.select().where(OutboxEvent.case_id == old)]
        assert payload["resident"] == {"name": "孙*贵", "phone": "137****2222", "address": ""}
        for kept, name in ((recent, "钱多多"), (unsynced, "周小丽"), (open_case, "吴大成")):
            values = home_visits.intake_values(HomeVisit.get_by_id(kept))
            assert values["applicant_name"] == name and values["applicant_address"] == "示范县东关镇东关村五组3号"
            first = OutboxEvent.select().where(OutboxEvent.case_id == kept).order_by(OutboxEvent.seq).first()
            assert first.payload["resident"]["name"] == name
        with pytest.raises(DomainError, match="不能再在此次上门中收件"):  # nothing left to prefill a case with
            home_visits.intake_values(visit)
    page = agent.get(f"/visits/{old}").get_data(as_text=True)
    assert "保存期满：已清除服务对象的姓名、电话和地址" in page and "东关村五组" not in page
    refused = agent.get(f"/visits/{old}/case?item_code=x", follow_redirects=True).get_data(as_text=True)
    assert "不能再在此次上门中收件" in refused
    assert "保存期满" not in agent.get(f"/visits/{recent}").get_data(as_text=True)
    again = CliRunner().invoke(cli, ["purge"])
    assert "上门服务记录：已删除 0 条" in again.output


# --- retention of bookings (预约) -----------------------------------------------------------------------

def _from_county(months_ago: int, name: str, phone: str, status: str = "booked", **more: object) -> str:
    """A booking made at the county `months_ago` months back (negative: still to come), as the pull stores it."""
    booking_id = protocol.new_id()
    day = dt.date.today() - dt.timedelta(days=31 * months_ago)
    appointments.apply_from_hub({"appointment_id": booking_id, "code": booking_id[-8:], "slot_date": day.isoformat(),
                                 "slot_start": "09:00", "slot_end": "10:00", "item_name": "高龄津贴申领", "name": name,
                                 "phone": phone, "status": status, "source": "public", **more})
    return booking_id


def _confirmed() -> None:
    """One sync: the county confirms every booking change the station sends."""
    appointments.push_confirmed(appointments.pending_push())


def _found_by_phone(phone: str) -> set[str]:
    indexes = keys.ring().blind_indexes(phone)
    return {a.id for a in Appointment.select().where(Appointment.phone_index.in_(indexes))}


def test_purge_clears_the_resident_of_old_finished_confirmed_bookings_only(app, agent, monkeypatch):
    with app.app_context(), db.connection_context():
        cancelled = _from_county(30, "赵桂英", "13912345678", "cancelled")
        no_show = _from_county(30, "钱大爷", "13800001111")
        appointments.set_status(no_show, "no_show", "女儿钱小红来电说不来了，回电 13800009999")
        recent = _from_county(3, "李春花", "13600004444", "cancelled")
        coming = _from_county(-1, "周大年", "13500005555", "cancelled")
        waiting = _from_county(30, "吴老汉", "13400006666")  # never came, never marked: over all the same
        converted = _from_county(30, "郑秀兰", "13300007777")
        appointments.mark_converted(converted, _intake())  # …into a case still open
        _confirmed()
        unconfirmed = _from_county(30, "孙小梅", "13700003333")
        appointments.set_status(unconfirmed, "no_show")  # the county has not got this yet
    _env(monkeypatch, app)

    dry = CliRunner().invoke(cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "预约：将删除 3 个" in dry.output
    assert "赵*英" in dry.output and "钱*爷" in dry.output and "赵桂英" not in dry.output
    with app.app_context(), db.connection_context():
        assert appointments.intake_values(Appointment.get_by_id(cancelled))["applicant_name"] == "赵桂英"
        assert _found_by_phone("13912345678") == {cancelled}  # a dry run changes nothing

    monkeypatch.setattr(getpass, "getuser", lambda: "wangwu")  # the OS account that ran the purge
    done = CliRunner().invoke(cli, ["purge"])
    assert done.exit_code == 0, done.output
    assert "预约：已删除 3 个" in done.output
    with app.app_context(), db.connection_context():
        ring = keys.ring()
        booking = Appointment.get_by_id(cancelled)
        assert ring.unseal(booking.name_stored) == "赵*英" and ring.unseal(booking.phone_stored) == "139****5678"
        assert booking.address_stored == "" and booking.personal_purged_at is not None
        assert Appointment.get_by_id(no_show).note == ""  # free text: it named a relative and a number
        _from_county(30, "钱大爷", "13800001111", "no_show", appointment_id=no_show, note="钱小红 13800009999")
        assert Appointment.get_by_id(no_show).note == ""  # the county sending it again brings nothing back
        assert not _found_by_phone("13912345678") and not _found_by_phone("13800001111")
        assert not _found_by_phone("13400006666") and ring.unseal(Appointment.get_by_id(waiting).name_stored) == "吴*汉"
        with pytest.raises(DomainError, match="已过保存期限"):  # nothing left to prefill a case or a visit with
            appointments.intake_values(booking)
        for kept, name, phone in ((unconfirmed, "孙小梅", "13700003333"), (recent, "李春花", "13600004444"),
                                  (coming, "周大年", "13500005555"), (converted, "郑秀兰", "13300007777")):
            assert appointments.intake_values(Appointment.get_by_id(kept))["applicant_name"] == name
            assert _found_by_phone(phone) == {kept}
        logged = AccessLog.select().where((AccessLog.action == "appointment_change") & AccessLog.detail.contains("保存期满"))
        assert sorted(e.object for e in logged) == sorted(Appointment.get_by_id(b).code for b in (cancelled, no_show, waiting))
        assert {e.actor_name for e in logged} == {"命令行（wangwu）"}
        day = booking.slot_date.isoformat()
    page = agent.get(f"/appointments/?day={day}").get_data(as_text=True)
    assert "赵*英" in page and "139****5678" in page and "保存期满，预约人信息已清除" in page
    assert f"/appointments/{no_show}/case" not in page  # a cleared booking becomes no case
    again = CliRunner().invoke(cli, ["purge"])
    assert "预约：已删除 0 个" in again.output
    # a key rotation afterwards reseals the cleared booking as it is: masked, and found by no number
    assert CliRunner().invoke(cli, ["rotate-key"]).exit_code == 0
    app.extensions["key_ring"] = keys.ring()  # the test's app object outlived the command's own app
    with app.app_context(), db.connection_context():
        booking = Appointment.get_by_id(cancelled)
        assert keys.ring().unseal(booking.phone_stored) == "139****5678" and booking.phone_index == ""
        assert _found_by_phone("13600004444") == {recent}


def test_a_booking_waits_for_the_case_and_the_home_visit_it_led_to(app, agent, monkeypatch):
    with app.app_context(), db.connection_context():
        converted = _from_county(30, "郑秀兰", "13300007777")
        case = _intake()
        appointments.mark_converted(converted, case)
        visited = _from_county(30, "孙福贵", "13700002222", home_visit=True, address="示范县东关镇东关村五组3号")
        _confirmed()
        day = (dt.date.today() - dt.timedelta(days=31 * 30)).isoformat()
    response = agent.post("/visits/new", {**VISIT, "visited_on": day, "appointment_id": visited})
    assert response.status_code == 302, response.get_data(as_text=True)
    visit_id = response.headers["Location"].rsplit("/", 1)[-1]
    _env(monkeypatch, app)

    first = CliRunner().invoke(cli, ["purge"])  # the case is open, the visit not yet at the county
    assert "预约：已删除 0 个" in first.output, first.output
    with app.app_context(), db.connection_context():
        Case.update(status="completed", closed_at=dt.datetime.now()).where(Case.id == case.id).execute()
        _acked(visit_id)
    second = CliRunner().invoke(cli, ["purge"])
    assert "上门服务记录：已删除 1 条" in second.output and "预约：已删除 2 个" in second.output, second.output
    with app.app_context(), db.connection_context():
        assert {keys.ring().unseal(Appointment.get_by_id(b).name_stored) for b in (converted, visited)} == {"郑*兰", "孙*贵"}
        before = Appointment.get_by_id(visited)
    # still "booked" (a visit answered it), but cleared: no 未到/取消 on the day plan, and a POST changes nothing
    plan = agent.get(f"/appointments/?day={before.slot_date.isoformat()}").get_data(as_text=True)
    assert f'/appointments/{visited}/status' not in plan
    refused = agent.post(f"/appointments/{visited}/status", {"status": "cancelled", "day": before.slot_date.isoformat()},
                         follow_redirects=True).get_data(as_text=True)
    assert "已过保存期限" in refused
    with app.app_context(), db.connection_context():
        after = Appointment.get_by_id(visited)
        assert (after.status, after.version) == ("booked", before.version)  # nothing sent to the county again


def test_the_countys_words_a_remedy_and_every_timeline_line_are_stored_sealed_and_shown_as_sent(app, agent):
    """The county's 补正 reason, result text and 整改 name the resident's daughter and give her number: stored
    sealed as they arrive (the file shows neither), the case page shows the words, the number masked."""
    from station.models import Remedy
    from station.services import evaluations

    reason, result = "请其女儿欧阳小红补交户口簿，电话13722224444", "已办结，由欧阳小红代领"
    with app.app_context(), db.connection_context():
        case = _intake()
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "supplement", "reason": reason})
            cases.apply_county_status(case.id, {"status": "completed", "result": "approved", "result_text": result})
            evaluations.apply_remedy(case.id, {"remedy_id": 7, "evaluation_id": "EV1", "status": "closed",
                                               "closing_note": "回访欧阳小红",
                                               "contacts": [{"method": "phone", "said": "欧阳小红接的电话"}]})
        stored = db.execute_sql('SELECT result_text FROM "case" WHERE id = ?', (case.id,)).fetchone()
        lines = db.execute_sql("SELECT message, data FROM timeline_entry WHERE case_id = ?", (case.id,)).fetchall()
        remedy = db.execute_sql("SELECT data FROM remedy").fetchone()
        assert all(value.startswith("enc1:") for value in (*stored, *remedy, *(v for line in lines for v in line)))
        assert Remedy.get().data["contacts"][0]["said"] == "欧阳小红接的电话"
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    data = Path(app.config["DATABASE"]).read_bytes()
    assert "欧阳小红".encode() not in data and b"13722224444" not in data
    page = re.sub(r"<[^>]+>", "", agent.get(f"/cases/{case.id}").get_data(as_text=True))  # the words as read
    assert "办结结果：准予，" + result in page and "回访（电话）：欧阳小红接的电话" in page
    assert "县级平台：补正（请其女儿欧阳小红补交户口簿，电话137****4444" in page


OTHER_BATCH = "WL-OTHER99-20261130-01"  # another station's batch, scanned here from its paper sheet


def test_a_refusal_a_ratings_words_and_a_set_aside_reason_are_stored_sealed_and_shown(app, agent, clerk):
    """Why the county refused a handover, a resident's words in her rating and why the county set an event aside:
    each names the resident's daughter (the county's reason gives her ID number), each written by the code that
    writes it (the push's answers go by plain SQL) — none of it in the file, every page shows the words, lists
    the number masked."""
    from rules.privacy import mask_id_number
    from station.models import Evaluation, TransferHandover
    from station.services import evaluations, transfer_refusals
    from sync.backlog import pending_events
    from sync.push import record_results
    from sync.summary import SyncSummary

    refusal, words = "批次不经过本站：欧阳小红的材料应直接送县", "王代办讲得清楚，我女儿欧阳小红也说好"
    set_aside = f"申请人欧阳小红的身份证号{GOOD_ID}与县级登记不符"
    received = clerk.post("/transfers/receive", data={"code": OTHER_BATCH, "giver": "赵送件", "receiver": "李窗口",
                                                       "place": "东关镇便民服务中心"})
    assert received.status_code == 302, received.get_data(as_text=True)[:2000]
    batch_page = received.headers["Location"]
    with app.app_context(), db.connection_context():
        case = _intake()
        [handover] = TransferHandover.select()
        transfer_refusals.push_refused([{"handover_id": handover.handover_id, "reason": refusal}])
        evaluations.rate_at_kiosk(evaluations.KioskPass(case.id, "case", "agent"), "very_satisfied", "clear", words)
        [queued] = [e for e in pending_events() if e.case_id == case.id][:1]
        record_results([queued], [{"event_id": queued.event_id, "status": protocol.STATUS_REJECTED,
                                   "reason": set_aside}], SyncSummary())
        stored = [*db.execute_sql("SELECT refusal FROM transfer_handover").fetchone(),
                  *db.execute_sql("SELECT reason_text FROM evaluation").fetchone(),
                  *db.execute_sql("SELECT reason FROM outbox_event WHERE state = 'set_aside'").fetchone()]
        assert all(value.startswith("enc1:") for value in stored), stored
        assert (TransferHandover.get().refusal, Evaluation.get().reason_text) == (refusal, words)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    for file in Path(app.config["DATABASE"]).parent.glob("station.sqlite3*"):
        assert "欧阳小红".encode() not in file.read_bytes(), file.name

    batch = re.sub(r"<[^>]+>", "", clerk.get(batch_page).get_data(as_text=True))
    assert f"县级平台未接受：{refusal}" in batch and "现在：在途：由 李窗口" not in batch  # not counted as where they are
    assert "县级平台未接受 1 次交接" in clerk.get("/transfers/").get_data(as_text=True)
    html = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    page = re.sub(r"<[^>]+>", "", re.sub(r'<details class="reveal-number">.*?</details>', "", html, flags=re.S))
    masked = set_aside.replace(GOOD_ID, mask_id_number(GOOD_ID))
    assert words in page and f"被退回，需人工处理：{masked}" in page and GOOD_ID not in html
    shown = agent.post(f"/cases/{case.id}/reveal/number", {"path": "sync_reason/0", "reason": "contact_resident"})
    assert f'<strong class="mono revealed-number">{GOOD_ID}</strong>' in shown.get_data(as_text=True)
    listing = clerk.get("/sync/").get_data(as_text=True)  # a list: masked, revealed only on the case's page
    assert masked in listing and GOOD_ID not in listing


CARD = GOOD_ID + "42"  # a 残疾人证 number is its holder's ID number and two digits


def _licensed_and_certified() -> Case:
    """A case whose 户口簿 stood in as an e-licence numbered CARD, completed by the county with CARD as its certificate."""
    item = item_named("医疗救助申请")
    data = form_for([item], **{"mat__hukou_book__status": "e_license", "mat__hukou_book__elicense": CARD})
    [case] = intake.create_cases([item], intake.check_input([item], data, dt.date.today()),
                                 User.get(User.username == "agent"), allow_duplicate=True)
    with db.atomic():
        cases.apply_county_status(case.id, {"status": "completed", "result": "approved", "certificate_no": CARD})
    return case


def test_licence_numbers_holding_the_id_number_are_stored_sealed_and_shown_masked(app, agent):
    """The county's certificate number and a material's e-licence number (a 残疾人证's holds the ID number): the
    database file shows neither, the case page shows both masked and still tells them apart."""
    from rules.privacy import mask_licence_number
    from station.models import CaseMaterial

    with app.app_context(), db.connection_context():
        case = _licensed_and_certified()
        stored = [*db.execute_sql('SELECT result_certificate_no FROM "case" WHERE id = ?', (case.id,)).fetchone(),
                  *db.execute_sql("SELECT e_license_no FROM case_material WHERE case_id = ? AND key = 'hukou_book'",
                                  (case.id,)).fetchone()]
        assert all(value.startswith("enc1:") for value in stored), stored
        assert Case.get_by_id(case.id).result_certificate_no == CARD
        assert CaseMaterial.get((CaseMaterial.case == case.id) & (CaseMaterial.key == "hukou_book")).e_license_no == CARD
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    for file in Path(app.config["DATABASE"]).parent.glob("station.sqlite3*"):
        assert CARD.encode() not in file.read_bytes(), file.name
    html = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert GOOD_ID not in html
    assert f"证书编号 <span class=\"mono\">{mask_licence_number(CARD)}</span>" in html
    assert f"（{mask_licence_number(CARD)}）" in html  # the material's row


def test_upgrade_to_0030_seals_licence_numbers_already_stored(app):
    """A station before 0030 kept both numbers plain: the upgrade's start seals them, and they read back as stored."""
    from station.models import CaseMaterial

    with app.app_context(), db.connection_context():
        case = _licensed_and_certified()
        db.execute_sql('UPDATE "case" SET result_certificate_no = ?', (CARD,))  # as the release before 0030 stored them
        db.execute_sql("UPDATE case_material SET e_license_no = ? WHERE key = 'hukou_book'", (CARD,))
        db.execute_sql("DELETE FROM schema_migration WHERE name LIKE '0030%'")
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    restarted = create_app(station_test_config(Path(app.config["DATABASE"]).parent), instance_path=app.instance_path)
    with restarted.app_context(), db.connection_context():
        stored = [*db.execute_sql('SELECT result_certificate_no FROM "case" WHERE id = ?', (case.id,)).fetchone(),
                  *db.execute_sql("SELECT e_license_no FROM case_material WHERE key = 'hukou_book'").fetchone()]
        assert all(value.startswith("enc1:") for value in stored), stored
        assert Case.get_by_id(case.id).result_certificate_no == CARD
        assert CaseMaterial.get((CaseMaterial.case == case.id) & (CaseMaterial.key == "hukou_book")).e_license_no == CARD
    database = Path(restarted.config["DATABASE"])
    for path in database.parent.glob(database.name + "*"):  # freed pages zeroed, the WAL truncated
        if ".before-" not in path.name:  # the copy the upgrade made first is the old file, set aside
            assert CARD.encode() not in path.read_bytes(), path.name
