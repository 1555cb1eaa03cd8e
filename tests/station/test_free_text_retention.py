"""Retention clears the free text kept with an old case or visit: notes, the county's reasons and settlement
notes, a rating's words, a 整改's conversation, a visit's outcome note — rows, timeline, sent payloads alike."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from rules.privacy import mask_numbers_in
from station.cli import cli
from station.extensions import db
from station.models import (
    Case,
    CaseMaterial,
    Evaluation,
    HomeVisit,
    Remedy,
    ResidentNotice,
    TimelineEntry,
    User,
)
from station.services import cases, county_changes, free_text, notify
from sync import protocol
from sync.outbox import OutboxEvent
from tests.fixtures.intake import SECOND_ID
from tests.station.test_sealing_at_rest import VISIT, _acked, _env, _intake

RELATIVE, NUMBER = "欧阳小明", "13512349876"  # what a note may say: a relative's name and number


def _iso_months_ago(months: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=31 * months)).replace(microsecond=0).isoformat()


def _settled_conflict(record_id: str, note: str) -> None:
    """The record's first event was set aside as a conflict (as a push leaves it); the county settles it."""
    event = OutboxEvent.select().where(OutboxEvent.case_id == record_id).order_by(OutboxEvent.seq).first()
    OutboxEvent.update(state="set_aside", result="conflict").where(OutboxEvent.id == event.id).execute()
    county_changes.apply_change(protocol.CHANGE_CONFLICT_RESOLVED, record_id, {
        "event_id": event.event_id, "seq": event.seq, "resolution": "take_station", "note": note,
        "resolved_by": "县级窗口", "resolved_at": _iso_months_ago(0)})


def _worked_on(case: Case, months_ago: int) -> None:
    """A case as staff and the county leave it: a note, a notice, a conflict settled, a 差评 and its 整改, rejected."""
    agent = User.get(User.username == "agent")
    with db.atomic():
        cases.add_note(case, agent, f"其子{RELATIVE}代为联系，电话{NUMBER}")
        notify.record(case, agent, "supplement", "phone", f"已告知其子{RELATIVE}")
        _settled_conflict(case.id, f"经{RELATIVE}核实，以站点为准")
        rating = {"evaluation_id": protocol.new_id(), "visit": "case", "kind": "first", "level": "very_dissatisfied",
                  "reason_tag": "runs", "reason_text": f"{RELATIVE}说跑了三次", "channel": "qr_code",
                  "rated_at": _iso_months_ago(months_ago)}
        county_changes.apply_change(protocol.CHANGE_EVALUATION, case.id, rating)
        county_changes.apply_change(protocol.CHANGE_REMEDY, case.id, {
            "remedy_id": 100 + months_ago, "evaluation_id": rating["evaluation_id"], "status": "closed",
            "owner": "county1", "fix_text": f"已向{RELATIVE}道歉", "closing_note": f"回访{RELATIVE}，满意",
            "contacts": [{"at": _iso_months_ago(months_ago), "method": "phone", "said": f"{RELATIVE}：已办好"}]})
        county_changes.apply_change(protocol.CHANGE_CASE_STATUS, case.id, {
            "status": "rejected", "reason": f"申请人已由{RELATIVE}在外地代领，电话{NUMBER}", "clerk": "县级窗口",
            "decided_at": _iso_months_ago(months_ago)})
    OutboxEvent.update(state="acked").where(OutboxEvent.case_id == case.id).execute()  # the county has it all


def _everything_kept_about(case_id: str) -> str:
    """Every row of the case that may hold text, opened, as one string."""
    case = Case.get_by_id(case_id)
    parts = [case.status_reason, case.result_text]
    parts += [m.supplied_note for m in CaseMaterial.select().where(CaseMaterial.case == case_id)]
    parts += [n.note for n in ResidentNotice.select().where(ResidentNotice.case == case_id)]
    parts += [e.reason_text for e in Evaluation.select().where(Evaluation.case == case_id)]
    parts += [json.dumps(r.data, ensure_ascii=False) for r in Remedy.select().where(Remedy.case == case_id)]
    for entry in TimelineEntry.select().where(TimelineEntry.case == case_id):
        parts += [entry.message, json.dumps(entry.data, ensure_ascii=False)]
    for event in OutboxEvent.select().where(OutboxEvent.case_id == case_id):
        parts += [event.reason, json.dumps(event.payload, ensure_ascii=False)]
    return "\n".join(parts)


