"""Personal data at the county: sealed at rest, masked on every list, found by ID number, shown on purpose."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.common import REPO_ROOT, spawn, stop
from demo.loopback import free_port, local_postgres_dsn, throwaway_schema, wait_for_port
from sync import protocol
from sync.hub import create_app
from sync.hub.cli import WORKER_LOCK, cli
from sync.hub.database import open_database, runner
from sync.hub.extensions import db
from sync.hub.keyring import MissingKeyFile, create_key_file
from sync.hub.models import Appointment, Event, HubCase, HubHomeVisit, Station
from sync.hub.models.access_log import HubAccessLog
from sync.hub.models.users import HubUser
from sync.hub.services import attachments, personal, stations
from sync.hub.services.errors import ValidationError
from sync.instance_lock import hold_lock
from tests.fixtures.config import hub_test_config
from tests.fixtures.hub import SignedStation, case_snapshot

APPLICANT_ID = "110105194912310021"
PROXY_ID = "110105198001010017"


def _case_ids(html: str) -> set[str]:
    return set(re.findall(r'href="/cases/([0-9A-Za-z-]+)"', html))


def test_case_list_finds_a_case_by_id_number_through_its_blind_index(hub_app, approver, station_a, make_event):
    mine, other = make_event(), make_event(payload=case_snapshot(
        case_no="OTHER-1", query_code="Q9Z9Z9", applicant={"name": "李四", "id_number": "11010519800101002X"},
        proxy=None))
    assert {r["status"] for r in station_a.results([mine, other])} == {"accepted"}
    found = _case_ids(approver.get(f"/cases?q={APPLICANT_ID}").get_data(as_text=True))
    assert found == {mine["case_id"]}
    assert _case_ids(approver.get(f"/cases?q={PROXY_ID}").get_data(as_text=True)) == {mine["case_id"]}  # the proxy too
    assert _case_ids(approver.get("/cases?q=11010519800101002x").get_data(as_text=True)) == {other["case_id"]}
    assert _case_ids(approver.get("/cases?q=q9z9z9").get_data(as_text=True)) == {other["case_id"]}  # query code
    assert _case_ids(approver.get("/cases?q=OTHER-1").get_data(as_text=True)) == {other["case_id"]}  # case number
    assert _case_ids(approver.get("/cases?q=110105194912").get_data(as_text=True)) == set()  # exact only, no LIKE
    full_width = APPLICANT_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))  # an input method's digits
    assert _case_ids(approver.get(f"/cases?q={full_width}").get_data(as_text=True)) == {mine["case_id"]}
    with hub_app.app_context():
        stored = HubCase.get(HubCase.case_id == mine["case_id"])
        assert APPLICANT_ID not in json.dumps(stored.snapshot) and APPLICANT_ID not in stored.applicant_id_index


def test_an_id_number_searched_from_the_case_list_never_stands_in_its_address(hub_app, approver, station_a,
                                                                               make_event):
    """The filter form posts; the list it redirects to names an ID number by its blind index only (no browser
    history or proxy log of the county holds it), finds the applicant's and the proxy's cases, and pages on with
    it; a case's own number that reads like an ID number is still searched as typed."""
    mine, other = make_event(), make_event(payload=case_snapshot(
        case_no="OTHER-1", query_code="Q9Z9Z9", hub_case_no=None,
        applicant={"name": "李四", "id_number": "11010519800101002X"}, proxy=None))
    assert {r["status"] for r in station_a.results([mine, other])} == {"accepted"}
    for number in (APPLICANT_ID, PROXY_ID):
        sent = approver.csrf_post("/cases", {"q": f" {number} ", "status": "submitted"}, token_page="/cases")
        address = sent.headers["Location"]
        assert sent.status_code == 302 and "id=" in address and "status=submitted" in address
        assert number not in address and number[:12] not in address
        page = approver.get(address).get_data(as_text=True)
        assert _case_ids(page) == {mine["case_id"]} and number not in page
    assert _case_ids(approver.get("/cases?id=" + "0" * 64).get_data(as_text=True)) == set()
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in APPLICANT_ID)  # a Chinese input method's digits
    address = approver.csrf_post("/cases", {"q": full_width}, token_page="/cases").headers["Location"]
    assert "id=" in address and "q=" not in address
    assert _case_ids(approver.get(address).get_data(as_text=True)) == {mine["case_id"]}
    id_like = make_event(payload=case_snapshot(case_no="141081102201202611", query_code="Q8Z8Z8"))
    assert station_a.results([id_like])[0]["status"] == "accepted"
    for typed in ("OTHER-1", "141081102201202611"):  # the second reads like an ID number: it is a case's number
        address = approver.csrf_post("/cases", {"q": typed}, token_page="/cases").headers["Location"]
        assert f"q={typed}" in address and "id=" not in address
    assert _case_ids(approver.get(address).get_data(as_text=True)) == {id_like["case_id"]}


