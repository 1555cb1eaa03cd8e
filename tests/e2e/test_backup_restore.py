"""Back up, go on working and syncing, lose the PC, restore the backup into a new folder, sync on.

The hub holds every event exactly once; the restored station numbers no case and writes no event
seq that the lost PC used after the backup (it asks the hub first: GET /api/v1/station/state).
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from station import create_app
from station.cli import cli
from station.extensions import db
from station.models import Case, DailySequence, User
from station.services import cases
from station.services.errors import DomainError
from sync.outbox import OutboxEvent
from tests.fixtures.config import station_test_config
from tests.fixtures.e2e import hub_events, queue_cases, station_events, sync


def _hub_case_numbers(hub) -> list[str]:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubCase

    with hub.app.app_context(), hub_db.connection_context():
        return [c.case_no for c in HubCase.select()]


def _note(app, case_id: str, text: str) -> None:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        cases.add_note(Case.get_by_id(case_id), User.get(User.username == "agent"), text)


def _assert_each_event_once_at_the_hub(app, hub) -> None:  # noqa: ANN001
    at_hub = hub_events(hub)
    ids = [e[0] for e in at_hub]
    assert len(ids) == len(set(ids)), "an event is stored twice at the hub"
    at_station = station_events(app)
    assert {e[0] for e in at_station} <= set(ids), "an event of the restored station is missing at the hub"
    assert all(state == "acked" for *_rest, state in at_station)
    per_case: dict[str, list[int]] = {}
    for _event_id, case_id, seq in at_hub:
        per_case.setdefault(case_id, []).append(seq)
    for seqs in per_case.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def test_a_station_restored_from_a_backup_syncs_on_without_losing_doubling_or_reusing(linked, hub, tmp_path):
    app = linked
    first = queue_cases(app, 3)
    assert sync(app).error == ""
    queue_cases(app, 2)  # still queued when the backup is taken

    result = CliRunner().invoke(cli, ["backup", "--to", str(tmp_path / "usb")], obj=None,
                                env={"STATION_INSTANCE": app.instance_path, "STATION_DATABASE": app.config["DATABASE"],
                                     "STATION_ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"],
                                     "STATION_KEY_FILE": app.config["KEY_FILE"], "STATION_SECRET_KEY": "x"})
    assert result.exit_code == 0, result.output + result.stderr
    [backup_file] = (tmp_path / "usb").glob("*.sqlite3")

    after_backup = queue_cases(app, 3)  # taken after the backup: the lost PC's numbers
    _note(app, first[0], "备份后补充的说明")  # seq 2 of a case the backup holds at seq 1
    assert sync(app).error == ""
    lost_numbers = set(_hub_case_numbers(hub))
    assert len(lost_numbers) == 8

    # the PC dies; a new one gets the backup
    restored = _restore(backup_file, tmp_path / "new-pc")
    with pytest.raises(DomainError, match="恢复备份后需先与县级平台同步一次"):
        queue_cases(restored, 1)

    summary = sync(restored)
    assert summary.error == "", summary.error
    assert summary.duplicates == 2  # the two events queued at backup time were already at the hub
    _assert_each_event_once_at_the_hub(restored, hub)

    [fresh] = queue_cases(restored, 1)
    _note(restored, first[0], "恢复后补充的说明")
    with restored.app_context(), db.connection_context():
        fresh_no = Case.get_by_id(fresh).case_no
        note_seq = OutboxEvent.select().where(OutboxEvent.case_id == first[0]).order_by(OutboxEvent.seq.desc()).first().seq
        assert DailySequence.select().count() >= 1
    assert fresh_no not in lost_numbers
    assert note_seq == 3  # after the hub's 2, not the backup's 1
    summary = sync(restored)
    assert summary.error == "" and summary.rejected == 0 and summary.conflicts == 0
    _assert_each_event_once_at_the_hub(restored, hub)
    numbers = _hub_case_numbers(hub)
    assert len(numbers) == len(set(numbers)) == 9
    assert len(hub_events(hub)) == 8 + 1 + 1 + 1
    assert after_backup  # the lost PC's cases are at the hub, only there



def _log(app, n: int, action: str = "case_view") -> None:  # noqa: ANN001
    from station.services import access_log

    with app.app_context(), db.connection_context():
        for i in range(n):
            access_log.record(action, actor_name="张三", obj=f"第{i}次")


def _hub_access_log(hub) -> list[tuple[int, str, str]]:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import StationAccessLog

    with hub.app.app_context(), hub_db.connection_context():
        return [(e.seq, e.object, e.hash) for e in StationAccessLog.select().order_by(StationAccessLog.seq)]


def test_access_log_entries_written_after_a_restore_reach_the_county_none_dropped(linked, hub, tmp_path):
    from station.models import AccessLog
    from station.services import access_log
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Station
    from sync.hub.services import access_log as hub_access_log
    from tests.fixtures.e2e import STATION_CODE

    app = linked
    _log(app, 3)
    assert sync(app).error == ""
    backup_file = _backup(app, tmp_path)
    _log(app, 4, "reveal")  # the lost PC logs on after the backup and sends them
    assert sync(app).error == ""
    before_loss = _hub_access_log(hub)

    restored = _restore(backup_file, tmp_path / "new-pc")
    _log(restored, 2, "login")  # written before the first sync of the restored PC
    assert sync(restored).error == ""
    _log(restored, 3, "print")
    assert sync(restored).error == ""

    at_hub = _hub_access_log(hub)
    with restored.app_context(), db.connection_context():
        at_station = [(e.seq, e.object, e.hash) for e in AccessLog.select().order_by(AccessLog.seq)]
        verification = access_log.verify()
    assert [seq for seq, *_ in at_hub] == list(range(1, len(at_hub) + 1)), "an entry is missing or twice at the county"
    assert at_hub[:len(before_loss)] == before_loss  # the lost PC's entries untouched
    assert set(at_station) <= set(at_hub)  # every entry of the restored PC reached the county …
    assert len(at_hub) == len(before_loss) + 5  # … and none was dropped as a repeat
    with hub.app.app_context(), hub_db.connection_context():
        assert hub_access_log.verify_station(Station.by_code(STATION_CODE)).ok  # one unbroken chain
    assert verification.ok, verification.message  # the station's own walk knows the county keeps the gap
    assert "由县级平台保存" in verification.message


def _restore(backup_file, new):  # noqa: ANN001, ANN202
    """``python -m station restore`` into a new folder, as on the replacement PC; its app."""
    result = CliRunner().invoke(cli, ["restore", str(backup_file), "--instance", str(new)], env={"STATION_INSTANCE": ""})
    assert result.exit_code == 0, result.output + result.stderr
    return create_app(station_test_config(new), instance_path=str(new))


def _backup(app, tmp_path):  # noqa: ANN001, ANN202
    result = CliRunner().invoke(cli, ["backup", "--to", str(tmp_path / "usb")], obj=None,
                                env={"STATION_INSTANCE": app.instance_path, "STATION_DATABASE": app.config["DATABASE"],
                                     "STATION_ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"],
                                     "STATION_KEY_FILE": app.config["KEY_FILE"], "STATION_SECRET_KEY": "x"})
    assert result.exit_code == 0, result.output + result.stderr
    [backup_file] = (tmp_path / "usb").glob("*.sqlite3")
    return backup_file


def test_cases_the_lost_pc_took_after_the_backup_come_back_from_the_county(linked, hub, tmp_path):
    from station.models import TimelineEntry
    from station.services import personal

    app = linked
    queue_cases(app, 2)
    assert sync(app).error == ""
    backup_file = _backup(app, tmp_path)
    lost = queue_cases(app, 3)  # taken after the backup: only the lost PC and the county have them
    _note(app, lost[0], "备份后补充的说明")
    assert sync(app).error == ""
    with app.app_context(), db.connection_context():
        originals = {c.id: (c.case_no, c.query_code, c.applicant_name, personal.applicant_id_number(c))
                     for c in Case.select().where(Case.id.in_(lost))}
    events_before = len(hub_events(hub))

    restored = _restore(backup_file, tmp_path / "new-pc")
    summary = sync(restored)
    assert summary.error == "", summary.error
    assert (summary.pushed, summary.duplicates) == (0, 0)  # the county's copies are not sent back to it

    with restored.app_context(), db.connection_context():
        back = {c.id: (c.case_no, c.query_code, c.applicant_name, personal.applicant_id_number(c))
                for c in Case.select().where(Case.id.in_(lost))}
        marks = [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == lost[0]) & (TimelineEntry.action == "restored_from_county"))]
        notes = [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == lost[0]) & (TimelineEntry.action == "note"))]
    assert back == originals  # the same numbers, the same resident, sealed again at the station
    assert len(marks) == 1 and "县级平台" in marks[0]
    assert notes == ["备份后补充的说明"]
    assert len(hub_events(hub)) == events_before  # nothing sent twice

    [fresh] = queue_cases(restored, 1)
    _note(restored, lost[0], "恢复后补充的说明")
    assert sync(restored).error == ""
    _assert_each_event_once_at_the_hub(restored, hub)
    numbers = _hub_case_numbers(hub)
    assert len(numbers) == len(set(numbers)) == 6  # no case number used twice
    assert len(hub_events(hub)) == events_before + 2
    with restored.app_context(), db.connection_context():
        assert Case.get_by_id(fresh).case_no not in {n for n, *_ in originals.values()}


def test_what_the_lost_pc_wrote_to_cases_the_backup_held_comes_back_from_the_county(linked, hub, tmp_path):
    """A note and a handover the lost PC wrote after the backup, on cases the backup held, are on the restored PC."""
    from station.models import TimelineEntry
    from station.services import follow_up
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    app = linked
    noted, handed = queue_cases(app, 2)
    assert sync(app).error == ""
    backup_file = _backup(app, tmp_path)
    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(handed, decisions.DecisionInput(kind="accepted"), clerk="clerk")
        decisions.decide(handed, decisions.DecisionInput(kind="completed", result="approved", result_text="核准发放"),
                         clerk="clerk")
    assert sync(app).error == ""  # the lost PC hears 办结 …
    _note(app, noted, "备份后补充的说明")
    with app.app_context(), db.connection_context():  # … and hands the result over by post
        follow_up.record_handover(Case.get_by_id(handed), User.get(User.username == "agent"),
                                  follow_up.HandoverInput(method="post", ems_no="EA123456789CN", address="某村1号",
                                                          date=dt.date.today().isoformat()))
    assert sync(app).error == ""
    events_before = len(hub_events(hub))

    restored = _restore(backup_file, tmp_path / "new-pc")
    summary = sync(restored)
    assert summary.error == "", summary.error
    assert (summary.pushed, summary.duplicates) == (0, 0)  # the county's copies are not sent back to it

    with restored.app_context(), db.connection_context():
        notes = [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == noted) & (TimelineEntry.action == "note"))]
        delivered = Case.get_by_id(handed)
        marks = [e.message for e in TimelineEntry.select().where(TimelineEntry.action == "continued_from_county")]
    assert notes == ["备份后补充的说明"]
    assert delivered.status == "delivered"  # not put back to 办结 by the county's decision coming down again
    assert delivered.delivery.get("ems_no") == "EA123456789CN"
    assert len(marks) == 2 and all("县级平台" in m for m in marks)
    assert len(hub_events(hub)) == events_before  # nothing sent twice

    _note(restored, noted, "恢复后补充的说明")  # the next event of the case takes the next seq
    assert sync(restored).error == ""
    _assert_each_event_once_at_the_hub(restored, hub)
    assert len(hub_events(hub)) == events_before + 1


def test_a_withdrawal_the_lost_pc_recorded_after_the_backup_comes_back_and_the_county_acceptance_does_not_undo_it(
        linked, hub, tmp_path):
    from station.services import withdrawal
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    app = linked
    [case_id] = queue_cases(app, 1)
    assert sync(app).error == ""
    with hub.app.app_context(), hub_db.connection_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
    backup_file = _backup(app, tmp_path)
    with app.app_context(), db.connection_context():
        withdrawal.withdraw(Case.get_by_id(case_id), User.get(User.username == "agent"), "不再需要了", "proxy")
    assert sync(app).error == ""
    restored = _restore(backup_file, tmp_path / "new-pc")
    assert sync(restored).error == ""
    with restored.app_context(), db.connection_context():
        case = Case.get_by_id(case_id)
        assert (case.status, case.status_reason) == ("withdrawn", "不再需要了")  # 受理 came down again after it
        assert case.closed_at is not None
    _assert_each_event_once_at_the_hub(restored, hub)


def _visit_decisions(app, visit_id: str) -> list[str]:  # noqa: ANN001
    """The county's decision lines as the visit's page lists them."""
    from tests.fixtures.station import StationClient

    page = StationClient(app.test_client()).login("agent").get(f"/visits/{visit_id}").get_data(as_text=True)
    assert 'id="visit-history"' in page, "the visit is not at this station"
    history = page.split('id="visit-history"', 1)[1].split("</ul>", 1)[0]
    return [" ".join(line.split("</li>", 1)[0].split()) for line in history.split('<li class="visit-decision">')[1:]]


def test_a_visit_the_lost_pc_recorded_after_the_backup_comes_back_with_the_countys_decision(linked, hub, faults,
                                                                                          tmp_path):
    """A visit recorded after the backup, its record in conflict and settled by the county: the restored PC
    has the visit, the same decision line on its page, and the visit's next event follows the county's."""
    from station.services import home_visits
    from tests.fixtures.hub import logged_in, resolve_conflict
    from tests.fixtures.station import StationClient

    app = linked
    queue_cases(app, 1)
    assert sync(app).error == ""
    backup_file = _backup(app, tmp_path)
    agent = StationClient(app.test_client()).login("agent")
    recorded = agent.post("/visits/new", {"visited_on": dt.date.today().isoformat(), "started_at": "09:30",
                                          "staff": "王代办", "resident_name": "孙福贵", "resident_phone": "13700002222",
                                          "address": "东关村五组3号", "purpose": "代办参保登记", "outcome": "done",
                                          "outcome_note": "由其子孙小军代签"})
    visit_id = recorded.headers["Location"].rsplit("/", 1)[-1]
    faults.drop_after = 1
    assert sync(app).error  # the county stored the visit; its answer was lost
    with app.app_context(), db.connection_context():
        event = OutboxEvent.get(OutboxEvent.case_id == visit_id)
        event.payload = {**event.payload, "ended_at": "10:40"}  # the copy drifted before it went again
        event.save()
    assert sync(app).conflicts == 1
    resolve_conflict(logged_in(hub.app, "county", "approver", "县级窗口"), "keep_county", "已电话核实")
    assert sync(app).error == ""
    on_the_lost_pc = _visit_decisions(app, visit_id)
    assert len(on_the_lost_pc) == 1 and "保留县级记录" in on_the_lost_pc[0] and "已电话核实" in on_the_lost_pc[0]

    restored = _restore(backup_file, tmp_path / "new-pc")
    summary = sync(restored)
    assert summary.error == "" and summary.pushed == 0
    assert _visit_decisions(restored, visit_id) == on_the_lost_pc
    with restored.app_context(), db.connection_context():
        visit = home_visits.get(visit_id)
        assert home_visits.intake_values(visit)["applicant_name"] == "孙福贵"  # sealed again at this station
        assert visit.outcome_note == "由其子孙小军代签"
        [fresh] = queue_cases(restored, 1)
    with restored.app_context(), db.connection_context():
        from station.models import Case as StationCase
        home_visits.carry(visit_id, StationCase.get_by_id(fresh))  # the visit's next event
    after = sync(restored)
    assert after.error == "" and after.conflicts == 0 and after.rejected == 0
    _assert_each_event_once_at_the_hub(restored, hub)


def test_a_case_the_lost_pc_took_during_a_visit_the_backup_held_is_linked_to_it_again(linked, hub, tmp_path):
    from station.models import Case as StationCase
    from station.services import home_visits
    from tests.fixtures.station import StationClient

    app = linked
    agent = StationClient(app.test_client()).login("agent")
    recorded = agent.post("/visits/new", {"visited_on": dt.date.today().isoformat(), "started_at": "09:30",
                                          "staff": "王代办", "resident_name": "孙福贵", "address": "东关村五组3号",
                                          "purpose": "代办参保登记", "outcome": "done"})
    visit_id = recorded.headers["Location"].rsplit("/", 1)[-1]
    assert sync(app).error == ""
    backup_file = _backup(app, tmp_path)
    [taken] = queue_cases(app, 1)  # after the backup, during that visit
    with app.app_context(), db.connection_context():
        home_visits.carry(visit_id, StationCase.get_by_id(taken))
        case_no = StationCase.get_by_id(taken).case_no
    assert sync(app).error == ""

    restored = _restore(backup_file, tmp_path / "new-pc")
    assert sync(restored).error == ""
    page = StationClient(restored.test_client()).login("agent").get(f"/visits/{visit_id}").get_data(as_text=True)
    assert case_no in page.split('id="visit-cases"', 1)[1].split("</ul>", 1)[0]
    _assert_each_event_once_at_the_hub(restored, hub)
