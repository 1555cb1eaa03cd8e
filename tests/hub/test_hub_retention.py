"""Retention at the county: a finished booking's or home visit's resident is cleared after the retention
period (name and phone masked, no address, the number no longer finds the booking); recent or unfinished
ones keep theirs; the dry run changes nothing; a station sending the record again does not bring the
resident back; the county's pages say 保存期满，个人信息已清除."""

from __future__ import annotations

import datetime as dt
import getpass
import threading

import pytest
from click.testing import CliRunner

from rules import events
from sync import protocol
from sync.hub import create_app
from sync.hub.cli import cli
from sync.hub.extensions import db, key_ring
from sync.hub.models import Appointment, Conflict, Event, HubAccessLog, HubHomeVisit
from sync.hub.services import access_log, home_visits, personal, retention
from sync.hub.services.appointments import china_now
from tests.fixtures.hub import SignedStation, _make_station, logged_in

MONTHS = 36
OLD = (china_now().date() - dt.timedelta(days=365 * 3 + 60)).isoformat()  # past 36 months
RECENT = (china_now().date() - dt.timedelta(days=30)).isoformat()
PHONE = "13912345678"


def _booking(day: str, status: str, name: str, phone: str = PHONE, **over: object) -> dict[str, object]:
    return {"appointment_id": protocol.new_id(), "slot_date": day, "slot_start": "10:00", "slot_end": "11:00",
            "item_code": "000111001000", "item_name": "城乡居民基本养老保险参保登记", "name": name, "phone": phone,
            "home_visit": True, "address": "示范县东关镇东关村五组3号", "status": status, **over}


def _visit(day: str, name: str, *, booking: str = "") -> dict[str, object]:
    return {"event_id": protocol.new_id(), "case_id": protocol.new_id(), "seq": 1, "kind": events.VISIT_RECORDED,
            "occurred_at": f"{day}T10:40:00+08:00", "catalog_version": "2026.11-demo", "deadline": None,
            "payload": {"visited_on": day, "started_at": "09:30", "ended_at": "10:40", "staff": "王代办",
                        "resident": {"name": name, "phone": "13700002222", "address": "示范县东关镇东关村五组3号"},
                        "purpose": "代办养老保险参保登记", "outcome": "done", "appointment_id": booking}}


def _case_taken(visit: dict[str, object]) -> dict[str, object]:
    """A case taken during the visit: the county has not got the case, so it counts as open."""
    return {**visit, "event_id": protocol.new_id(), "seq": 2, "kind": events.VISIT_CASE_TAKEN,
            "payload": {"case_id": protocol.new_id(), "case_no": "ST-A-2022-0001"}}


@pytest.fixture
def county(any_hub_app) -> tuple[object, SignedStation, dict[str, dict[str, object]]]:
    """A station that sent old and recent, finished and unfinished bookings and visits."""
    station = _make_station(any_hub_app, "ST-A", "甲村便民服务站")
    answered = _booking(OLD, "booked", "周德明", "13600003333")  # still "booked": answered by a visit
    sent = {"old_cancelled": _booking(OLD, "cancelled", "赵桂英"),
            "old_no_show": _booking(OLD, "no_show", "钱大爷", "13800001111", note="女儿钱小红来电：13800009999"),
            "old_waiting": _booking(OLD, "booked", "孙小红", "13500004444"),  # never marked: over all the same
            "old_answered": answered,
            "recent_cancelled": _booking(RECENT, "cancelled", "李春花", "13400005555")}
    response = station.post_json("/api/v1/appointments", {"bookings": list(sent.values())})
    assert response.status_code == 200 and response.json["stored"] == 5, response.get_data(as_text=True)
    visits = {"old_done": _visit(OLD, "孙福贵", booking=str(answered["appointment_id"])),
              "old_open_case": _visit(OLD, "吴二柱"), "recent": _visit(RECENT, "郑小芳")}
    batch = [*visits.values(), _case_taken(visits["old_open_case"])]
    assert [r["status"] for r in station.results(batch)] == ["accepted"] * 4
    return any_hub_app, station, {**sent, **visits}


