"""Upgrade in place: a database the previous release made, with events and scans queued, upgraded by this one.

The previous release is real code, not a simulation: the commit before the newest station
migration of its time (0011) is unpacked from git and takes the cases, so its schema, its rows
and its scan files are exactly what a station in the field has when the new version arrives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest

from station import create_app
from station.config import TestConfig
from station.extensions import db
from station.migrate import runner as migration_runner
from station.migrate import schema_version
from station.models import Attachment
from sync.outbox import OutboxEvent
from tests.fixtures.e2e import assert_exactly_once, hub_events, link, sync

ROOT = Path(__file__).resolve().parents[2]
#: The release before migration 0011_provisional_per_date: its newest migration is 0009.
PREVIOUS_RELEASE = "47e7e0d0d3afab6c9e9af646b47be29b50961046"
QUEUED, WITH_SCANS = 8, 3

TAKE_CASES = r'''
import json, sys
from pathlib import Path
from station.extensions import db
from station.models import Case, User
from station.migrate import schema_version
from station.services.attachments import add_attachment
from tests.fixtures.e2e import queue_cases
from tests.fixtures.scans import pdf_bytes
from tests.fixtures.station import make_station_app

app = make_station_app(Path(sys.argv[1]))
ids = queue_cases(app, int(sys.argv[2]))
with app.app_context(), db.connection_context():
    agent = User.get(User.username == "agent")
    for n, case_id in enumerate(ids[:int(sys.argv[3])]):
        add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", pdf_bytes(f"/Scan{n} 1"),
                       app.config["ATTACHMENT_DIR"], app.config["MAX_ATTACHMENT_BYTES"])
    print(json.dumps({"ids": ids, "schema": schema_version(db.obj)}))
'''


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A station folder the previous release made: cases queued offline, scans among them."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE],
                             capture_output=True, check=True).stdout
    code = tmp_path_factory.mktemp("previous-release")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(code, filter="data")
    data = tmp_path_factory.mktemp("station-made-by-previous-release")
    made = subprocess.run([sys.executable, "-c", TAKE_CASES, str(data), str(QUEUED), str(WITH_SCANS)],
                          cwd=code, capture_output=True, text=True, check=True)
    return data, json.loads(made.stdout.strip().splitlines()[-1])


def test_the_previous_release_s_database_upgrades_and_every_event_syncs_exactly_once(previous_release, hub,
                                                                                      tmp_path):
    old_data, made = previous_release
    folder = tmp_path / "station"
    subprocess.run(["cp", "-a", str(old_data), str(folder)], check=True)
    assert made["schema"] == "0009_case_follow_up"

    config = TestConfig.with_overrides(DATABASE=str(folder / "station.sqlite3"),
                                      ATTACHMENT_DIR=str(folder / "attachments"),
                                      KEY_FILE=str(folder / "instance" / "keys" / "data.key"))
    upgraded = create_app(config, instance_path=str(folder / "instance"))
    with upgraded.app_context(), db.connection_context():
        newest = [m.name for m in migration_runner(db.obj).migrations()][-1]
        assert schema_version(db.obj) == newest  # migrated on start
        queued = OutboxEvent.select().where(OutboxEvent.state == "queued").count()
        assert queued >= QUEUED and Attachment.select().count() == WITH_SCANS
    assert (folder / "station.sqlite3.before-0011_provisional_per_date.bak").exists()  # copied first

    link(upgraded, hub)
    summary = sync(upgraded)
    assert not summary.error, summary.error
    assert summary.acknowledged == queued and summary.attachments_uploaded == WITH_SCANS
    again = sync(upgraded)
    assert again.acknowledged == 0 and again.attachments_uploaded == 0
    assert {case_id for _e, case_id, _s in hub_events(hub)} == set(made["ids"])
    assert_exactly_once(upgraded, hub)
