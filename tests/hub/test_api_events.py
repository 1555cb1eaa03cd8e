"""POST /api/v1/events: per-event results and the exactly-once rules."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from sync import protocol
from sync.hub.models import CatalogVersion, Conflict, Event, HubCase, Station
from sync.hub.services import kept, personal
from sync.hub.services.kept import Kept
from tests.fixtures.hub import case_snapshot, valid_catalog


def _statuses(results):
    return [(r["status"], r["code"]) for r in results]


def test_accepted_then_duplicate(hub_app, station_a, make_event):
    event = make_event()
    assert _statuses(station_a.results([event])) == [("accepted", None)]
    assert _statuses(station_a.results([event])) == [("duplicate", None)]
    with hub_app.app_context():
        assert Event.select().count() == 1
        case = HubCase.get(HubCase.case_id == event["case_id"])
        assert case.applicant_name == "张三" and case.status == "submitted" and case.last_seq == 1


def test_same_batch_twice_nothing_doubled(hub_app, station_a, make_event):
    case_id = protocol.new_id()
    events = [make_event(case_id=case_id)] + [make_event(case_id=case_id, seq=n, kind="case.note") for n in (2, 3)]
    body = {"protocol": 1, "station": station_a.code, "batch_id": protocol.new_id(), "heartbeat": {},
            "events": events}
    first = station_a.results([], batch=body)
    # The connection dropped before the reply: the station resends the very same batch.
    second = station_a.results([], batch=body)
    assert [r["status"] for r in first] == ["accepted"] * 3
    assert [r["status"] for r in second] == ["duplicate"] * 3
    with hub_app.app_context():
        assert Event.select().count() == 3


def test_conflict_same_id_different_content_is_kept(hub_app, station_a, make_event):
    event = make_event()
    station_a.results([event])
    changed = {**event, "payload": case_snapshot(case_no="OTHER")}
    result = station_a.results([changed])[0]
    assert result["status"] == "conflict" and result["code"] == "content_mismatch" and result["reason"]
    station_a.results([changed])  # resending the clashing copy does not pile up rows
    with hub_app.app_context():
        conflicts = list(Conflict.select())
        assert len(conflicts) == 1
        assert personal.open_body(conflicts[0].body)["payload"]["case_no"] == "OTHER"
        assert personal.open_body(Event.get().body)["payload"]["case_no"] != "OTHER"


def test_seq_taken_by_another_event_is_conflict(hub_app, station_a, make_event):
    case_id = protocol.new_id()
    station_a.results([make_event(case_id=case_id)])
    result = station_a.results([make_event(case_id=case_id, seq=1)])[0]
    assert (result["status"], result["code"]) == ("conflict", "seq_taken")
    with hub_app.app_context():
        assert Conflict.get().existing_event_id is not None


def test_gap_is_retryable_out_of_order(station_a, make_event):
    case_id = protocol.new_id()
    station_a.results([make_event(case_id=case_id)])
    result = station_a.results([make_event(case_id=case_id, seq=3, kind="case.note")])[0]
    assert (result["status"], result["code"], result["retryable"]) == ("rejected", "out_of_order", True)
    assert "第 1 条" in result["reason"]


def test_batch_in_any_order_lands_in_case_order(hub_app, station_a, make_event):
    case_id = protocol.new_id()
    events = [make_event(case_id=case_id, seq=3, kind="case.note"), make_event(case_id=case_id),
              make_event(case_id=case_id, seq=2, kind="case.note")]
    results = station_a.results(events)
    assert [r["event_id"] for r in results] == [e["event_id"] for e in events]
    assert {r["status"] for r in results} == {"accepted"}


def test_unknown_kind_rejected_not_crash(station_a, make_event):
    case_id = protocol.new_id()
    station_a.results([make_event(case_id=case_id)])
    result = station_a.results([make_event(case_id=case_id, seq=2, kind="case.teleported")])[0]
    assert (result["status"], result["code"], result["retryable"]) == ("rejected", "unknown_kind", False)


def test_rejected_event_blocks_only_its_own_case(station_a, make_event):
    blocked, other = protocol.new_id(), protocol.new_id()
    events = [make_event(case_id=blocked, kind="case.teleported"),
              make_event(case_id=blocked, seq=2, kind="case.note"),
              make_event(case_id=other), make_event(case_id=other, seq=2, kind="case.note")]
    results = station_a.results(events)
    assert _statuses(results) == [("rejected", "unknown_kind"), ("rejected", "out_of_order"),
                                  ("accepted", None), ("accepted", None)]


def test_batch_with_one_bad_event_still_accepts_the_others(hub_app, station_a, make_event):
    good = [make_event() for _ in range(3)]
    bad = {"event_id": "garbage", "seq": "x"}
    results = station_a.results([good[0], bad, good[1], good[2]])
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted", "accepted"]
    assert results[1]["code"] == "bad_event"
    with hub_app.app_context():
        assert Event.select().count() == 3


def test_other_stations_case_refused(hub_app, station_a, station_b, make_event):
    event = make_event()
    station_a.results([event])
    intruder = make_event(case_id=event["case_id"], seq=2, kind="case.note")
    result = station_b.results([intruder])[0]
    assert (result["status"], result["code"]) == ("rejected", "not_your_case")
    # Re-sending A's own event id from B is refused too (and reveals nothing).
    result = station_b.results([event])[0]
    assert (result["status"], result["code"]) == ("rejected", "not_your_case")


def test_heartbeat_recorded_from_batch(any_hub_app, make_station, make_event):
    """On SQLite and PostgreSQL: each batch's heartbeat stored whole, the next one over it."""
    station_a = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    beat = {"app_version": "1.2.0", "schema_version": "0002_outbox", "protocol": 1, "queue_length": 7,
            "oldest_queued_age_s": 7200, "set_aside_count": 1, "clock_offset_s": -3.5,
            "free_disk_bytes": 10_000_000, "station_time": "2026-11-20T09:30:00+08:00"}
    for queued in (7, 3):
        station_a.results([make_event()], heartbeat=dict(beat, queue_length=queued, clock_offset_s=queued / 2))
        with any_hub_app.app_context():
            station = Station.get(Station.code == station_a.code)
            assert (station.queue_length, station.set_aside_count, station.clock_offset_s) == (queued, 1, queued / 2)
            assert station.app_version == "1.2.0" and station.free_disk_bytes == 10_000_000
            assert station.heartbeat["queue_length"] == queued and station.heartbeat["station_time"] == beat["station_time"]
            assert station.last_seen_at is not None and station.heartbeat_at == station.last_seen_at
    # the same batch again (its answer lost): nothing new, so no transaction of the batch's own,
    # and its heartbeat is still stored
    event = make_event()
    station_a.results([event], heartbeat=dict(beat, queue_length=5))
    assert station_a.results([event], heartbeat=dict(beat, queue_length=0))[0]["status"] == "duplicate"
    with any_hub_app.app_context():
        assert Station.get(Station.code == station_a.code).queue_length == 0


