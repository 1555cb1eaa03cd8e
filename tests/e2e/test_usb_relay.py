"""A village with no link: bundle → township → county → return bundle → village, over a real hub on loopback.

Exactly once holds as for the network: every event at the hub once, every answer and county
decision back on the village's cases, and when the village's own link comes back nothing is
sent twice.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from demo.loopback import register_station
from station.extensions import db
from station.models import Case, User
from station.services.attachments import add_attachment
from sync.relay import RelayBundle
from sync.usb_bundle import DIGEST_BYTES, BundleError
from tests.fixtures.e2e import assert_exactly_once, hub_events, queue_cases, station_events, sync
from tests.fixtures.relay import (
    VILLAGE_CODE,
    export_bytes,
    import_bytes,
    linked_township,
    return_bytes,
    save_link,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def village(app, hub):
    """The village: registered at the county, but its link is down the whole time (until the end)."""
    save_link(app, hub.url, VILLAGE_CODE, register_station(hub.app, VILLAGE_CODE, "东关村便民服务站"))
    return app


@pytest.fixture
def township(tmp_path, station_template, hub):
    return linked_township(tmp_path / "township", station_template, hub)


def decide_all(hub, case_ids: list[str]) -> None:
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import decisions

    with hub.app.app_context(), hub_db.connection_context():
        for case_id in case_ids:
            decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")


def hub_scans(hub) -> dict[str, list[str]]:
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import AttachmentLink, AttachmentOwner, Station

    with hub.app.app_context(), hub_db.connection_context():
        village = Station.by_code(VILLAGE_CODE)
        owned = {o.sha256 for o in AttachmentOwner.select().where(AttachmentOwner.station == village)}
        found: dict[str, list[str]] = {}
        for link in AttachmentLink.select().where(AttachmentLink.station == village):
            assert link.sha256 in owned, "a scan named on a case never reached the county"
            found.setdefault(link.case_id, []).append(link.filename)
        return found


def relayed(township) -> list[tuple[str, str, str]]:
    with township.app_context(), db.connection_context():
        return [(b.direction, b.state, b.reason) for b in RelayBundle.select().order_by(RelayBundle.id)]


def take_cases_with_scans(village, count: int, scan_bytes: int = 20 * 1024) -> list[str]:
    ids = queue_cases(village, count)
    with village.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for case_id in ids:
            scan = b"%PDF-1.4\n" + os.urandom(scan_bytes).replace(b"/", b"_")
            add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", scan, village.config["ATTACHMENT_DIR"],
                           10 * 1024 * 1024)
    return ids


def test_fifty_cases_with_scans_go_by_stick_and_come_back_decided(village, township, hub):
    ids = take_cases_with_scans(village, 50)
    # the agent carries the stick to the township; the clerk imports it; the township's link forwards it
    import_bytes(township, export_bytes(village))
    first = sync(township)
    assert not first.error, first.error
    assert relayed(township) == [("up", "forwarded", ""), ("down", "ready", "")]
    assert len(hub_events(hub)) == len(station_events(village)) == 100  # submitted + scans, 50 each
    assert set(hub_scans(hub)) == set(ids)
    decide_all(hub, ids)  # the county accepts every case

    # the stick comes back: answers in, then the next trip fetches the decisions
    done = import_bytes(village, return_bytes(township))
    assert done.returned.acknowledged == 100
    assert {s for *_rest, s in station_events(village)} == {"acked"}
    import_bytes(township, export_bytes(village))  # nothing queued: it carries the cursor up
    assert not sync(township).error
    done = import_bytes(village, return_bytes(township))
    assert done.returned.pulled == 50
    with village.app_context(), db.connection_context():
        assert {c.status for c in Case.select().where(Case.id.in_(ids))} == {"accepted"}
        assert all(c.hub_case_no for c in Case.select().where(Case.id.in_(ids)))
    assert_exactly_once(village, hub)

    # the village's own link comes back: nothing is sent twice, nothing applied twice
    resumed = sync(village)
    assert not resumed.error, resumed.error
    assert resumed.pushed == 0 and resumed.pulled == 0 and resumed.attachments_uploaded == 0
    assert len(hub_events(hub)) == 100
    assert_exactly_once(village, hub)


def test_network_sync_takes_over_after_a_bundle_without_sending_twice(village, township, hub):
    """Bundle forwarded, but the return bundle never reaches the village: its own link finishes the job."""
    queue_cases(village, 5)
    import_bytes(township, export_bytes(village))
    assert not sync(township).error
    queue_cases(village, 2)  # taken after the stick left
    resumed = sync(village)
    assert not resumed.error, resumed.error
    assert resumed.duplicates == 5 and resumed.acknowledged == 7  # the five came back "duplicate", stored once
    assert_exactly_once(village, hub)


def test_a_bundle_altered_at_the_township_is_refused_by_the_county_and_changes_nothing(village, township, hub):
    queue_cases(village, 3)
    data = bytearray(export_bytes(village)[:-DIGEST_BYTES])
    data[-100] ^= 0x01  # someone edits a byte and makes the plain digest fit again
    tampered = bytes(data) + hashlib.sha256(bytes(data)).digest()
    import_bytes(township, tampered)  # the township cannot tell without the village's key
    summary = sync(township)
    assert not summary.error, summary.error
    [(direction, state_, reason)] = relayed(township)
    assert (direction, state_) == ("up", "refused") and "被改动" in reason
    assert hub_events(hub) == []
    assert {s for *_rest, s in station_events(village)} == {"queued"}


@pytest.fixture
def laptop(tmp_path, station_template, hub, village):
    """The village's second device (issue 16), a laptop on home visits: its own secret, its own bundle numbers."""
    import shutil

    from station import create_app
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import devices
    from tests.fixtures.config import station_test_config

    folder = tmp_path / "laptop"
    folder.mkdir()
    shutil.copyfile(station_template, folder / "station.sqlite3")
    app = create_app(station_test_config(folder), instance_path=str(folder / "instance"))
    with hub.app.app_context(), hub_db.connection_context():
        device, secret = devices.add_device(VILLAGE_CODE, "上门笔记本")
    with app.app_context(), db.connection_context():
        from sync.transport import HubLink

        HubLink(hub.url, VILLAGE_CODE, secret, device.number).save()
    return app