def _resident(app, booking: dict[str, object]) -> tuple[str, str, str, str, bool]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        row = Appointment.get(Appointment.appointment_id == booking["appointment_id"])
        return (key_ring.unseal(row.name_stored), key_ring.unseal(row.phone_stored),
                key_ring.unseal(row.address_stored) if row.address_stored else "", row.phone_index,
                row.personal_purged_at is not None)


def _note(app, booking: dict[str, object]) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return Appointment.get(Appointment.appointment_id == booking["appointment_id"]).note


def _visit_resident(app, visit: dict[str, object]) -> tuple[str, str, str, list[str]]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        row = HubHomeVisit.get(HubHomeVisit.visit_id == visit["case_id"])
        bodies = [str(personal.open_body(e.body)) for e in Event.select().where(Event.case_id == visit["case_id"])]
        return (key_ring.unseal(row.resident_name_stored), key_ring.unseal(row.resident_phone_stored),
                key_ring.unseal(row.address_stored) if row.address_stored else "", bodies)


def _found_by_phone(app, phone: str) -> set[str]:  # noqa: ANN001
    """Bookings the number finds (the blind index the county's booking check reads)."""
    with app.app_context(), db.connection_context():
        return {a.appointment_id for a in Appointment.select().where(
            Appointment.phone_index.in_(key_ring.blind_indexes(phone)))}


def test_finished_old_bookings_and_visits_lose_their_resident_and_the_number_no_longer_finds_them(county):
    app, _station, sent = county
    assert _found_by_phone(app, PHONE) == {sent["old_cancelled"]["appointment_id"]}
    with app.app_context(), db.connection_context():
        visits = retention.purge_visits(MONTHS)
        bookings = retention.purge_bookings(MONTHS)
        assert [(v.visit_id, v.masked_name) for v in visits] == [(sent["old_done"]["case_id"], "孙*贵")]
        assert sorted(b.masked_name for b in bookings) == ["周*明", "孙*红", "赵*英", "钱*爷"]
        log = [(e.action, e.actor_name) for e in HubAccessLog.select().order_by(HubAccessLog.seq)]
        assert sorted(log) == [("appointment_change", "系统")] * 4 + [("home_visit", "系统")]
        assert access_log.verify().ok
        assert retention.purge_visits(MONTHS) == [] and retention.purge_bookings(MONTHS) == []  # once

    assert _resident(app, sent["old_cancelled"]) == ("赵*英", "139****5678", "", "", True)
    assert _note(app, sent["old_no_show"]) == ""  # free text: it named a relative and a number
    assert _resident(app, sent["old_answered"])[:2] == ("周*明", "136****3333")
    assert _found_by_phone(app, PHONE) == set()
    name, phone, address, bodies = _visit_resident(app, sent["old_done"])
    assert (name, phone, address) == ("孙*贵", "137****2222", "")
    assert not any(s in body for body in bodies for s in ("孙福贵", "13700002222", "五组3号"))
    assert sent["old_done"]["payload"]["appointment_id"] in bodies[0]  # the link to its booking stays

    # recent or unfinished: untouched
    recent = _resident(app, sent["recent_cancelled"])
    assert recent[:3] == ("李春花", "13400005555", "示范县东关镇东关村五组3号") and recent[3] and not recent[4]
    assert _resident(app, sent["old_waiting"])[:2] == ("孙*红", "135****4444")  # never marked, long over
    assert _visit_resident(app, sent["old_open_case"])[0] == "吴二柱"
    assert _visit_resident(app, sent["recent"])[0] == "郑小芳"
    assert _found_by_phone(app, "13400005555") == {sent["recent_cancelled"]["appointment_id"]}


