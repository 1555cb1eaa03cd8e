"""Exactly once, in order, whatever happens on the way: station ↔ real hub over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peewee import fn

from station.extensions import db
from station.models import Case
from sync import state
from sync.outbox import OutboxEvent, case_sync_state
from tests.fixtures.e2e import assert_exactly_once, hub_events, queue_cases, station_events, sync

pytestmark = pytest.mark.slow


def pdf_noise(size: int) -> bytes:
    """Random bytes for a scan's body, without a "/" so they never spell a PDF name such as /JS.

    (Random bytes held /JS about once in eight runs, and the station rightly refuses a PDF with JavaScript.)
    """
    return os.urandom(size).replace(b"/", b"_")


def test_thousand_cases_queued_offline_arrive_exactly_once(linked, hub, faults):
    faults.down = True
    queue_cases(linked, 1000)
    down = sync(linked)
    assert down.error and down.queue_left == 1000
    with linked.app_context(), db.connection_context():
        assert state.get_value(state.LINK_STATE) == "unreachable"
    faults.down = False
    summary = sync(linked)
    assert not summary.error, summary.error
    assert summary.acknowledged == 1000 and summary.queue_left == 0
    assert summary.batches >= 4  # bounded batches (100, 200, 400, … up to 500), not one giant request
    assert_exactly_once(linked, hub)


def test_500_in_the_middle_of_the_backlog(linked, hub, faults):
    queue_cases(linked, 450)
    faults.fail_before = 0
    first = sync(linked)  # fine: 3 batches
    assert not first.error
    ids = queue_cases(linked, 450)
    # The 500 goes to the batch that holds this case, whatever order the batches in flight reach
    # the hub in: the second of the first three batches of 100 (the first is answered and recorded).
    target = ids[150].encode()
    hit = {"n": 0}
    original = faults.app

    def flaky(environ, start_response):  # noqa: ANN001, ANN202
        if environ["PATH_INFO"] == "/api/v1/events":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            if not hit["n"] and target in gzip.decompress(body):
                hit["n"] += 1
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
                return [b"boom"]
        return original(environ, start_response)

    faults.app = flaky
    broken = sync(linked)
    assert hit["n"] == 1
    assert broken.error and 0 < broken.queue_left < 450
    # the hub's own failure, not "a portal or proxy": the county's IT person is sent to the hub's log
    assert "县级平台（或途中的代理）出错（HTTP 500）" in broken.error and "运行日志" in broken.error
    with linked.app_context(), db.connection_context():
        assert state.get_value(state.LINK_STATE) == "unreachable"  # an unsigned 500 is not the hub's word
        hit_case = OutboxEvent.get(OutboxEvent.case_id == ids[150])
        assert (hit_case.state, hit_case.attempts) == ("queued", 1)  # tried, not lost, not acked
        assert OutboxEvent.get(OutboxEvent.case_id == ids[0]).state == "acked"  # the batch before it counts
    faults.app = original
    assert not sync(linked).error
    assert_exactly_once(linked, hub)


def test_hub_commits_but_the_reply_is_lost(linked, hub, faults):
    queue_cases(linked, 30)
    faults.drop_after = 1
    lost = sync(linked)
    assert lost.error
    assert len(hub_events(hub)) == 30  # the hub has them …
    assert all(state == "queued" for *_r, state in station_events(linked))  # … the station does not know
    with linked.app_context(), db.connection_context():
        # … but the case page tells the agent it went out and waits for the county's word
        assert {case_sync_state(e.case_id)["label"] for e in OutboxEvent.select()} == {"已发送，等待县级确认"}
        assert {e.attempts for e in OutboxEvent.select()} == {1}
    again = sync(linked)
    assert again.duplicates == 30 and again.queue_left == 0
    assert_exactly_once(linked, hub)
    with linked.app_context(), db.connection_context():
        assert {(e.attempts, e.result) for e in OutboxEvent.select()} == {(2, "duplicate")}
        assert {case_sync_state(e.case_id)["label"] for e in OutboxEvent.select()} == {"县级已确认接收"}


def test_a_conflict_answered_by_the_hub_is_set_aside_shown_and_never_resent(linked, hub, faults, clerk):
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Conflict
    from sync.hub.services import personal

    [case_id] = queue_cases(linked, 1)
    faults.drop_after = 1
    assert sync(linked).error  # the hub stored the event; its answer was lost
    with linked.app_context(), db.connection_context():
        event = OutboxEvent.get(OutboxEvent.case_id == case_id)
        # the station's copy is no longer what the hub holds (say, rewritten by a faulty upgrade)
        event.payload = {**event.payload, "case_no": "REWRITTEN"}
        event.save()
    summary = sync(linked)
    assert (summary.conflicts, summary.acknowledged, summary.error) == (1, 0, "")
    with linked.app_context(), db.connection_context():
        kept = OutboxEvent.get_by_id(event.id)
        assert (kept.state, kept.result) == ("set_aside", "conflict") and kept.reason
        assert case_sync_state(case_id)["state"] == "set_aside"
    with hub.app.app_context(), hub_db.connection_context():
        assert [personal.open_body(c.body)["payload"]["case_no"] for c in Conflict.select()] == ["REWRITTEN"]

    page = clerk.get("/sync/").get_data(as_text=True)
    [row] = [row for row in page.split("<tr>") if case_id in row]
    assert "内容冲突，需县级核对" in row and "重新发送" not in row
    answer = clerk.post(f"/sync/events/{event.event_id}/requeue", follow_redirects=True).get_data(as_text=True)
    assert "原样重发会再次冲突" in answer
    again = sync(linked)
    assert (again.pushed, again.conflicts, again.error) == (0, 0, "")
    with linked.app_context(), db.connection_context():
        assert OutboxEvent.get_by_id(event.id).state == "set_aside"
    with hub.app.app_context(), hub_db.connection_context():
        assert Conflict.select().count() == 1


def test_same_batch_delivered_twice_changes_nothing(linked, hub):
    from sync import protocol
    from sync.outbox import OutboxEvent as Ev
    from sync.transport import HubClient, HubLink

    queue_cases(linked, 5)
    with linked.app_context(), db.connection_context():
        client = HubClient(HubLink.stored())
        events = [e.envelope() for e in Ev.select().order_by(Ev.id)]
        body = protocol.encode_body({"protocol": 1, "station": client.link.station_code,
                                     "batch_id": protocol.new_id(), "events": events})
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        _s, first = client.call("POST", "/api/v1/events", body, headers=headers)
        _s, second = client.call("POST", "/api/v1/events", body, headers=headers)
    assert {r["status"] for r in first["results"]} == {"accepted"}
    assert {r["status"] for r in second["results"]} == {"duplicate"}
    assert len(hub_events(hub)) == 5
    sync(linked)
    assert_exactly_once(linked, hub)


def test_station_killed_between_sending_and_recording_the_ack(linked, hub, tmp_path):
    queue_cases(linked, 20)
    script = tmp_path / "crash.py"
    script.write_text(
        "import os, sys\n"
        "from sync import push\n"
        "def crash(self, batch, results, summary):\n"
        "    os._exit(9)  # power cut: the hub answered, nothing was recorded\n"
        "push.Pusher._record_results = crash\n"
        "from station.cli import cli\n"
        "cli(['sync', '--once'])\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), STATION_DATABASE=linked.config["DATABASE"],
               STATION_ATTACHMENT_DIR=linked.config["ATTACHMENT_DIR"], STATION_KEY_FILE=linked.config["KEY_FILE"],
               STATION_SECRET_KEY="x")
    result = subprocess.run([sys.executable, str(script)], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, timeout=120)
    assert result.returncode == 9, result.stderr.decode()[-2000:]
    assert len(hub_events(hub)) == 20
    assert all(state == "queued" for *_r, state in station_events(linked))
    summary = sync(linked)
    assert summary.duplicates == 20
    assert_exactly_once(linked, hub)


def test_station_upgraded_with_events_still_queued(linked, hub, tmp_path):
    from station import create_app
    from station.config import TestConfig

    queue_cases(linked, 10)
    with linked.app_context(), db.connection_context():
        # put the database back where the previous release left it: outbox rows present, the
        # outbox migration not yet recorded under its new name
        db.execute_sql("DELETE FROM schema_migration WHERE name = '0002_outbox'")
        db.execute_sql("ALTER TABLE outbox_event RENAME TO outbox_event_old")
    # simulate the old release: the table is created by the upgrade and the old rows carried over
    config = TestConfig.with_overrides(DATABASE=linked.config["DATABASE"], ATTACHMENT_DIR=linked.config["ATTACHMENT_DIR"],
                                      KEY_FILE=linked.config["KEY_FILE"])
    upgraded = create_app(config, instance_path=str(tmp_path / "instance2"))
    with upgraded.app_context(), db.connection_context():
        db.execute_sql("INSERT INTO outbox_event SELECT * FROM outbox_event_old")
        db.execute_sql("DROP TABLE outbox_event_old")
        assert OutboxEvent.select().where(OutboxEvent.state == "queued").count() == 10
    assert not sync(upgraded).error
    assert_exactly_once(upgraded, hub)


def test_a_station_linked_and_queued_on_release_0004_upgrades_and_syncs(hub, tmp_path):
    """A station in the field: linked and with events queued when its sync bookkeeping lived in `setting`.

    The database is built by today's code (users, intake and outbox as they are now), then its sync
    bookkeeping is put back the way release 0004 kept it (`sync.*` rows in `setting`, no `sync_state`,
    0005 not applied), so the test keeps working as later migrations add columns to other tables.
    """
    from demo.loopback import register_station
    from station import create_app
    from station.config import TestConfig
    from station.models import Setting
    from tests.fixtures.e2e import STATION_CODE
    from tests.fixtures.station import make_station_app

    old = make_station_app(tmp_path)
    secret = register_station(hub.app, STATION_CODE, "东关村便民服务站")
    ids = queue_cases(old, 12)  # the intake wrote these outbox rows
    with old.app_context(), db.connection_context():
        # what 0004's `python -m station link` and a failed round left behind, key by key
        for key, value in {"sync.hub_url": hub.url, "sync.station_code": STATION_CODE, "sync.secret": secret,
                           "sync.link_state": "down", "sync.interval_seconds": "90"}.items():
            db.execute_sql("INSERT INTO setting (key, value, updated_at) VALUES (?, ?, '2026-11-01 09:00:00')",
                           (key, value))
        db.execute_sql("DROP TABLE sync_state")
        db.execute_sql("DELETE FROM schema_migration WHERE name = '0005_sync_state'")

    config = TestConfig.with_overrides(DATABASE=old.config["DATABASE"], ATTACHMENT_DIR=old.config["ATTACHMENT_DIR"],
                                      KEY_FILE=old.config["KEY_FILE"])
    upgraded = create_app(config, instance_path=str(tmp_path / "instance-new"))
    with upgraded.app_context(), db.connection_context():
        assert OutboxEvent.select().where(OutboxEvent.state == "queued").count() == 12
        assert state.interval_seconds() == "90"
        assert state.get_value(state.LINK_STATE) == "unreachable"  # the old catch-all "down" keeps its meaning
        assert not Setting.select().where(Setting.key.startswith("sync.")).exists()  # moved, not copied
    summary = sync(upgraded)
    assert not summary.error, summary.error
    assert summary.acknowledged == 12
    assert {case_id for _e, case_id, _s in hub_events(hub)} == set(ids)
    assert_exactly_once(upgraded, hub)


def test_station_clock_five_days_wrong_still_syncs(linked, hub):
    queue_cases(linked, 3)
    wrong = lambda: time.time() - 5 * 86400  # noqa: E731 - a village PC with a stale CMOS battery
    summary = sync(linked, clock=wrong)
    assert not summary.error, summary.error
    with linked.app_context(), db.connection_context():
        offset = float(state.get_value(state.CLOCK_OFFSET))
    assert abs(offset - 5 * 86400) < 60
    assert_exactly_once(linked, hub)


def test_captive_portal_200_is_never_an_ack(linked, hub, faults):
    queue_cases(linked, 4)
    faults.portal = True
    summary = sync(linked)
    assert summary.error and "签名验证" in summary.error  # the portal's page is not the county's answer
    assert all(state == "queued" for *_r, state in station_events(linked))
    faults.portal = False
    assert not sync(linked).error
    assert_exactly_once(linked, hub)


def test_backlog_goes_out_most_urgent_deadline_first(linked, hub):
    from sync.backlog import pending_batches

    ids = queue_cases(linked, 6)
    with linked.app_context(), db.connection_context():
        far = dt.date.today() + dt.timedelta(days=40)
        OutboxEvent.update(deadline=far).execute()
        OutboxEvent.update(deadline=dt.date.today()).where(OutboxEvent.case_id == ids[4]).execute()
        [first_batch] = pending_batches(max_events=100, max_bytes=10**7)
        assert first_batch[0].case_id == ids[4]
        small = pending_batches(max_events=2, max_bytes=10**7)
        assert small[0][0].case_id == ids[4] and len(small) == 3


def test_rejected_event_is_set_aside_and_blocks_only_its_own_case(linked, hub):
    from sync.backlog import pending_batches

    ids = queue_cases(linked, 3)
    with linked.app_context(), db.connection_context():
        bad = OutboxEvent.get(OutboxEvent.case_id == ids[0])
        bad.kind = "case.teleported"  # a kind the county does not know
        bad.save()
        from station.models import User
        from station.services.cases import add_note

        add_note(Case.get_by_id(ids[0]), User.get(User.username == "agent"), "后续备注")
    summary = sync(linked)
    assert summary.rejected == 1
    with linked.app_context(), db.connection_context():
        states = {(e.case_id, e.seq): e.state for e in OutboxEvent.select()}
        assert states[(ids[0], 1)] == "set_aside"
        assert states[(ids[0], 2)] == "queued"  # held back behind its own case's bad event
        assert states[(ids[1], 1)] == "acked" and states[(ids[2], 1)] == "acked"
        assert all(e.case_id != ids[0] for batch in pending_batches(100, 10**7) for e in batch)
        reason = OutboxEvent.get((OutboxEvent.case_id == ids[0]) & (OutboxEvent.seq == 1)).reason
        assert reason  # a Chinese reason a person can act on


def test_county_decisions_of_each_kind_show_on_the_station_after_one_pull(linked, hub, agent):
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    ids = queue_cases(linked, 4)
    assert not sync(linked).error
    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(ids[0], decisions.DecisionInput(kind="accepted", hub_case_no="HUB-2026-0001"), clerk="县级张")
        decisions.decide(ids[1], decisions.DecisionInput(kind="supplement", supplement_keys=("hukou_book",),
                                                         reason="户口簿复印件不清晰"), clerk="县级张")
        decisions.decide(ids[2], decisions.DecisionInput(kind="rejected", reason="不符合申领年龄条件"), clerk="县级张")
        decisions.decide(ids[3], decisions.DecisionInput(kind="accepted"), clerk="县级张")
        decisions.decide(ids[3], decisions.DecisionInput(kind="completed", result="approved",
                                                         result_text="自2026年12月起发放"), clerk="县级张")
    summary = sync(linked)
    assert summary.pulled == 5  # one change per decision
    with linked.app_context(), db.connection_context():
        cases = {c.id: c for c in Case.select().where(Case.id.in_(ids))}
        assert cases[ids[0]].status == "accepted" and cases[ids[0]].hub_case_no == "HUB-2026-0001"
        assert cases[ids[1]].status == "supplement" and cases[ids[1]].supplement_items
        assert cases[ids[2]].status == "rejected" and "年龄" in cases[ids[2]].status_reason
        assert cases[ids[3]].status == "completed" and cases[ids[3]].result == "approved"
        cursor = int(state.get_value(state.CURSOR))
    from sync.hub.models import Change

    with hub.app.app_context(), hub_db.connection_context():
        assert cursor == Change.select(fn.MAX(Change.id)).scalar()  # stored up to the last change applied
    page = agent.get(f"/cases/{ids[1]}").get_data(as_text=True)
    assert "待补正" in page and "户口簿" in page
    assert sync(linked).pulled == 0  # the cursor was stored with the changes


def test_attachments_are_uploaded_once(linked, hub):
    from station.models import User
    from station.services.attachments import add_attachment

    ids = queue_cases(linked, 2)
    data = b"%PDF-1.4\n" + pdf_noise(600 * 1024)
    with linked.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for case_id in ids:  # the same scan on two cases: stored and uploaded once
            add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", data, linked.config["ATTACHMENT_DIR"],
                           10 * 1024 * 1024)
    summary = sync(linked)
    assert not summary.error, summary.error
    assert summary.attachments_uploaded == 1
    assert sync(linked).attachments_uploaded == 0
    assert_exactly_once(linked, hub)
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import AttachmentLink, HubCase

    with hub.app.app_context(), hub_db.connection_context():  # what the county clerk sees on each case
        for case_id in ids:
            links = AttachmentLink.select().where(AttachmentLink.case_id == case_id)
            assert [a.filename for a in links] == ["户口簿.pdf"]
            snapshot = HubCase.get(HubCase.case_id == case_id).snapshot
            assert [a["filename"] for a in snapshot["attachments"]] == ["户口簿.pdf"]


@pytest.fixture
def scans_never_read_whole(linked, monkeypatch):  # noqa: ANN001, ANN201
    """Fail whatever reads a stored scan of the station whole (the file, or more than a chunk unsealed at once).

    The upload reads and unseals each scan piece by piece: one chunk in memory, whatever the scan's size.
    (The same ring unseals the outbox's event payloads, a few KiB each: those it may.)
    """
    from station import keys
    from sync.file_upload import CHUNK_BYTES

    root = Path(linked.config["ATTACHMENT_DIR"]).resolve()
    read_bytes = Path.read_bytes
    with linked.app_context():
        ring = keys.ring()  # the station's, not the hub's
    unseal_bytes = ring.unseal_bytes

    def refuse_scans(path: Path) -> bytes:
        if root in Path(path).resolve().parents:
            raise AssertionError(f"a stored scan was read whole: {path}")
        return read_bytes(path)

    def refuse_whole_unseal(blob: bytes) -> bytes:
        if len(blob) > CHUNK_BYTES:
            raise AssertionError(f"{len(blob)} sealed bytes were opened at once")
        return unseal_bytes(blob)

    monkeypatch.setattr(Path, "read_bytes", refuse_scans)
    monkeypatch.setattr(ring, "unseal_bytes", refuse_whole_unseal)


def test_an_upload_cut_after_its_first_chunk_resumes_where_it_stopped(linked, hub, faults, scans_never_read_whole):
    from station.models import User
    from station.services.attachments import add_attachment
    from sync.file_upload import CHUNK_BYTES
    from sync.hub.extensions import db as hub_db
    from sync.hub.services.attachments import blob_path, read_plain

    [case_id] = queue_cases(linked, 1)
    data = b"%PDF-1.4\n" + pdf_noise(2 * CHUNK_BYTES + 1000)  # three chunks
    total = len(data)
    with linked.app_context(), db.connection_context():
        add_attachment(Case.get_by_id(case_id), User.get(User.username == "agent"), "户口簿.pdf", data,
                       linked.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
    faults.uploads_before_cut = 1
    assert sync(linked).error  # the link died after the first chunk
    assert faults.uploads == [(f"bytes 0-{CHUNK_BYTES - 1}/{total}", CHUNK_BYTES)]
    assert {state for *_r, state in station_events(linked)} == {"queued"}  # the case waits for its file
    faults.uploads_before_cut, faults.uploads = None, []
    summary = sync(linked)
    assert not summary.error and summary.attachments_uploaded == 1
    # only the bytes the hub did not hold yet went out the second time
    assert faults.uploads == [(f"bytes {CHUNK_BYTES}-{2 * CHUNK_BYTES - 1}/{total}", CHUNK_BYTES),
                              (f"bytes {2 * CHUNK_BYTES}-{total - 1}/{total}", total - 2 * CHUNK_BYTES)]
    sha = hashlib.sha256(data).hexdigest()
    with hub.app.app_context(), hub_db.connection_context():
        assert read_plain(blob_path(hub.app.config["ATTACHMENT_DIR"], sha)) == data  # stored sealed
    assert_exactly_once(linked, hub)


def test_a_scan_stored_before_sealing_existed_still_uploads_in_pieces(linked, hub, faults, scans_never_read_whole):
    from station.models import User
    from station.services.attachments import add_attachment, blob_path
    from sync.file_upload import CHUNK_BYTES
    from sync.hub.extensions import db as hub_db
    from sync.hub.services.attachments import blob_path as hub_blob_path
    from sync.hub.services.attachments import read_plain

    [case_id] = queue_cases(linked, 1)
    data = b"%PDF-1.4\n" + pdf_noise(CHUNK_BYTES + 500)  # two chunks
    sha = hashlib.sha256(data).hexdigest()
    with linked.app_context(), db.connection_context():
        add_attachment(Case.get_by_id(case_id), User.get(User.username == "agent"), "户口簿.pdf", data,
                       linked.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
    blob_path(linked.config["ATTACHMENT_DIR"], sha).write_bytes(data)  # as a release before sealing left it
    summary = sync(linked)
    assert not summary.error and summary.attachments_uploaded == 1
    total = len(data)
    assert faults.uploads == [(f"bytes 0-{CHUNK_BYTES - 1}/{total}", CHUNK_BYTES),
                              (f"bytes {CHUNK_BYTES}-{total - 1}/{total}", total - CHUNK_BYTES)]
    with hub.app.app_context(), hub_db.connection_context():
        assert read_plain(hub_blob_path(hub.app.config["ATTACHMENT_DIR"], sha)) == data
    assert_exactly_once(linked, hub)


def test_sync_once_command_prints_a_json_summary(linked, hub):
    queue_cases(linked, 2)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), STATION_DATABASE=linked.config["DATABASE"],
               STATION_ATTACHMENT_DIR=linked.config["ATTACHMENT_DIR"], STATION_KEY_FILE=linked.config["KEY_FILE"],
               STATION_SECRET_KEY="x")
    result = subprocess.run([sys.executable, "-m", "station", "sync", "--once", "--json"],
                            cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    summary = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert summary["pushed"] == 2 and summary["acknowledged"] == 2 and summary["queue_left"] == 0


def test_another_stations_credentials_cannot_touch_this_stations_cases(linked, hub):
    import requests

    from demo.loopback import register_station
    from sync import protocol
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions
    from sync.transport import HubClient, HubLink

    [case_id] = queue_cases(linked, 1)
    assert not sync(linked).error
    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")
    intruder = HubLink(hub.url, "ST-OTHER", register_station(hub.app, "ST-OTHER", "西关村"))
    with linked.app_context(), db.connection_context():
        client = HubClient(intruder)
        _s, page = client.call("GET", "/api/v1/changes?cursor=0&limit=500")
        assert all(c.get("case_id") != case_id for c in page["changes"])  # cannot read
        forged = {"event_id": protocol.new_id(), "case_id": case_id, "seq": 2, "kind": "case.note",
                  "occurred_at": "2026-11-23T10:00:00+08:00", "catalog_version": "2026.11-demo",
                  "deadline": None, "payload": {"text": "篡改"}}
        body = protocol.encode_body({"protocol": 1, "station": "ST-OTHER", "batch_id": protocol.new_id(),
                                     "events": [forged]})
        _s, answer = client.call("POST", "/api/v1/events", body, headers={"Content-Encoding": "gzip"})
        assert answer["results"][0]["status"] == "rejected"
        assert answer["results"][0]["code"] == "not_your_case"  # cannot write

        # a replayed request (same nonce) and a tampered one (body changed after signing) are refused
        own = HubClient(HubLink.stored())
        raw = protocol.encode_body({"heartbeat": {}}, compress=False)
        headers = protocol.sign_request(own.link.secret, "POST", "/api/v1/heartbeat", raw,
                                        station=own.link.station_code)
        first = requests.post(hub.url + "/api/v1/heartbeat", data=raw, headers=headers, timeout=10)
        replay = requests.post(hub.url + "/api/v1/heartbeat", data=raw, headers=headers, timeout=10)
        headers = protocol.sign_request(own.link.secret, "POST", "/api/v1/heartbeat", raw,
                                        station=own.link.station_code)
        tampered = requests.post(hub.url + "/api/v1/heartbeat", data=raw.replace(b"{}", b'{"x":1}'),
                                 headers=headers, timeout=10)
    assert first.status_code == 200
    assert replay.status_code == 401 and replay.json()["error"] == "replay"
    assert tampered.status_code == 401 and tampered.json()["error"] == "bad_signature"


def test_catalog_and_settings_published_by_the_county_reach_the_station(linked, hub):
    from station.catalog_data import load_demo_catalog
    from station.models import CatalogVersion
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import catalog as hub_catalog
    from sync.hub.services import stations as hub_stations
    from tests.fixtures.e2e import STATION_CODE

    data = load_demo_catalog()
    data["catalog_version"] = "2026.12"
    with hub.app.app_context(), hub_db.connection_context():
        hub_catalog.publish(data, clerk="县级张")
        hub_stations.update_settings(STATION_CODE, {"sync_interval_seconds": 120}, clerk="县级张")
    assert not sync(linked).error
    with linked.app_context(), db.connection_context():
        assert CatalogVersion.current().version == "2026.12"
        assert state.interval_seconds() == "120"


def test_a_change_the_station_cannot_apply_is_kept_for_a_person_and_the_feed_goes_on(linked, hub, clerk):
    from sync import protocol
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import changes, decisions

    [case_id] = queue_cases(linked, 1)
    assert not sync(linked).error
    with hub.app.app_context(), hub_db.connection_context(), hub_db.atomic():
        # a catalog from an older or foreign county system that this station cannot import
        changes.emit(protocol.CHANGE_CATALOG_PUBLISHED, {"catalog_version": "bad", "items": [{"item_code": "1"}]})
    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")
    summary = sync(linked)
    assert not summary.error and summary.pulled == 2
    with linked.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "accepted"  # the decision after the bad change arrived
    page = clerk.get("/sync/").get_data(as_text=True)
    assert "未能应用的县级更新" in page and "事项目录格式有误" in page
    assert "<title>同步 - 便民服务站</title>" in page  # the list is in the page, not in its title
    assert sync(linked).pulled == 0  # not applied again and again


def test_a_lost_scan_sets_aside_only_its_own_case(linked, hub):
    import shutil as sh

    from station.models import User
    from station.services.attachments import add_attachment

    ids = queue_cases(linked, 2)
    with linked.app_context(), db.connection_context():
        add_attachment(Case.get_by_id(ids[0]), User.get(User.username == "agent"), "户口簿.pdf",
                       b"%PDF-1.4 scan", linked.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
    sh.rmtree(linked.config["ATTACHMENT_DIR"])  # the disk was cleaned up by someone
    summary = sync(linked)
    assert not summary.error
    with linked.app_context(), db.connection_context():
        states = {(e.case_id, e.seq): (e.state, e.reason) for e in OutboxEvent.select()}
    assert states[(ids[0], 1)][0] == "acked"  # the case itself went before the scan was added
    assert states[(ids[0], 2)][0] == "set_aside" and "扫描件丢失" in states[(ids[0], 2)][1]
    assert states[(ids[1], 1)][0] == "acked"


def test_answers_come_compressed_and_still_verify(linked, hub):
    import requests

    from sync import protocol
    from sync.backlog import pending_events, with_payloads
    from sync.transport import HubLink

    queue_cases(linked, 30)
    with linked.app_context(), db.connection_context():
        link = HubLink.stored()
        events = with_payloads(pending_events())
    envelopes = ",".join(e.envelope_json() for e in events)
    raw = f'{{"protocol":1,"station":"{link.station_code}","batch_id":"{protocol.new_id()}","events":[{envelopes}]}}'.encode()
    body = protocol.compress_body(raw)
    headers = protocol.sign_request(link.secret, "POST", "/api/v1/events", body, station=link.station_code)
    headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json", "Accept-Encoding": "gzip"})
    response = requests.post(hub.url + "/api/v1/events", data=body, headers=headers, timeout=30)
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) < len(response.content) / 3  # results compress well
    assert protocol.verify_response(link.secret, headers[protocol.H_NONCE], 200, response.headers, response.content)
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}


def test_batches_in_flight_never_share_a_case_and_a_long_case_goes_in_order(linked, hub, monkeypatch):
    import gzip
    import threading

    from station.models import User
    from station.services.cases import add_note
    from station.sync_hooks import station_hooks
    from sync.push import Pusher
    from sync.round import Syncer
    from sync.transport import HubClient, HubLink

    ids = queue_cases(linked, 40)
    with linked.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        long_case = Case.get_by_id(ids[7])
        for n in range(25):  # 26 events: longer than a whole batch of 10
            add_note(long_case, agent, f"第{n + 1}次电话回访")

    lock = threading.Lock()
    at_hub: list[set[str]] = []
    seen = {"most": 0, "shared": 0}
    original = Pusher._post

    def watched(self, body):  # noqa: ANN001, ANN202
        cases = {e["case_id"] for e in json.loads(gzip.decompress(body))["events"]}
        with lock:
            seen["shared"] += sum(1 for other in at_hub if other & cases)
            at_hub.append(cases)
            seen["most"] = max(seen["most"], len(at_hub))
        try:
            time.sleep(0.05)  # a hub that takes its time: the next batch is ready meanwhile
            return original(self, body)
        finally:
            with lock:
                at_hub.remove(cases)

    monkeypatch.setattr(Pusher, "_post", watched)
    with linked.app_context(), db.connection_context():
        summary = Syncer(HubClient(HubLink.stored()), station_hooks(linked), max_events=10).run()
    assert not summary.error, summary.error
    assert seen["most"] == 3 and seen["shared"] == 0  # the default window, full, never sharing a case
    assert summary.retry_later == 0 and summary.acknowledged == 40 + 25  # nothing arrived out of order
    assert_exactly_once(linked, hub)


def test_a_conflict_the_county_resolves_unblocks_the_station_and_empties_its_queue(linked, hub, faults):
    """County resolution → station unblocked → queue empty: the walk issue 12 asks for."""
    from station.models import TimelineEntry
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubCase
    from sync.outbox import enqueue
    from tests.fixtures.hub import logged_in, resolve_conflict

    [case_id] = queue_cases(linked, 1)
    faults.drop_after = 1
    assert sync(linked).error  # the hub stored the case; its answer was lost
    with linked.app_context(), db.connection_context():
        event = OutboxEvent.get(OutboxEvent.case_id == case_id)
        event.payload = {**event.payload, "case_no": "REWRITTEN"}  # the station's copy drifted
        event.save()
        with db.atomic():
            enqueue(case_id, "case.note", {"text": "申请人来电补充"},  # a later event of the same case
                    catalog_version=event.catalog_version)
    blocked = sync(linked)
    assert blocked.conflicts == 1 and blocked.queue_left == 1
    with hub.app.app_context(), hub_db.connection_context():
        assert HubCase.get(HubCase.case_id == case_id).last_seq == 1  # the note was not applied on the hub's copy

    county = logged_in(hub.app, "county", "approver", "县级窗口")
    page = resolve_conflict(county, "take_station", "以站点为准")
    assert "已处理：采用站点记录" in page

    sync(linked)  # the decision comes down: the conflicting event is settled
    done = sync(linked)  # the held note goes out
    assert done.error == "" and done.queue_left == 0
    with linked.app_context(), db.connection_context():
        assert {(e.seq, e.state) for e in OutboxEvent.select()} == {(1, "acked"), (2, "acked")}
        assert case_sync_state(case_id)["label"] == "县级已确认接收"
        [entry] = TimelineEntry.select().where(TimelineEntry.action == "county_conflict_resolved")
        assert "采用本站记录" in entry.message and "以站点为准" in entry.message
    with hub.app.app_context(), hub_db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert (case.case_no, case.last_seq) == ("REWRITTEN", 2)