def test_a_heartbeat_that_cannot_be_stored_costs_no_event(any_hub_app, make_station, make_event, monkeypatch):
    """The heartbeat is written inside the batch's transaction; failing there, it must not undo the batch."""
    from sync.hub.services import stations

    station_a = make_station(any_hub_app, "ST-A", "甲村便民服务站")

    def broken(*_args, **_kwargs):
        def write(**_how):
            raise ValueError("heartbeat column refused")
        return write

    monkeypatch.setattr(stations, "heartbeat_update", broken)
    events = [make_event() for _ in range(3)]
    results = station_a.results(events, heartbeat={"queue_length": 4})
    assert [r["status"] for r in results] == ["accepted"] * 3
    assert [r["status"] for r in station_a.results(events)] == ["duplicate"] * 3
    with any_hub_app.app_context():
        assert Event.select().count() == 3


def test_batch_station_mismatch_forbidden(station_a, make_event):
    body = {"protocol": 1, "station": "ST-B", "batch_id": protocol.new_id(), "events": [make_event()]}
    response = station_a.batch([], batch=body)
    assert response.status_code == 403 and station_a.last_verified


def test_too_many_events_is_413(hub_app, station_a, make_event):
    hub_app.config["MAX_BATCH_EVENTS"] = 3
    response = station_a.batch([make_event() for _ in range(4)])
    assert response.status_code == 413 and response.json["max_events"] == 3
    assert station_a.last_verified  # authenticated before refusing, so the station can trust it


def test_oversize_body_is_413(hub_app, station_a):
    hub_app.config["MAX_BATCH_BYTES"] = 1000
    body = protocol.encode_body({"events": [], "pad": "x" * 5000}, compress=False)
    response = station_a.request("POST", "/api/v1/events", body)
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_gzip_bomb_is_413(hub_app, station_a):
    hub_app.config["MAX_DECOMPRESSED_BYTES"] = 100_000
    bomb = gzip.compress(json.dumps({"events": [], "pad": "0" * 1_000_000}).encode(), mtime=0)
    assert len(bomb) < 10_000
    response = station_a.request("POST", "/api/v1/events", bomb, gzip_body=True)
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_not_json_is_400(station_a):
    response = station_a.request("POST", "/api/v1/events", b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and station_a.last_verified


def test_v0_batch_is_served(hub_app, station_a, make_event):
    event = make_event()
    del event["deadline"]
    body = {"station": station_a.code, "batch_id": protocol.new_id(), "events": [event]}  # no protocol/heartbeat
    response = station_a.batch([], batch=body, version=0)
    assert response.status_code == 200 and station_a.last_verified
    assert response.json["results"][0]["status"] == "accepted"
    # After upgrading, the same queued event resent as v1 (now with a deadline) is a duplicate.
    event_v1 = {**event, "deadline": "2026-11-27"}
    assert station_a.results([event_v1])[0]["status"] == "duplicate"


def test_v2_batch_refused(station_a, make_event):
    response = station_a.batch([make_event()], version=2)
    assert response.status_code == 401 and response.json["error"] == "version"


def test_station_accepted_case_starts_accepted(hub_app, station_a, make_event):
    event = make_event(payload=case_snapshot(decision="accepted"))
    station_a.results([event])
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == event["case_id"]).status == "accepted"