def test_a_booking_answered_by_a_visit_waits_for_the_visit(county):
    app, station, sent = county
    late = _case_taken(sent["old_done"])  # the visit now has a case the county has not closed
    assert station.results([late])[0]["status"] == "accepted"
    with app.app_context(), db.connection_context():
        assert retention.purge_visits(MONTHS) == []
        assert sorted(b.masked_name for b in retention.purge_bookings(MONTHS)) == ["孙*红", "赵*英", "钱*爷"]
    assert _resident(app, sent["old_answered"])[0] == "周德明"


def test_the_dry_run_lists_masked_and_changes_nothing(county, monkeypatch):
    app, _station, sent = county
    from sync.hub import cli as hub_cli

    monkeypatch.setattr(hub_cli, "_app", lambda: app)
    before = [_resident(app, b) for b in sent.values() if "appointment_id" in b]
    result = CliRunner().invoke(cli, ["purge-personal", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "孙*贵" in result.output and "赵*英" in result.output and "周*明" in result.output
    assert "孙福贵" not in result.output and "赵桂英" not in result.output and "孙小红" not in result.output
    assert "上门服务记录：将清除 1 条" in result.output and "预约：将清除 4 个" in result.output
    assert [_resident(app, b) for b in sent.values() if "appointment_id" in b] == before
    assert _visit_resident(app, sent["old_done"])[0] == "孙福贵"
    with app.app_context(), db.connection_context():
        assert not HubAccessLog.select().exists()


def test_the_command_clears_and_logs_the_command_line_user(county, monkeypatch):
    app, _station, sent = county
    from sync.hub import cli as hub_cli

    monkeypatch.setattr(hub_cli, "_app", lambda: app)
    monkeypatch.setattr(getpass, "getuser", lambda: "zhangsan")
    result = CliRunner().invoke(cli, ["purge-personal"])
    assert result.exit_code == 0, result.output
    assert "上门服务记录：已清除 1 条" in result.output and "预约：已清除 4 个" in result.output
    assert _resident(app, sent["old_no_show"])[0] == "钱*爷"
    with app.app_context(), db.connection_context():
        assert {e.actor_name for e in HubAccessLog.select()} == {"命令行（zhangsan）"}
    monkeypatch.setitem(app.config, "PERSONAL_RETENTION_MONTHS", 0)
    refused = CliRunner().invoke(cli, ["purge-personal"])
    assert refused.exit_code == 1 and "未设置预约和上门服务记录的保存期限" in refused.output


def test_a_station_sending_them_again_after_the_purge_does_not_bring_the_resident_back(county):
    app, station, sent = county
    with app.app_context(), db.connection_context():
        retention.purge_visits(MONTHS)
        retention.purge_bookings(MONTHS)
    again = {**sent["old_no_show"], "status": "converted", "case_id": protocol.new_id(), "case_no": "ST-A-2022-0009"}
    response = station.post_json("/api/v1/appointments", {"bookings": [again, sent["old_cancelled"]]})
    assert response.status_code == 200 and response.json["stored"] == 1  # the state moved, the person did not
    assert _resident(app, sent["old_no_show"])[:4] == ("钱*爷", "138****1111", "", "")
    assert _note(app, sent["old_no_show"]) == ""
    assert _resident(app, sent["old_cancelled"])[:4] == ("赵*英", "139****5678", "", "")
    assert _found_by_phone(app, PHONE) == set()
    assert station.results([sent["old_done"]])[0]["status"] == "duplicate"
    assert _visit_resident(app, sent["old_done"])[0] == "孙*贵"


def _clashing_copies(app, visit: dict[str, object]) -> list[str]:  # noqa: ANN001
    """The station's clashing copies of a visit's events the county keeps for a person, opened."""
    with app.app_context(), db.connection_context():
        return [str(personal.open_body(c.body)) for c in Conflict.select().where(Conflict.case_id == visit["case_id"])]


def test_a_clashing_copy_of_a_cleared_visit_is_cleared_too_and_sending_copies_again_brings_nothing_back(county):
    app, station, sent = county
    visit = sent["old_done"]
    clash = {**visit, "payload": {**visit["payload"], "purpose": "代办医保参保登记"}}  # same id, other content
    assert station.results([clash])[0]["status"] == "conflict"
    assert "孙福贵" in _clashing_copies(app, visit)[0]
    with app.app_context(), db.connection_context():
        assert [v.masked_name for v in retention.purge_visits(MONTHS)] == ["孙*贵"]
    [copy] = _clashing_copies(app, visit)
    assert "孙*贵" in copy and "137****2222" in copy and "代办医保参保登记" in copy  # still tells what clashed
    again = {**visit, "payload": {**visit["payload"], "purpose": "代办低保申请"}}  # yet another copy
    assert [r["status"] for r in station.results([clash, again])] == ["conflict", "conflict"]
    copies = _clashing_copies(app, visit)
    assert len(copies) == 2 and all("孙*贵" in c for c in copies)
    assert not any(s in c for c in copies for s in ("孙福贵", "13700002222", "五组3号"))


def test_the_county_pages_show_the_cleared_records_masked_and_say_so(hub_app, hub_client, approver):
    station = _make_station(hub_app, "ST-A", "甲村便民服务站")
    booking = _booking(OLD, "cancelled", "赵桂英")
    assert station.post_json("/api/v1/appointments", {"bookings": [booking]}).status_code == 200
    visit = _visit(OLD, "孙福贵")
    assert station.results([visit])[0]["status"] == "accepted"
    bookings_page = f"/stations/ST-A/bookings?day={OLD}"
    visits_page = f"/numbers/visits?period=day&day={OLD}"
    assert "保存期满" not in approver.get(bookings_page).get_data(as_text=True)
    assert "保存期满" not in approver.get(visits_page).get_data(as_text=True)
    with hub_app.app_context(), db.connection_context():
        retention.purge_visits(MONTHS)
        retention.purge_bookings(MONTHS)
    rows = approver.get(bookings_page).get_data(as_text=True).split('id="booking-list"', 1)[1]
    assert "赵*英" in rows and "139****5678" in rows and "保存期满，个人信息已清除" in rows
    rows = approver.get(visits_page).get_data(as_text=True).split('id="visit-list"', 1)[1]
    assert "孙*贵" in rows and "保存期满，个人信息已清除" in rows and "东关村" not in rows
    with hub_app.app_context():
        code = Appointment.get().code
    page = hub_client.get(f"/book/c/{code}").get_data(as_text=True)  # the resident's own page
    assert "赵*英" in page and "139****5678" in page and "保存期满，个人信息已清除" in page


def test_a_cleared_booking_stays_out_of_the_phone_index_after_a_key_rotation(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL", "HUB_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    station = _make_station(app, "ST-A", "甲村便民服务站")
    assert station.post_json("/api/v1/appointments", {"bookings": [_booking(OLD, "cancelled", "赵桂英")]}).status_code == 200
    with app.app_context(), db.connection_context():
        assert len(retention.purge_bookings(MONTHS)) == 1
    result = CliRunner().invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    fresh = create_app()
    ring = fresh.extensions["hub_key_ring"]
    with fresh.app_context(), db.connection_context():
        row = Appointment.get()
        assert (ring.unseal(row.name_stored), ring.unseal(row.phone_stored), row.phone_index) == ("赵*英", "139****5678", "")
    if not db.is_closed():
        db.close()


def test_the_conflicts_page_shows_a_cleared_visits_resident_as_the_purge_left_it(county):
    app, station, sent = county
    visit = sent["old_done"]
    clash = {**visit, "payload": {**visit["payload"], "purpose": "代办医保参保登记"}}
    assert station.results([clash])[0]["status"] == "conflict"
    with app.app_context(), db.connection_context():
        retention.purge_visits(MONTHS)
    html = logged_in(app, "clerk", "approver", "县级窗口").get("/conflicts").get_data(as_text=True)
    assert html.count("137****2222") == 2 and html.count("孙*贵") == 2  # both copies; masked once, not blurred


def test_a_cleared_visit_stays_cleared_when_the_county_takes_the_stations_copy(county):
    """A conflict still open when the purge ran, settled after it: the decision must not bring the person back."""
    app, station, sent = county
    visit = sent["old_done"]
    resident = {"name": "李秀兰", "phone": "13611112222", "address": "示范县西关镇西关村二组8号"}
    clash = {**visit, "payload": {**visit["payload"], "purpose": "代办医保参保登记", "resident": resident}}
    assert station.results([clash])[0]["status"] == "conflict"
    with app.app_context(), db.connection_context():
        assert [v.masked_name for v in retention.purge_visits(MONTHS)] == ["孙*贵"]
        conflict_id = Conflict.get().id
    clerk = logged_in(app, "clerk", "approver", "县级窗口")
    page = clerk.csrf_post(f"/conflicts/{conflict_id}/resolve", {"resolution": "take_station", "note": "以站点为准"},
                           token_page="/conflicts", follow_redirects=True).get_data(as_text=True)
    assert "已处理：采用站点记录" in page
    rows = clerk.get(f"/numbers/visits?period=day&day={OLD}").get_data(as_text=True).split('id="visit-list"', 1)[1]
    rows = rows.split("</table>", 1)[0]
    assert "代办医保参保登记" in rows  # the station's copy was taken …
    assert "孙*贵" in rows and "保存期满，个人信息已清除" in rows and "李*兰" not in rows  # … its resident was not
    name, phone, address, bodies = _visit_resident(app, visit)
    assert (name, phone, address) == ("孙*贵", "137****2222", "")
    for plain in ("李秀兰", "13611112222", "二组8号", "孙福贵", "13700002222", "五组3号"):
        assert not any(plain in body for body in bodies)


@pytest.mark.parametrize("purge_when", ["before the lock", "after the lock"])
def test_a_purge_running_while_the_county_resolves_still_leaves_the_visit_cleared(pg_hub_app, monkeypatch, purge_when):
    """PostgreSQL (READ COMMITTED): the resolution has read the station's copy in full when a purge runs.

    Before the resolution locks the visit, the purge commits: the copy stored must be cleared all the same.
    After it, the purge waits for the resolution, then clears what was decided. (On SQLite the race cannot
    happen: the hub's write transactions begin IMMEDIATE.)
    """
    app = pg_hub_app
    station = _make_station(app, "ST-A", "甲村便民服务站")
    visit = _visit(OLD, "孙福贵")
    assert station.results([visit])[0]["status"] == "accepted"
    clash = {**visit, "payload": {**visit["payload"], "purpose": "代办医保参保登记"}}
    assert station.results([clash])[0]["status"] == "conflict"
    lock_the_visit, purged = home_visits.held, []

    def purge() -> None:
        with app.app_context(), db.connection_context():
            purged.extend(retention.purge_visits(MONTHS))

    worker = threading.Thread(target=purge)

    def purge_meanwhile(visit_id: str):  # noqa: ANN202
        if purge_when == "before the lock":
            worker.start()
            worker.join(timeout=30)
            return lock_the_visit(visit_id)
        held = lock_the_visit(visit_id)
        worker.start()
        worker.join(timeout=2)  # it waits for the lock: go on, and let it finish after the commit
        return held

    monkeypatch.setattr(home_visits, "held", purge_meanwhile)
    with app.app_context(), db.connection_context():
        conflict_id = Conflict.get().id
    clerk = logged_in(app, "clerk", "approver", "县级窗口")
    page = clerk.csrf_post(f"/conflicts/{conflict_id}/resolve", {"resolution": "take_station", "note": "以站点为准"},
                           token_page="/conflicts", follow_redirects=True).get_data(as_text=True)
    if worker.ident is not None:  # started: let a purge waiting on the lock finish
        worker.join(timeout=30)
    assert "已处理：采用站点记录" in page and [p.masked_name for p in purged] == ["孙*贵"]
    name, _phone, address, bodies = _visit_resident(app, visit)
    assert (name, address) == ("孙*贵", "") and "代办医保参保登记" in bodies[0]
    assert not any(plain in body for body in bodies for plain in ("孙福贵", "13700002222", "五组3号"))