def test_case_page_masks_numbers_and_reveals_one_on_a_reason(hub_app, approver, station_a, make_event):
    event = make_event()
    station_a.results([event])
    page = f"/cases/{event['case_id']}"
    html = approver.get(page).get_data(as_text=True)
    assert "110105********0021" in html and "138****1234" in html and "显示完整号码" in html
    assert APPLICANT_ID not in html and PROXY_ID not in html and "13800001234" not in html
    refused = approver.csrf_post(f"{page}/reveal", {"field": "applicant_id_number", "reason": "  "}, token_page=page,
                              follow_redirects=True).get_data(as_text=True)
    assert "请填写查看完整号码的原因" in refused and APPLICANT_ID not in refused
    shown = approver.csrf_post(f"{page}/reveal", {"field": "applicant_id_number", "reason": "核对申请人身份"},
                            token_page=page).get_data(as_text=True)
    assert APPLICANT_ID in shown and PROXY_ID not in shown and "13800001234" not in shown  # that one number only
    assert APPLICANT_ID not in approver.get(page).get_data(as_text=True)  # and only on that answer
    with hub_app.app_context(), db.connection_context():
        reveals = list(HubAccessLog.select().where(HubAccessLog.action == "reveal"))
    assert len(reveals) == 1  # the refused one is not a reveal
    assert "核对申请人身份" in reveals[0].detail and "申请人证件号码" in reveals[0].detail
    assert APPLICANT_ID not in reveals[0].detail
    longest = "核" * 200  # as long as the form lets a clerk type: still shown
    shown = approver.csrf_post(f"{page}/reveal", {"field": "applicant_id_number", "reason": longest},
                               token_page=page).get_data(as_text=True)
    assert APPLICANT_ID in shown


def test_case_page_masks_the_numbers_a_form_or_a_note_carries(hub_app, approver, station_a, make_event):
    """A form's contact phone, a relative's ID number and a note's phone: masked like the applicant's."""
    event = make_event(payload=case_snapshot(form_values={"contact_phone": "13655556666",
                                                          "spouse_id": "110105199001010033"}))
    note = make_event(case_id=event["case_id"], seq=2, kind="case.note",
                      payload={"text": "家属代为联系，电话13911113333", "by": "王代办"})
    assert [r["status"] for r in station_a.results([event, note])] == ["accepted", "accepted"]
    html = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    assert "136****6666" in html and "110105********0033" in html and "家属代为联系，电话139****3333" in html
    for plain in ("13655556666", "110105199001010033", "13911113333"):
        assert plain not in html


FORM = {"contact_phone": "13655556666", "spouse_id": "110105199001010033", "insured_grade": "200元",
        "relatives": "父亲电话13911113333，母亲电话13722224444"}
FORM_LABELS = {"contact_phone": "联系人电话", "spouse_id": "配偶身份证号", "insured_grade": "缴费档次",
               "relatives": "亲属联系方式"}


def _form_case(station, make_event) -> str:
    event = make_event(payload=case_snapshot(form_values=FORM, form_labels=FORM_LABELS))
    assert station.results([event])[0]["status"] == "accepted"
    return f"/cases/{event['case_id']}"


def _reveals(hub_app) -> list[HubAccessLog]:
    with hub_app.app_context(), db.connection_context():
        return list(HubAccessLog.select().where(HubAccessLog.action == "reveal"))