# --- catalog grace ---------------------------------------------------------------------------

def _catalog(version: str, *, fields: list[dict], materials: list[dict]) -> dict:
    return valid_catalog(version, fields=fields, materials=materials)


OLD_FIELDS = [{"name": "insured_grade", "label": "缴费档次", "type": "select", "options": ["100元", "200元"]}]
NEW_FIELDS = OLD_FIELDS + [{"name": "bank_account", "label": "银行账号", "type": "text"}]
MATERIALS = [{"key": "id_card", "name": "居民身份证"}]
NEW_MATERIALS = [{"key": "id_card", "name": "居民身份证", "form": "copy"}, {"key": "photo", "name": "照片"}]


@pytest.fixture
def two_catalogs(hub_app):
    """v-old published 60 days ago, v-new published 40 days ago (grace 30 days)."""
    from sync.hub.services import catalog

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with hub_app.app_context():
        old = catalog.publish(_catalog("v-old", fields=OLD_FIELDS, materials=MATERIALS), clerk="t")
        new = catalog.publish(_catalog("v-new", fields=NEW_FIELDS, materials=NEW_MATERIALS), clerk="t")
        CatalogVersion.update(published_at=now - dt.timedelta(days=60)).where(CatalogVersion.id == old.id).execute()
        CatalogVersion.update(published_at=now - dt.timedelta(days=40)).where(CatalogVersion.id == new.id).execute()
    return now


def _iso(when: dt.datetime) -> str:
    return when.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")


def test_catalog_within_grace_accepted(station_a, make_event, two_catalogs):
    taken = two_catalogs - dt.timedelta(days=15)  # 25 days after v-new: inside the 30-day window
    result = station_a.results([make_event(catalog_version="v-old", occurred_at=_iso(taken))])[0]
    assert result["status"] == "accepted"


def test_catalog_stale_lists_what_to_recollect(station_a, make_event, two_catalogs):
    result = station_a.results([make_event(catalog_version="v-old", occurred_at=_iso(two_catalogs))])[0]
    assert (result["status"], result["code"], result["retryable"]) == ("rejected", "catalog_stale", False)
    assert result["reason"].count("以下内容需重新采集") == 1
    assert "银行账号" in result["reason"] and "照片" in result["reason"]
    assert result["recollect"]["fields"] == ["bank_account"]
    assert result["recollect"]["materials"] == ["id_card", "photo"]
    assert result["recollect"]["catalog_version"] == "v-new"


def test_catalog_current_version_accepted(station_a, make_event, two_catalogs):
    assert station_a.results([make_event(catalog_version="v-new")])[0]["status"] == "accepted"


def test_catalog_grace_is_configurable(hub_app, station_a, make_event, two_catalogs):
    hub_app.extensions["hub_platform"].grace_days = 60
    result = station_a.results([make_event(catalog_version="v-old", occurred_at=_iso(two_catalogs))])[0]
    assert result["status"] == "accepted"


def test_a_submitted_case_with_a_broken_bundle_membership_is_refused_and_not_filed(hub_app, station_a, make_event):
    """Issue 19: the county files a bundle's items under one code by its group; a membership that
    names another group is refused with a reason, nothing filed."""
    from sync.hub.models import HubCase
    from tests.fixtures.hub import case_snapshot

    body = case_snapshot(bundle_group="01JBUNDLE0000000000000000A",
                         bundle={"code": "B001", "name": "新生儿出生一件事", "group": "01JOTHER000000000000000000",
                                 "query_code": "K7P2QX", "position": 1, "size": 5})
    [result] = station_a.results([make_event(payload=body)])
    assert result["status"] == "rejected" and "bundle.group" in result["reason"]
    with hub_app.app_context():
        assert HubCase.select().count() == 0
    body["bundle"]["group"] = body["bundle_group"]
    assert station_a.results([make_event(payload=body)])[0]["status"] == "accepted"