def test_a_laptops_bundle_goes_through_the_township_beside_its_pcs_and_comes_back_to_the_laptop(
        village, laptop, township, hub):
    pc_cases, laptop_cases = queue_cases(village, 2), queue_cases(laptop, 3)
    # both number their bundles from 1: the township holds them apart, the county opens each with its own key
    from_pc, from_laptop = import_bytes(township, export_bytes(village)), import_bytes(township, export_bytes(laptop))
    assert from_pc.relayed.seq == from_laptop.relayed.seq == 1
    # the clerk is told which machine's bundle No. 1 each is: its return bundle is exported per device
    assert from_pc.message().startswith(f"已导入 {VILLAGE_CODE} 的第 1 号离线包")
    assert from_laptop.message().startswith(f"已导入 {VILLAGE_CODE}（第 1 号设备）的第 1 号离线包")
    forwarded = sync(township)
    assert not forwarded.error
    assert forwarded.details == [f"离线包 {VILLAGE_CODE} 第 1 号已转发县级，回执包可以导出了",
                                 f"离线包 {VILLAGE_CODE}（第 1 号设备） 第 1 号已转发县级，回执包可以导出了"]
    assert [state for direction, state, _reason in relayed(township) if direction == "up"] == ["forwarded"] * 2
    at_hub = {case_id for _event, case_id, _seq in hub_events(hub)}
    assert at_hub == set(pc_cases) | set(laptop_cases)

    with pytest.raises(BundleError, match="第 1 号设备"):
        import_bytes(laptop, return_bytes(township, VILLAGE_CODE, 0))  # the PC's answers are not the laptop's
    done = import_bytes(laptop, return_bytes(township, VILLAGE_CODE, 1))
    assert done.returned.acknowledged == 3
    assert {s for *_rest, s in station_events(laptop)} == {"acked"}
    assert import_bytes(village, return_bytes(township, VILLAGE_CODE, 0)).returned.acknowledged == 2


def test_a_40_mib_bundle_crosses_the_township_and_the_county_in_a_fraction_of_its_size(village, township, hub, tmp_path):
    """Village export to a file, the township's import, its forwarding and the county's check, each read in chunks."""
    import tracemalloc

    from station.services import usb_bundles
    from station.sync_hooks import station_hooks

    ids = take_cases_with_scans(village, 20, 2 * 1024 * 1024)
    stick = tmp_path / "离线包.bmz"
    with village.app_context(), db.connection_context(), open(stick, "wb") as out:
        usb_bundles.export(out, station_hooks(village))
    size_mib = stick.stat().st_size / 1024 / 1024
    tracemalloc.start()  # counts the hub's thread too: it serves in this process
    try:
        with township.app_context(), db.connection_context(), open(stick, "rb") as src:
            usb_bundles.import_file(src, station_hooks(township))
        forwarded = sync(township)
        peak_mib = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()
    assert not forwarded.error and relayed(township)[0][:2] == ("up", "forwarded")
    assert set(hub_scans(hub)) == set(ids)
    print(f"bundle {size_mib:.1f} MiB: township import + forward + county check peak {peak_mib:.1f} MiB")
    assert size_mib > 40 and peak_mib < size_mib / 2, peak_mib


def test_a_backlog_larger_than_a_bundle_goes_in_two_trips_each_case_whole_and_in_order(village, township, hub):
    """The limit the township and the county take is where the village's bundle stops; the rest goes next trip."""
    import io

    from station.services import usb_bundles
    from station.sync_hooks import station_hooks

    ids = take_cases_with_scans(village, 3, 2 * 1024 * 1024)
    limit = 9 * 1024 * 1024  # room for two cases with their scans, not three

    def trip() -> usb_bundles.ExportSummary:
        out = io.BytesIO()
        with village.app_context(), db.connection_context():
            made = usb_bundles.export(out, station_hooks(village), max_bytes=limit)
        assert len(out.getvalue()) <= limit
        import_bytes(township, out.getvalue())
        assert not sync(township).error
        import_bytes(village, return_bytes(township))
        return made

    first = trip()  # every case's intake, two cases' scans; the third scan would pass the limit
    assert (first.events, len(first.left_for_next)) == (5, 1) and "下一个离线包" in first.size_message()
    second = trip()  # after the answers came back: the scan left over, after its case's intake
    assert (second.events, second.files, second.left_for_next) == (1, 1, [])
    assert set(hub_scans(hub)) == set(ids)
    assert {s for *_rest, s in station_events(village)} == {"acked"}
    assert_exactly_once(village, hub)