def test_a_form_number_is_revealed_one_at_a_time_on_a_reason(hub_app, approver, station_a, make_event):
    """A relative's number on the form: masked, with its own reveal control; shown in full, alone, on a reason."""
    page = _form_case(station_a, make_event)
    html = approver.get(page).get_data(as_text=True)
    assert "139****3333" in html and "137****4444" in html and "110105********0033" in html
    for path in ("form_values/contact_phone/0", "form_values/spouse_id/0", "form_values/relatives/0",
                 "form_values/relatives/1"):
        assert f'name="field" value="{path}"' in html
    assert "form_values/insured_grade" not in html  # no number there, nothing to reveal

    shown = approver.csrf_post(f"{page}/reveal", {"field": "form_values/relatives/1", "reason": "联系申请人母亲"},
                               token_page=page).get_data(as_text=True)
    assert "父亲电话139****3333" in shown and "，母亲电话<strong class=\"mono\">13722224444</strong>" in shown
    for plain in ("13911113333", "13655556666", "110105199001010033", APPLICANT_ID, "13800001234"):
        assert plain not in shown  # that one number only
    assert "13722224444" not in approver.get(page).get_data(as_text=True)  # and only on that answer
    reveals = _reveals(hub_app)
    assert len(reveals) == 1
    assert reveals[0].detail == "理由：联系申请人母亲；显示：表单“亲属联系方式”中的第2个号码"

    shown = approver.csrf_post(f"{page}/reveal", {"field": "form_values/spouse_id/0", "reason": "核对配偶身份"},
                               token_page=page).get_data(as_text=True)
    assert "110105199001010033" in shown and "13722224444" not in shown
    assert _reveals(hub_app)[-1].detail == "理由：核对配偶身份；显示：表单“配偶身份证号”中的号码"


@pytest.mark.parametrize(("field", "reason", "message"), [
    ("form_values/spouse_id/0", "  ", "请填写查看完整号码的原因"),
    # the form stops at 200 characters, a hand-made post does not: the service refuses it
    ("form_values/spouse_id/0", "核对配偶身份" * 34, "查看原因最多 200 个字（现在 204 个），请精简后再提交。"),
    ("form_values/insured_grade/0", "想看", "不能显示该项信息"),  # a field, but not a number
    ("form_values/contact_phone/1", "想看", "不能显示该项信息"),  # the field has one number
    ("form_values/contact_phone/00", "想看", "不能显示该项信息"),
    ("form_values/nobody/0", "想看", "不能显示该项信息"),
    ("form_values/contact_phone", "想看", "不能显示该项信息"),
    ("form_values/../applicant/id_number/0", "想看", "不能显示该项信息"),
    ("applicant/id_number", "想看", "不能显示该项信息"),
])
def test_a_forged_form_path_or_no_reason_shows_nothing(hub_app, approver, station_a, make_event, field, reason,
                                                       message):
    page = _form_case(station_a, make_event)
    refused = approver.csrf_post(f"{page}/reveal", {"field": field, "reason": reason}, token_page=page,
                                 follow_redirects=True).get_data(as_text=True)
    assert message in refused
    for plain in ("13655556666", "110105199001010033", "13911113333", "13722224444", APPLICANT_ID):
        assert plain not in refused
    assert _reveals(hub_app) == []


def test_only_casework_roles_reveal_a_form_number(hub_app, hub_client, approver, station_a, make_event):
    page = _form_case(station_a, make_event)
    token = approver.token(page)
    with hub_app.app_context(), db.connection_context():
        HubUser.update(role="visitor").where(HubUser.username == "clerk").execute()  # a role not in casework
    data = {"field": "form_values/spouse_id/0", "reason": "核对配偶身份", "csrf_token": token}
    refused = approver.client.post(f"{page}/reveal", data=data)
    assert refused.status_code == 403 and "110105199001010033" not in refused.get_data(as_text=True)
    anonymous = hub_client.post(f"{page}/reveal", data={"field": "form_values/spouse_id/0", "reason": "看看"})
    assert anonymous.status_code in (302, 400) and "110105199001010033" not in anonymous.get_data(as_text=True)
    assert _reveals(hub_app) == []


def test_reveal_is_the_one_door_to_a_full_number(hub_app, station_a, make_event):
    """The function the access log hooks into: a reason is required, the value comes back opened."""
    event = make_event()
    station_a.results([event])
    with hub_app.app_context():
        case = HubCase.get(HubCase.case_id == event["case_id"])
        assert personal.reveal(case, "proxy_id_number", "代办人身份存疑", user=None).value == PROXY_ID
        assert personal.reveal(case, "applicant_phone", "联系申请人", user=None).value == "13800001234"
        with pytest.raises(ValidationError, match="原因"):
            personal.reveal(case, "applicant_id_number", "", user=None)
        with pytest.raises(ValidationError):
            personal.reveal(case, "snapshot", "想看", user=None)