def test_a_catalog_published_here_reaches_the_next_batch_at_once(hub_app, station_a, make_event, monkeypatch):
    """Batches check events against the head this process read in the last seconds; publishing forgets it."""
    from sync.hub.services import catalog

    with hub_app.app_context():
        catalog.publish(_catalog("v-1", fields=OLD_FIELDS, materials=MATERIALS), clerk="t")
    assert station_a.results([make_event(catalog_version="v-1")])[0]["status"] == "accepted"  # v-1 now kept
    with hub_app.app_context():
        catalog.publish(_catalog("v-2", fields=NEW_FIELDS, materials=NEW_MATERIALS), clerk="t")
    asked = []
    original = catalog.check_grace
    monkeypatch.setattr(catalog, "check_grace", lambda event, **kw: asked.append(event) or original(event, **kw))
    assert station_a.results([make_event(catalog_version="v-2")])[0]["status"] == "accepted"
    assert asked == []  # the head kept was forgotten: v-2 is current without a second look


def test_a_catalog_published_on_another_node_reaches_batches_here_within_seconds(hub_app, station_a, make_event,
                                                                                 monkeypatch):
    """Another node publishes: events naming it are taken meanwhile (read afresh), then on the quick path."""
    from sync.hub.services import catalog

    with hub_app.app_context():
        catalog.publish(_catalog("v-1", fields=OLD_FIELDS, materials=MATERIALS), clerk="t")
    assert station_a.results([make_event(catalog_version="v-1")])[0]["status"] == "accepted"  # v-1 now kept
    with hub_app.app_context(), monkeypatch.context() as elsewhere:
        elsewhere.setattr(catalog, "_head", Kept(catalog.HEAD_SECONDS))  # published on another node: ours kept
        catalog.publish(_catalog("v-2", fields=NEW_FIELDS, materials=NEW_MATERIALS), clerk="t")
    asked = []
    original = catalog.check_grace
    monkeypatch.setattr(catalog, "check_grace", lambda event, **kw: asked.append(event) or original(event, **kw))
    assert station_a.results([make_event(catalog_version="v-2")])[0]["status"] == "accepted"
    assert len(asked) == 1  # the head kept here is v-1: v-2 was read afresh, and taken
    now = kept.time.monotonic()
    monkeypatch.setattr(kept.time, "monotonic", lambda: now + catalog.HEAD_SECONDS + 1)
    assert station_a.results([make_event(catalog_version="v-2")])[0]["status"] == "accepted"
    assert len(asked) == 1  # seconds later the head here is v-2 too


def test_an_answer_kept_for_one_database_is_never_served_for_another(tmp_path):
    """Two hubs in one process (the demo, the tests): one database's kept answer is not the other's,
    even when the same database object is pointed at another file."""
    from peewee import SqliteDatabase

    from sync.hub.extensions import db

    kept: Kept[str] = Kept(60)
    first = SqliteDatabase(str(tmp_path / "a.db"))
    db.initialize(first)
    assert kept.get("head", lambda: "A") == "A"
    assert kept.get("head", lambda: "changed") == "A"  # kept
    db.initialize(SqliteDatabase(str(tmp_path / "b.db")))
    assert kept.get("head", lambda: "B") == "B"
    first.init(str(tmp_path / "c.db"))
    db.initialize(first)
    assert kept.get("head", lambda: "C") == "C"


def test_the_station_page_shows_the_heartbeat_in_the_units_it_names(hub_app, station_a, make_event, approver):
    station_a.results([make_event()], heartbeat={
        "queue_length": 7, "oldest_queued_age_s": 7200, "free_disk_bytes": 10_000_000_000,
        "station_time": "2026-11-20T09:30:00+08:00"})
    page = approver.get(f"/stations/{station_a.code}").get_data(as_text=True)
    beat = page.split("最后心跳", 1)[1].split("</section>", 1)[0]
    assert "2小时" in beat or "2 小时" in beat  # the backlog's age in hours, so its label names no seconds
    assert "GB" in beat and "（秒）" not in beat.split("时钟偏差")[0] and "（字节）" not in beat
    assert "2026-11-20 09:30" in beat and "2026-11-20T09:30:00+08:00" not in beat  # the station's clock, readable


def test_the_station_list_flags_a_station_pc_not_on_beijing_time(hub_app, station_a, make_event, approver):
    """A station dates its cases by its PC's clock: one on UTC is a day off the county's after China's midnight."""
    station_a.results([make_event()], heartbeat={"queue_length": 0, "station_time": "2026-12-03T08:30:00+08:00"})
    assert "时区 UTC" not in approver.get("/stations").get_data(as_text=True)
    station_a.results([make_event()], heartbeat={"queue_length": 0, "station_time": "2026-12-03T00:30:00+00:00"})
    assert "时区 UTC+00:00" in approver.get("/stations").get_data(as_text=True)
