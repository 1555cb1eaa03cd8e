"""Back up, go on working and syncing, lose the PC, restore the backup into a new folder, sync on.

The hub holds every event exactly once; the restored station numbers no case and writes no event
seq that the lost PC used after the backup (it asks the hub first: GET /api/v1/station/state).
"""

from __future__ import annotations

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
    new = tmp_path / "new-pc"
    result = CliRunner().invoke(cli, ["restore", str(backup_file), "--instance", str(new)], env={"STATION_INSTANCE": ""})
    assert result.exit_code == 0, result.output + result.stderr
    restored = create_app(station_test_config(new), instance_path=str(new))
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