def test_conflicts_page_shows_masked_numbers_only(hub_app, approver, station_a, make_event):
    event = make_event()
    station_a.results([event])
    station_a.results([{**event, "payload": {**event["payload"], "case_no": "CHANGED"}}])
    html = approver.get("/conflicts").get_data(as_text=True)
    assert "CHANGED" in html and "110105********0021" in html and "110105********0017" in html
    for plain in (APPLICANT_ID, PROXY_ID, "13800001234", "13900001111", "示范县示范村1号"):
        assert plain not in html


def test_a_fresh_hub_makes_an_owner_only_key_file(hub_app):
    key_file = hub_app.config["KEY_FILE"]
    assert os.path.dirname(key_file) == hub_app.instance_path
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_workers_starting_at_once_share_one_key_ring(tmp_path):
    path = tmp_path / "inst" / "hub.key"
    rings, gate = [], threading.Barrier(8)

    def start() -> None:
        gate.wait()
        rings.append(create_key_file(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({ring.current for ring in rings}) == 1 and len(rings) == 8
    assert [p.name for p in path.parent.iterdir()] == ["hub.key"]  # no temporary files left behind


def test_a_hub_with_sealed_data_refuses_to_start_without_its_key_file(any_hub_app, tmp_path):
    """On PostgreSQL too: the check's LIKE patterns once reached psycopg2 unescaped, whose ``%``
    interpolation answered a lost key file with an IndexError instead of this message."""
    app = any_hub_app
    config = hub_test_config(DATABASE_URL=app.config["DATABASE_URL"])
    with app.app_context():
        stations.create_station("ST01", "甲村")
    app.extensions["hub_db"].close_all()
    os.remove(app.config["KEY_FILE"])
    with pytest.raises(MissingKeyFile, match="找不到密钥文件"):
        create_app(config, Path(app.instance_path))
    assert not os.path.exists(app.config["KEY_FILE"])  # and no new key was made that would hide the loss


def test_a_migrated_hub_without_sealed_data_starts_with_a_new_key_file(any_hub_app):
    """Tables there but nothing sealed in them (a fresh county, its key file not made yet): it starts."""
    app = any_hub_app
    app.extensions["hub_db"].close_all()
    os.remove(app.config["KEY_FILE"])
    again = create_app(hub_test_config(DATABASE_URL=app.config["DATABASE_URL"]), Path(app.instance_path))
    assert os.path.exists(again.config["KEY_FILE"])
    again.extensions["hub_db"].close_all()


def test_an_upgrade_seals_what_was_stored_in_clear(tmp_path):
    """Rows written before 0003 (plain secret, snapshot, body) are sealed by the start that applies it."""
    path = tmp_path / "inst" / "hub.sqlite3"
    path.parent.mkdir()
    old = open_database(None, str(path))
    secret, event = "plain-secret-from-before-the-upgrade-0123456", {"event_id": "e1", "payload": case_snapshot()}
    with old.connection_context():
        runner(old).up("0002_login_security")
        old.execute_sql("INSERT INTO hub_station (code, name, secret, active, created_at, settings, heartbeat) "
                        "VALUES ('ST01', '甲村', ?, 1, '2026-01-01', '{}', '{}')", (secret,))
        old.execute_sql("INSERT INTO hub_case (case_id, station_id, status, last_seq, snapshot, created_at, "
                        "updated_at) VALUES ('c1', 1, 'submitted', 1, ?, '2026-01-01', '2026-01-01')",
                        (json.dumps(case_snapshot(), ensure_ascii=False),))
        old.execute_sql("INSERT INTO hub_event (event_id, station_id, case_id, seq, kind, digest, occurred_at, "
                        "catalog_version, body, received_at) VALUES ('e1', 1, 'c1', 1, 'case.submitted', 'd', "
                        "'2026-01-01', 'v', ?, '2026-01-01')", (json.dumps(event),))
    old.close_all()
    app = create_app(hub_test_config(), tmp_path / "inst")
    with app.app_context():
        raw = [row for table in ("hub_station", "hub_case", "hub_event")
               for row in db.execute_sql(f"SELECT * FROM {table}").fetchall()]
        assert not [row for row in raw if APPLICANT_ID in str(row) or secret in str(row)]
        assert personal.station_secret(Station.get()) == secret
        assert personal.open_body(Event.get().body) == event
        assert HubCase.get_or_none(personal.search_condition(APPLICANT_ID)).case_id == "c1"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_env(request, tmp_path, monkeypatch):
    """The CLI's hub: an instance folder, on SQLite or in a throwaway PostgreSQL schema."""
    for name in ("DATABASE_URL", "SECRET_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL", "HUB_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "inst"))
    if request.param == "sqlite":
        yield tmp_path / "inst"
        return
    with throwaway_schema(local_postgres_dsn(), "hub_rotate") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield tmp_path / "inst"
        db.obj.close_all()


def test_rotate_key_reseals_everything_and_every_record_still_opens(hub_env, make_event):
    app = create_app()
    with app.app_context():
        _station, secret = stations.create_station("ST01", "甲村")
    station = SignedStation(app, "ST01", secret)
    events = [make_event(), make_event()]
    station.results([events[0]])
    station.results([events[1], {**events[1], "payload": {**events[1]["payload"], "case_no": "CHANGED"}}])
    visit = make_event(kind="visit.recorded", payload={
        "visited_on": "2026-11-20", "started_at": "09:30", "staff": "王代办", "purpose": "代办参保", "outcome": "done",
        "resident": {"name": "孙福贵", "phone": "13700002222", "address": "东关村五组3号"}})
    assert station.results([visit])[0]["status"] == "accepted"
    booking = {"appointment_id": protocol.new_id(), "slot_date": "2026-11-23", "slot_start": "09:00",
               "slot_end": "10:00", "name": "赵桂英", "phone": "13912345678", "home_visit": True,
               "address": "东关村三组12号"}
    assert station.post_json("/api/v1/appointments", {"bookings": [booking]}).json["stored"] == 1
    data = b"%PDF-1.4\n" + APPLICANT_ID.encode() + os.urandom(1000)
    sha = protocol.sha256_hex(data)
    with app.app_context():
        attachments.put_chunk(app.config["ATTACHMENT_DIR"], Station.get(), sha, start=0, end=len(data) - 1,
                              total=len(data), data=data, max_bytes=10 ** 7)
    old_ring = app.extensions["hub_key_ring"]
    with app.app_context():
        before = {e.event_id: e.body for e in Event.select()}

    result = CliRunner().invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "重新加密" in result.output and "办件 2 件" in result.output and "附件 1 个" in result.output
    assert "预约 1 个" in result.output and "上门服务 1 次" in result.output

    fresh = create_app()  # a worker started after the rotation reads the new key file
    ring = fresh.extensions["hub_key_ring"]
    assert ring.current != old_ring.current and list(ring.keys) == [ring.current]  # the old key is gone
    with fresh.app_context():
        for stored in Event.select():
            assert stored.body != before[stored.event_id]
            assert personal.open_body(stored.body)["event_id"] == stored.event_id
        for event in events:
            case = HubCase.get(personal.search_condition(APPLICANT_ID) & (HubCase.case_id == event["case_id"]))
            assert personal.open_snapshot(case.snapshot)["applicant"]["id_number"] == APPLICANT_ID
        assert {c.case_id for c in HubCase.select().where(personal.search_condition(PROXY_ID))} == {
            e["case_id"] for e in events}
        assert attachments.read_plain(attachments.blob_path(fresh.config["ATTACHMENT_DIR"], sha)) == data
        assert personal.station_secret(Station.get()) == secret
        stored = HubHomeVisit.get()
        assert [ring.unseal(stored.resident_name_stored), ring.unseal(stored.address_stored)] == ["孙福贵", "东关村五组3号"]
        kept = Appointment.get(Appointment.phone_index.in_(ring.blind_indexes("13912345678")))
        assert [ring.unseal(kept.name_stored), ring.unseal(kept.address_stored)] == ["赵桂英", "东关村三组12号"]
    again = SignedStation(fresh, "ST01", secret)  # the station's signed requests still verify
    assert again.results([make_event(case_id=events[0]["case_id"], seq=2, kind="case.note")])[0]["status"] == "accepted"


@pytest.mark.parametrize("hub_env", ["sqlite"], indirect=True)
def test_rotate_key_waits_for_this_hubs_workers_and_they_for_it(hub_env):
    """A worker holds the old key in memory: rotating under it would leave what it seals next unreadable."""
    create_app()  # the hub, as `init` leaves it
    key_file = hub_env / "hub.key"
    before = key_file.read_bytes()
    port = free_port()
    worker = spawn(["-m", "sync.hub", "run", "--port", str(port)])
    try:
        wait_for_port(port, timeout=60, proc=worker)
        refused = CliRunner().invoke(cli, ["rotate-key"])
        assert refused.exit_code == 1
        assert "工作进程仍在运行" in refused.output and "没有做任何改动" in refused.output
        assert key_file.read_bytes() == before  # no new key made, nothing sealed again
    finally:
        stop(worker)
    with hold_lock(hub_env / WORKER_LOCK):  # a rotation under way: a worker started now does not serve
        late = subprocess.run([sys.executable, "-m", "sync.hub", "run", "--port", str(free_port())],
                              capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert late.returncode == 1 and "正在更换密钥" in late.stderr, late.stderr[-2000:]
    rotated = CliRunner().invoke(cli, ["rotate-key"])  # the worker stopped: the rotation runs
    assert rotated.exit_code == 0, rotated.output
    assert key_file.read_bytes() != before


NOTE = "已电话联系申请人之子13911113333，其身份证110105199001010033，下周补交"


def _noted_case(station, make_event) -> str:
    submitted = make_event()
    note = make_event(case_id=submitted["case_id"], seq=2, kind="case.note", payload={"text": NOTE, "by": "agent"})
    assert [r["status"] for r in station.results([submitted, note])] == ["accepted", "accepted"]
    return f"/cases/{submitted['case_id']}"


def test_a_number_in_a_station_note_is_masked_and_revealed_alone_on_a_reason(hub_app, approver, station_a,
                                                                            make_event):
    page = _noted_case(station_a, make_event)
    html = approver.get(page).get_data(as_text=True)
    notes = html[html.index('id="station-notes"'):]
    assert "139****3333" in notes and "110105********0033" in notes
    assert 'value="notes/2/0"' in notes and 'value="notes/2/1"' in notes
    shown = approver.csrf_post(f"{page}/reveal", {"field": "notes/2/1", "reason": "核对补交人身份"},
                               token_page=page).get_data(as_text=True)
    assert '<strong class="mono">110105199001010033</strong>' in shown
    assert "13911113333" not in shown  # the other number of the note stays masked
    assert "110105199001010033" not in approver.get(page).get_data(as_text=True)
    assert _reveals(hub_app)[-1].detail == "理由：核对补交人身份；显示：服务站备注（第2条事件）中的第2个号码"


@pytest.mark.parametrize("field", ["notes/2/2", "notes/1/0", "notes/3/0", "notes/02/0", "notes/2", "notes/x/0",
                                   "notes/9999999999/0", "notes/2/01"])
def test_a_forged_note_path_shows_nothing(hub_app, approver, station_a, make_event, field):
    page = _noted_case(station_a, make_event)
    refused = approver.csrf_post(f"{page}/reveal", {"field": field, "reason": "想看"}, token_page=page,
                                 follow_redirects=True).get_data(as_text=True)
    assert "不能显示该项信息" in refused
    assert "13911113333" not in refused and "110105199001010033" not in refused
    assert _reveals(hub_app) == []


CARD = APPLICANT_ID + "42"  # a 残疾人证 number: its holder's ID number and two digits
POSTAL = "示范县东关镇槐树坪村七组甲23号"
SON_PHONE = "13911113333"


def _case_carrying_more_than_its_people(hub_app, station, make_event) -> str:
    """A case whose form holds numbers, whose 残疾人证 stood in as an e-licence, answered a 补正 with a note giving
    a number, had a promise go unkept and papers handed over with notes, and was posted to her address."""
    from rules import events
    from sync.hub.services import decisions

    licensed = {"key": "disability_cert", "name": "残疾人证", "status": "e_license", "due_date": None,
                "e_license_no": CARD, "licence": {"kind": "残疾人证", "number": CARD, "issuer": "示范县残疾人联合会"}}
    materials = [*case_snapshot()["materials"], licensed]
    first = make_event(payload=case_snapshot(form_values=FORM, form_labels=FORM_LABELS, materials=materials,
                                             pickup_method="post"))
    case_id = first["case_id"]
    assert station.results([first])[0]["status"] == "accepted"
    with hub_app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="supplement", supplement_keys=("hukou_book",)),
                         clerk="县级张")
    later = [
        (events.SUPPLEMENTED, {"supplied": [{"key": "hukou_book", "name": "居民户口簿", "supplied_as": "original_seen",
                                             "note": f"其子{SON_PHONE}送来"}], "materials": materials,
                               "supplied_at": "2026-11-22T10:00:00+08:00"}),
        (events.COMMITMENT_UNKEPT, {"key": "photo", "name": "照片", "due_date": "2026-11-25",
                                    "note": f"电话{SON_PHONE}无人接", "materials": materials}),
        (events.ORIGINALS_HANDOVER, {"batch_no": "WL-ST-A-20261126-01", "handover": 1, "giver": "王代办",
                                     "receiver": "李窗口", "at": "2026-11-26T09:00:00+08:00", "items": [],
                                     "note": f"其子{SON_PHONE}在场"}),
        (events.DELIVERED, {"method": "post", "delivered_on": "2026-11-30", "ems_no": "EA123456789CN",
                            "address": POSTAL, "receiver": "张三"}),
    ]
    for seq, (kind, payload) in enumerate(later, start=2):
        assert station.results([make_event(case_id=case_id, seq=seq, kind=kind, payload=payload)])[0]["status"] \
            == "accepted", kind
    return case_id


def test_what_a_case_carries_beyond_its_people_is_not_kept_in_clear(hub_app, approver, station_a, make_event):
    """A form's numbers, an e-licence number, the address the result was posted to and the numbers in the notes of
    a 补正 answer, an unkept promise and a handover: none of them in the case's row; the case page shows each as
    before (numbers masked, the postal address in full), the resident's page still tells the 补正 was answered
    and the result posted."""
    case_id = _case_carrying_more_than_its_people(hub_app, station_a, make_event)
    with hub_app.app_context(), db.connection_context():
        [(stored,)] = db.execute_sql("SELECT snapshot FROM hub_case WHERE case_id = ?", (case_id,)).fetchall()
        assert HubCase.get(HubCase.case_id == case_id).status == "supplement"
    secrets = (CARD, POSTAL, SON_PHONE, FORM["spouse_id"], FORM["contact_phone"], "13722224444")
    assert [s for s in secrets if s in str(stored)] == []
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert [s for s in secrets if s in page] == [POSTAL]  # the address the result went to, on the case page
    for shown in ("电子证照：残疾人证 110105**********2142", "证照 110105**********2142", "其子139****3333送来",
                  "电话139****3333无人接", "136****6666"):
        assert shown in page, shown
    public = hub_app.test_client().get("/q/K7P2QX").get_data(as_text=True)
    assert "已补交补正材料" in public and "邮件号：EA123456789CN" in public  # read from the sealed parts


def test_a_certificate_number_holding_the_id_number_is_sealed_at_rest_and_reaches_the_station_whole(
        hub_app, approver, station_a, make_event):
    """The county grants a 残疾人证 and types its number (her ID number and two digits): not in the decision's row
    nor in the change waiting for the station; the station's feed carries it whole, the case page masked."""
    from sync.hub.services import decisions

    event = make_event()
    assert station_a.results([event])[0]["status"] == "accepted"
    with hub_app.app_context():
        decisions.decide(event["case_id"], decisions.DecisionInput(kind="accepted"), clerk="县级张")
        decisions.decide(event["case_id"], decisions.DecisionInput(kind="completed", result="approved",
                                                                   certificate_no=CARD), clerk="县级张")
    with hub_app.app_context(), db.connection_context():
        rows = [str(row) for table in ("hub_decision", "hub_change")
                for row in db.execute_sql(f"SELECT * FROM {table}").fetchall()]
    assert len(rows) >= 4 and [row for row in rows if CARD in row] == []
    *_, completed = station_a.changes().json["changes"]
    assert completed["payload"]["certificate_no"] == CARD
    page = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    assert "证书编号：110105**********2142" in page and CARD not in page


def _booking_with_a_note(station) -> str:
    booking = {"appointment_id": protocol.new_id(), "slot_date": "2026-11-23", "slot_start": "09:00",
               "slot_end": "10:00", "name": "赵桂英", "phone": "13912345678", "note": f"其子{SON_PHONE}陪同"}
    assert station.post_json("/api/v1/appointments", {"bookings": [booking]}).json["stored"] == 1
    return booking["appointment_id"]


def test_a_bookings_note_is_sealed_at_rest(hub_app, station_a):
    """A booking's note gives her son's number: sealed in the row as at the station, read back whole."""
    appointment_id = _booking_with_a_note(station_a)
    with hub_app.app_context(), db.connection_context():
        [(stored,)] = db.execute_sql("SELECT note FROM hub_appointment").fetchall()
        assert stored.startswith("enc1:") and SON_PHONE not in stored
        assert Appointment.get(Appointment.appointment_id == appointment_id).note == f"其子{SON_PHONE}陪同"


def test_an_upgrade_to_0032_seals_what_a_case_carried_in_clear(tmp_path, make_event):
    """A hub before 0032 kept a snapshot's parts, its e-licence numbers, a certificate number, a home visit's
    words and a booking's note plain: the start that applies 0032 seals them, and every page and the station's feed read them as before."""
    from sync.hub.services import decisions, home_visits

    app = create_app(hub_test_config(), tmp_path / "inst")
    with app.app_context():
        _station, secret = stations.create_station("ST-A", "甲村便民服务站")
    station = SignedStation(app, "ST-A", secret)
    case_id = _case_carrying_more_than_its_people(app, station, make_event)
    visit = make_event(kind="visit.recorded", payload={
        "visited_on": "2026-11-20", "started_at": "09:30", "staff": "王代办", "outcome": "done",
        "purpose": f"代办参保，其子电话{SON_PHONE}", "resident": {"name": "孙福贵", "phone": "13700002222"}})
    assert station.results([visit])[0]["status"] == "accepted"
    _booking_with_a_note(station)
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")
        decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved", certificate_no=CARD),
                         clerk="县级张")
    with app.app_context(), db.connection_context():  # as the release before 0032 stored them
        case = HubCase.get(HubCase.case_id == case_id)
        plain = personal.open_snapshot(case.snapshot)
        kept_people = {k: v for k, v in case.snapshot.items() if k in personal.PEOPLE}
        db.execute_sql("UPDATE hub_case SET snapshot = ? WHERE id = ?",
                       (json.dumps({**plain, **kept_people}, ensure_ascii=False), case.id))
        db.execute_sql("UPDATE hub_decision SET certificate_no = ? WHERE certificate_no IS NOT NULL", (CARD,))
        for change_id, payload in db.execute_sql("SELECT id, payload FROM hub_change WHERE kind = 'case.status'"):
            if "certificate_no" in payload:
                db.execute_sql("UPDATE hub_change SET payload = ? WHERE id = ?",
                               (json.dumps({**json.loads(payload), "certificate_no": CARD}), change_id))
        db.execute_sql("UPDATE hub_home_visit SET purpose = ?", (f"代办参保，其子电话{SON_PHONE}",))
        db.execute_sql("UPDATE hub_appointment SET note = ?", (f"其子{SON_PHONE}陪同",))
        db.execute_sql("DELETE FROM hub_schema_migration WHERE name LIKE '0032%'")
        assert CARD in str(db.execute_sql("SELECT snapshot FROM hub_case").fetchall())
    db.obj.close_all()

    upgraded = create_app(hub_test_config(), tmp_path / "inst")
    with upgraded.app_context(), db.connection_context():
        rows = [str(row) for table in ("hub_case", "hub_decision", "hub_change", "hub_home_visit", "hub_appointment")
                for row in db.execute_sql(f"SELECT * FROM {table}").fetchall()]
        assert [s for s in (CARD, POSTAL, SON_PHONE, FORM["spouse_id"]) if any(s in row for row in rows)] == []
        opened = personal.open_snapshot(HubCase.get(HubCase.case_id == case_id).snapshot)
        assert opened["delivery"]["address"] == POSTAL and opened["form_values"] == FORM
        assert opened["materials"][-1]["licence"]["number"] == CARD
        assert home_visits.opened(HubHomeVisit.get().purpose) == f"代办参保，其子电话{SON_PHONE}"
        assert Appointment.get().note == f"其子{SON_PHONE}陪同"
    again = SignedStation(upgraded, "ST-A", secret)
    *_, completed = again.changes().json["changes"]
    assert completed["payload"]["certificate_no"] == CARD