def test_purge_clears_the_free_text_of_an_old_case_and_keeps_what_the_county_decided(app, agent, monkeypatch):
    with app.app_context(), db.connection_context():
        old, recent = _intake(), _intake(SECOND_ID)
        _worked_on(old, 30)
        _worked_on(recent, 3)
        assert RELATIVE in _everything_kept_about(old) and NUMBER in _everything_kept_about(old)
    _env(monkeypatch, app)

    done = CliRunner().invoke(cli, ["purge"])
    assert done.exit_code == 0, done.output
    assert "已删除 1 件" in done.output
    with app.app_context(), db.connection_context():
        kept = _everything_kept_about(old.id)
        assert RELATIVE not in kept and NUMBER not in kept
        assert RELATIVE in _everything_kept_about(recent.id)  # not yet past the retention period
        assert Case.get_by_id(old.id).status == "rejected"
    page = agent.get(f"/cases/{old.id}").get_data(as_text=True)
    assert RELATIVE not in page and NUMBER not in page
    assert "县级平台：不予受理（保存期满，文字说明已清除）" in page  # what was decided stays, the words go
    assert "核对了同步冲突：采用本站记录（说明已于保存期满时清除）。该办件暂停的后续记录已恢复上传。" in page
    assert "备注（保存期满，文字说明已清除）" in page
    assert "以及备注、县级平台说明等文字说明" in page  # the purge's own line says so
    assert RELATIVE in agent.get(f"/cases/{recent.id}").get_data(as_text=True)


def test_purge_clears_a_visits_outcome_note_and_the_countys_note_on_its_conflict(app, agent, monkeypatch):
    note = f"由其子{RELATIVE}代签，电话{NUMBER}"
    old, recent = (_visit_with(agent, months, note) for months in (30, 3))
    with app.app_context(), db.connection_context():
        for visit_id in (old, recent):
            _settled_conflict(visit_id, f"{RELATIVE}来电核实")
            _acked(visit_id)
    _env(monkeypatch, app)

    done = CliRunner().invoke(cli, ["purge"])
    assert "上门服务记录：已删除 1 条" in done.output, done.output
    page = agent.get(f"/visits/{old}").get_data(as_text=True)
    assert RELATIVE not in page and NUMBER not in page
    assert ("县级平台（县级窗口）核对了同步冲突：采用本站记录（说明已于保存期满时清除）。"
            "此次上门服务暂停的后续记录已恢复上传。") in page
    assert "代办养老保险参保登记（身份证 110105********0021）" in page  # what was done stays, its number masked
    with app.app_context(), db.connection_context():
        assert HomeVisit.get_by_id(old).outcome_note == ""
        [event] = OutboxEvent.select().where(OutboxEvent.case_id == old)
        assert event.payload["outcome_note"] == "" and RELATIVE not in event.reason
        assert "110105194912310021" not in event.payload["purpose"]
    assert RELATIVE in agent.get(f"/visits/{recent}").get_data(as_text=True)


def _visit_with(agent, months_ago: int, outcome_note: str) -> str:  # noqa: ANN001
    day = (dt.date.today() - dt.timedelta(days=31 * months_ago)).isoformat()
    response = agent.post("/visits/new", {**VISIT, "visited_on": day, "outcome_note": outcome_note,
                                          "purpose": "代办养老保险参保登记（身份证 110105194912310021）"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_a_visits_free_text_is_stored_sealed_and_shown_as_written(app, agent):
    note = f"由其子{RELATIVE}代签，电话{NUMBER}"
    visit_id = _visit_with(agent, 1, note)
    with app.app_context(), db.connection_context():
        stored = db.execute_sql("SELECT purpose, outcome_note FROM home_visit WHERE id = ?", (visit_id,)).fetchone()
        assert all(value.startswith("enc1:") for value in stored)
    page = agent.get(f"/visits/{visit_id}").get_data(as_text=True)
    purpose = "代办养老保险参保登记（身份证 110105194912310021）"
    assert mask_numbers_in(note) in page and mask_numbers_in(purpose) in page  # the words as written …
    assert RELATIVE in page and NUMBER not in page and "110105194912310021" not in page  # … numbers masked on screen


def test_purge_masks_the_collectors_number_and_removes_the_postal_address_of_a_delivered_case(app, monkeypatch):
    from station.services import follow_up, personal
    from tests.fixtures.intake import AGENT_ID

    with app.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        window, posted = _intake(), _intake(SECOND_ID)
        for case in (window, posted):
            with db.atomic():
                county_changes.apply_change(protocol.CHANGE_CASE_STATUS, case.id, {
                    "status": "completed", "result": "approved", "decided_at": _iso_months_ago(30)})
        follow_up.record_handover(cases.get_case(window.id), agent, follow_up.HandoverInput(
            method="window", collector_kind="authorised", collector_name=RELATIVE, collector_id_number=AGENT_ID,
            collector_relation="儿子", authorization_checked=True))
        follow_up.record_handover(cases.get_case(posted.id), agent, follow_up.HandoverInput(
            method="post", ems_no="EA123456789CN", address="示范县东关镇东关村三组12号", date=dt.date.today().isoformat()))
        OutboxEvent.update(state="acked").execute()
        assert personal.collector_id_number(Case.get_by_id(window.id)) == AGENT_ID
    _env(monkeypatch, app)

    done = CliRunner().invoke(cli, ["purge"])
    assert "已删除 2 件" in done.output, done.output
    with app.app_context(), db.connection_context():
        assert personal.collector_id_number(Case.get_by_id(window.id)) == "141081********0018"
        delivery = Case.get_by_id(posted.id).delivery
        assert delivery["address"] == "" and delivery["ems_no"] == "EA123456789CN"  # the tracking number stays
        kept = _everything_kept_about(posted.id)  # the handover's line on the timeline no longer names the address
        assert "东关村三组12号" not in kept and "EMS EA123456789CN" + free_text.CLEARED in kept


def test_purge_masks_an_e_licence_number_that_is_the_id_number(app, monkeypatch):
    from tests.fixtures.intake import AGENT_ID

    with app.app_context(), db.connection_context():
        case = _intake(**{"mat__hukou_book__status": "e_license", "mat__hukou_book__elicense": AGENT_ID})
        with db.atomic():
            county_changes.apply_change(protocol.CHANGE_CASE_STATUS, case.id, {
                "status": "completed", "result": "approved", "decided_at": _iso_months_ago(30)})
        OutboxEvent.update(state="acked").execute()
    _env(monkeypatch, app)

    assert "已删除 1 件" in CliRunner().invoke(cli, ["purge"]).output
    with app.app_context(), db.connection_context():
        assert CaseMaterial.get(CaseMaterial.key == "hukou_book").e_license_no == "141081********0018"
        submitted = OutboxEvent.select().where(OutboxEvent.case_id == case.id).order_by(OutboxEvent.seq).first()
        [row] = [m for m in submitted.payload["materials"] if m["key"] == "hukou_book"]
        assert row["e_license_no"] == "141081********0018"
    # a material verified against the county's licence register keeps that licence in its origin: masked too
    from station.services import retention
    origin = retention.scrub({"licence": {"kind": "残疾人证", "number": AGENT_ID + "11", "issuer": "县残联"}})
    assert origin["licence"] == {"kind": "残疾人证", "number": "141081**********1811", "issuer": "县残联"}


def test_a_paper_batch_loses_its_handover_notes_once_every_case_in_it_is_purged(app, monkeypatch):
    from station.models import AccessLog, TransferHandover
    from station.services import transfers

    with app.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        old, older, recent = _intake(), _intake(SECOND_ID), _intake("141081197204050010")
        batches = {}
        for name, members in (("all_old", [old, older]), ("mixed", [recent])):
            transfer = transfers.create_transfer([c.id for c in members], destination="申请人家中", direction="resident",
                                                 user=agent)
            transfers.record_handover(transfer, giver="王代办", receiver=RELATIVE, place="东关村", user=agent,
                                      receiver_kind="resident", note=f"由其子{RELATIVE}代收，电话{NUMBER}")
            batches[name] = transfer.id
        for case, months in ((old, 30), (older, 30), (recent, 3)):
            with db.atomic():
                county_changes.apply_change(protocol.CHANGE_CASE_STATUS, case.id, {
                    "status": "rejected", "decided_at": _iso_months_ago(months)})
        OutboxEvent.update(state="acked").execute()
    _env(monkeypatch, app)

    assert "已删除 2 件" in CliRunner().invoke(cli, ["purge"]).output
    with app.app_context(), db.connection_context():
        [cleared] = TransferHandover.select().where(TransferHandover.transfer == batches["all_old"])
        assert (cleared.note, cleared.receiver) == ("", "欧**明")
        [kept] = TransferHandover.select().where(TransferHandover.transfer == batches["mixed"])
        assert (kept.note, kept.receiver) == (f"由其子{RELATIVE}代收，电话{NUMBER}", RELATIVE)  # its case is recent
        logged = AccessLog.select().where((AccessLog.action == "transfer_handover") & AccessLog.detail.contains("保存期满"))
        assert [e.object for e in logged] == [cleared.transfer.batch_no]


def test_purge_clears_the_copy_of_another_devices_case_the_county_closed_long_ago(app, agent, monkeypatch):
    from station.models import AccessLog, SharedCase
    from tests.fixtures.intake import GOOD_ID

    old, recent = protocol.new_id(), protocol.new_id()
    address = "示范县东关镇东关村三组12号"
    sent = {"origin_device": 1, "status": "submitted", "applicant_name": "赵秀英", "snapshot": {
        "case_no": "1410811022012023030100010-01", "item_name": "高龄津贴申领", "form_values": {"mail_to": address},
        "applicant": {"name": "赵秀英", "id_number": GOOD_ID, "phone": "13912345678", "address": address},
        "materials": [{"key": "hukou_book", "status": "not_applicable", "supplied_note": f"户口在{RELATIVE}处"}]}}
    with app.app_context(), db.connection_context():
        for case_id in (old, recent):
            with db.atomic():  # taken on the laptop, then closed by the county, as the feed brings them
                county_changes.apply_change(protocol.CHANGE_CASE_SHARED, case_id, {**sent, "case_id": case_id})
                county_changes.apply_change(protocol.CHANGE_CASE_STATUS, case_id, {"status": "completed"})
        SharedCase.update(updated_at=dt.datetime.now() - dt.timedelta(days=31 * 30)).where(SharedCase.id == old).execute()
    _env(monkeypatch, app)

    dry = CliRunner().invoke(cli, ["purge", "--dry-run"])
    assert "其他设备办件副本：将删除 1 件" in dry.output and "110105********002X" in dry.output, dry.output
    assert "其他设备办件副本：已删除 1 件" in CliRunner().invoke(cli, ["purge"]).output
    with app.app_context(), db.connection_context():
        snapshot = SharedCase.get_by_id(old).snapshot
        assert snapshot["applicant"]["id_number"] == "110105********002X" and snapshot["applicant"]["address"] == ""
        assert snapshot["form_values"] == {} and RELATIVE not in json.dumps(snapshot, ensure_ascii=False)
        assert SharedCase.get_by_id(recent).snapshot["applicant"]["id_number"] == GOOD_ID  # closed lately: whole
        assert AccessLog.select().where((AccessLog.action == "shared_case_purge") & (AccessLog.case_id == old)).count() == 1
        with db.atomic():  # the county sending the copy again brings nothing back
            county_changes.apply_change(protocol.CHANGE_CASE_SHARED, old, {**sent, "case_id": old})
        assert SharedCase.get_by_id(old).snapshot["applicant"]["address"] == ""
    assert address not in agent.get(f"/cases/shared/{old}").get_data(as_text=True)
    assert "其他设备办件副本：已删除 0 件" in CliRunner().invoke(cli, ["purge"]).output
