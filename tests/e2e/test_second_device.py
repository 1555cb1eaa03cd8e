"""A second device at one station (issue 16): a laptop and the station PC take cases in the same
minute offline, then sync in either order — distinct case numbers, every event at the county once,
and each sees all the station's cases (its own, and the other's as read-only copies)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from flask import Flask

from demo.loopback import ServedHub
from station import create_app
from station.extensions import db
from station.models import Case, SharedCase
from sync.transport import HubLink
from tests.fixtures.config import station_test_config
from tests.fixtures.e2e import STATION_CODE, hub_events, queue_cases, station_events, sync
from tests.fixtures.station import StationClient


def _add_device(hub: ServedHub, name: str) -> tuple[int, str]:
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import devices

    with hub.app.app_context(), hub_db.connection_context():
        device, secret = devices.add_device(STATION_CODE, name)
        return device.number, secret


@pytest.fixture
def laptop(linked: Flask, hub: ServedHub, tmp_path: Path, station_template: Path) -> Flask:
    """The same station initialised on a laptop, linked as the station's device 1."""
    folder = tmp_path / "laptop"
    folder.mkdir()
    shutil.copyfile(station_template, folder / "station.sqlite3")
    app = create_app(station_test_config(folder), instance_path=str(folder / "instance"))
    number, secret = _add_device(hub, "上门笔记本")
    with app.app_context(), db.connection_context():
        HubLink(hub.url, STATION_CODE, secret, number).save()
    return app


def _numbers(app: Flask) -> list[str]:
    with app.app_context(), db.connection_context():
        return [c.case_no for c in Case.select()]


def _all_cases_seen(app: Flask) -> set[str]:
    with app.app_context(), db.connection_context():
        return {c.id for c in Case.select()} | {c.id for c in SharedCase.select()}


@pytest.mark.parametrize("first", ["pc", "laptop"])
def test_two_devices_numbering_offline_in_the_same_minute_never_collide(linked, laptop, hub, first):
    pc = linked
    pc_cases = queue_cases(pc, 3)
    laptop_cases = queue_cases(laptop, 3)
    pc_numbers, laptop_numbers = _numbers(pc), _numbers(laptop)
    assert not set(pc_numbers) & set(laptop_numbers), "the two devices minted the same case number offline"
    assert all(n.endswith("-01") for n in laptop_numbers) and not any("-" in n for n in pc_numbers)

    order = [pc, laptop] if first == "pc" else [laptop, pc]
    for app in order + order:  # each syncs, then each again: the first learns the second's cases
        summary = sync(app)
        assert summary.error == "" and summary.rejected == 0 and summary.conflicts == 0, summary.error

    at_hub = hub_events(hub)
    ids = [event_id for event_id, _case, _seq in at_hub]
    assert len(ids) == len(set(ids)), "an event is stored twice at the county"
    sent = {e[0] for e in station_events(pc)} | {e[0] for e in station_events(laptop)}
    assert set(ids) == sent, "the county and the two devices disagree on which events exist"
    assert all(state == "acked" for *_r, state in station_events(pc) + station_events(laptop))

    everything = set(pc_cases) | set(laptop_cases)
    assert _all_cases_seen(pc) == everything
    assert _all_cases_seen(laptop) == everything
    with laptop.app_context(), db.connection_context():
        copy = SharedCase.get_by_id(pc_cases[0])
        assert copy.origin_device == 0 and copy.case_no in pc_numbers
        assert copy.snapshot["applicant"]["id_number"]  # the copy is whole, sealed at rest
    with pc.app_context(), db.connection_context():
        assert {c.origin_device for c in SharedCase.select()} == {1}
        full_id = SharedCase.get_by_id(laptop_cases[0]).snapshot["applicant"]["id_number"]

    agent = StationClient(pc.test_client()).login("agent")
    page = agent.client.get("/cases/").get_data(as_text=True)
    assert all(number in page for number in laptop_numbers) and "第 1 号设备" in page
    detail = agent.client.get(f"/cases/shared/{laptop_cases[0]}").get_data(as_text=True)
    assert "只读" in detail and full_id not in detail and full_id[:6] in detail


def test_a_revoked_device_is_refused_with_its_reason_and_the_station_pc_goes_on(linked, laptop, hub):
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import devices

    queue_cases(laptop, 1)
    with hub.app.app_context(), hub_db.connection_context():
        devices.revoke_device(STATION_CODE, "上门笔记本", "笔记本遗失")
    summary = sync(laptop)
    assert "被县级平台停用" in summary.error and "笔记本遗失" in summary.error
    assert len(hub_events(hub)) == 0
    queue_cases(linked, 1)
    assert sync(linked).error == ""
    assert len(hub_events(hub)) == 1


def test_bookings_reach_every_device_and_only_the_station_pc_publishes_the_offer(linked, laptop, hub):
    from station.models import Appointment, User
    from station.services import appointments
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import AppointmentOffer
    from tests.fixtures.intake import item_named

    pc = linked
    for app, enabled in ((pc, True), (laptop, False)):  # the laptop's own settings differ: they must not win
        with app.app_context(), db.connection_context():
            code = item_named("城乡居民基本养老保险参保登记").item_code
            appointments.save_offer(enabled, [code], [{"start": "09:00", "end": "10:00", "capacity": 2}], 14, True)
    for app in (pc, laptop):
        assert sync(app).error == ""

    def published_dates() -> list[str]:
        with hub.app.app_context(), hub_db.connection_context():
            return AppointmentOffer.get().body["dates"]

    assert published_dates()
    with laptop.app_context(), db.connection_context():
        appointments.save_offer(True, [code], [{"start": "09:00", "end": "10:00", "capacity": 2}], 14, True)
        day = appointments.published_offer()["dates"][1]
        booking = appointments.book_for_caller(User.get(User.username == "agent"), item_code=code, day=day,
                                               start="09:00", name="钱大爷", phone="13800002222", home_visit=True,
                                               address="东关村一组1号")
    assert sync(laptop).error == "" and sync(pc).error == ""
    assert published_dates()  # still the PC's: the laptop never sent its offer
    with pc.app_context(), db.connection_context():
        assert Appointment.get_by_id(booking.id).status == "booked"
        appointments.set_status(booking.id, "cancelled")
    assert sync(pc).error == "" and sync(laptop).error == ""
    with laptop.app_context(), db.connection_context():
        assert Appointment.get_by_id(booking.id).status == "cancelled"
    with pc.app_context(), db.connection_context():
        assert Appointment.select().count() == 1


def test_the_station_pcs_reports_and_ledger_count_the_cases_its_laptop_took(linked, laptop, hub):
    """报表 and 台账 on the station PC are the station's: the cases its laptop took on home visits were
    missing from both (the county counted them for the station), so the station head's figures fell
    short of the county's by exactly the home visits' cases."""
    import datetime as dt
    from collections import Counter

    from rules.periods import Period
    from station.models import User
    from station.services import ledger, statistics

    pc = linked
    queue_cases(pc, 2)
    queue_cases(laptop, 2, item_name="城乡居民基本养老保险参保登记")  # the station accepts it (委托受理)
    queue_cases(laptop, 1)  # collected, for the county to accept: 待受理 there, 已收件 at the station
    for app in (laptop, pc):
        assert sync(app).error == ""

    def taken(app: Flask) -> list[tuple[str, str, str, str]]:
        """Each device's own cases, read where they were taken: (number, item, agent, status)."""
        with app.app_context(), db.connection_context():
            return [(c.case_no, c.item.name, c.agent.name, c.status_name) for c in Case.select()]

    at_pc, on_laptop = taken(pc), taken(laptop)
    everything = at_pc + on_laptop
    today = dt.date.today()
    period = Period("day", today, today)
    with pc.app_context(), db.connection_context():
        stats = statistics.compute(period, today)
        made = ledger.export(period, "csv", User.get(User.username == "agent"), "127.0.0.1")
        full_ids = [c.snapshot["applicant"]["id_number"] for c in SharedCase.select()]
    assert stats.total == len(everything) and made.count == len(everything)
    assert dict(stats.table("item").rows) == dict(Counter(item for _n, item, _a, _s in everything))
    assert dict(stats.table("agent").rows) == dict(Counter(agent for _n, _i, agent, _s in everything))
    assert dict(stats.table("status").rows) == dict(Counter(status for _n, _i, _a, status in everything))
    assert stats.trend[-1][:2] == (today, len(everything))
    lines = list(csv.reader(io.StringIO(made.data.decode("utf-8-sig"))))
    number_at, device_at, status_at = (lines[0].index(h) for h in ("办件编号", "同步", "状态"))
    listed = {line[number_at].strip(): (line[device_at], line[status_at]) for line in lines[1:]}
    assert set(listed) == {number for number, *_rest in everything}
    assert {listed[number][0] for number, *_rest in on_laptop} == {"第 1 号设备"}
    assert {number: listed[number][1] for number, *_rest in on_laptop} == {n: s for n, _i, _a, s in on_laptop}
    body = made.data.decode("utf-8-sig")
    assert full_ids and not any(number in body for number in full_ids)  # masked, as the PC's own


def _county_tells(hub: ServedHub, case_id: str, kind: str, payload: dict, **dues) -> None:
    """The county appends a change about the case to its station's feed, as its services do."""
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubCase
    from sync.hub.services import changes

    with hub.app.app_context(), hub_db.connection_context(), hub_db.atomic():
        case = HubCase.get(HubCase.case_id == case_id)
        if dues:
            HubCase.update(**dues).where(HubCase.id == case.id).execute()
        changes.emit(kind, payload, station=case.station, case_id=case_id)


def _copy(app: Flask, case_id: str) -> SharedCase:
    with app.app_context(), db.connection_context():
        return SharedCase.get_by_id(case_id)


def test_the_laptops_withdrawal_hold_and_county_dates_reach_the_station_pcs_copy_once(linked, laptop, hub):
    """撤回, 跨域办 hold and the county's dates of a case the laptop took reach the station PC's read-only copy.

    Before, the PC's copy read 待受理 after the resident withdrew on the laptop; a forward held and the
    county's 法定/承诺 dates reached only the laptop. Each is one line under 县级平台通知, a second pull
    (the feed read again) adds nothing, and the laptop itself sees its own case as before.
    """
    import datetime as dt

    from rules.periods import Period
    from station.services import ledger
    from sync import protocol

    pc = linked
    [held_case, withdrawn_case] = queue_cases(laptop, 2)
    assert sync(laptop).error == "" and sync(pc).error == ""
    assert _copy(pc, withdrawn_case).status == "submitted"

    _county_tells(hub, held_case, protocol.CHANGE_FORWARD_HELD, {"held": True, "county": "乙县政务服务平台", "seq": 1})
    _county_tells(hub, held_case, protocol.CHANGE_CASE_DUES, {"reason": "supplement_pause"},
                  committed_due=dt.date(2027, 1, 20), statutory_due=dt.date(2027, 2, 3))
    from station.models import User
    from station.services import withdrawal

    with laptop.app_context(), db.connection_context():
        withdrawal.withdraw(Case.get_by_id(withdrawn_case), User.get(User.username == "agent"), "儿子已在市里办好", "applicant")
    assert sync(laptop).error == ""
    for _ in range(2):  # the second pull brings nothing new
        summary = sync(pc)
        assert summary.error == "" and summary.rejected == 0

    gone = _copy(pc, withdrawn_case)
    assert gone.status == "withdrawn"
    assert [n["text"] for n in gone.snapshot["county"]["notes"]] == [
        "申请人已撤回申请（在第 1 号设备办理），县级平台已停止办理"]
    held = _copy(pc, held_case)
    assert held.snapshot["county"]["forward_held"] is True
    assert held.snapshot["county"]["committed_due"] == "2027-01-20"
    assert [n["text"] for n in held.snapshot["county"]["notes"]] == [
        "转送办理地（乙县政务服务平台）暂未成功，县级平台正在处理", (
            "以县级平台的期限为准：承诺期限 2027-01-20（暂定）；法定期限 2027-02-03（暂定）")]  # 2027 not published

    agent = StationClient(pc.test_client()).login("agent")
    page = agent.client.get(f"/cases/shared/{withdrawn_case}").get_data(as_text=True)
    assert "已撤回" in page and "县级平台通知" in page
    page = agent.client.get(f"/cases/shared/{held_case}").get_data(as_text=True)
    assert "转送办理地暂未成功" in page and "2027-01-20" in page and "2027-02-03" in page

    # the county says the same again (a conflict settled keeping its dates; a round re-checking the hold)
    _county_tells(hub, held_case, protocol.CHANGE_CASE_DUES, {"reason": "conflict_resolved"})
    _county_tells(hub, held_case, protocol.CHANGE_FORWARD_HELD, {"held": True, "county": "乙县政务服务平台", "seq": 1})
    assert sync(pc).error == ""
    assert len(_copy(pc, held_case).snapshot["county"]["notes"]) == 2
    with pc.app_context(), db.connection_context():  # the PC's 台账 counts the copy by the county's dates
        made = ledger.export(Period("day", dt.date.today(), dt.date.today()), "csv", User.get(User.username == "agent"),
                             "127.0.0.1")
    lines = list(csv.reader(io.StringIO(made.data.decode("utf-8-sig"))))
    due_at, provisional_at, number_at = (lines[0].index(h) for h in ("承诺期限", "暂定期限", "办件编号"))
    [line] = [line for line in lines[1:] if line[number_at].strip() == held.case_no]
    assert (line[due_at], line[provisional_at]) == ("2027-01-20", "是")
    _county_tells(hub, held_case, protocol.CHANGE_FORWARD_HELD, {"held": False, "county": "乙县政务服务平台", "seq": 1})
    assert sync(pc).error == "" and sync(laptop).error == ""
    assert _copy(pc, held_case).snapshot["county"]["forward_held"] is False
    page = agent.client.get(f"/cases/shared/{held_case}").get_data(as_text=True)
    assert "转送办理地暂未成功" not in page and "已恢复" in page
    with laptop.app_context(), db.connection_context():
        own = Case.get_by_id(held_case)
        assert own.committed_due == dt.date(2027, 1, 20)  # the device that took it, as before
        assert Case.get_by_id(withdrawn_case).status == "withdrawn"
        assert SharedCase.select().count() == 0
        withdrawal.withdraw(own, User.get(User.username == "agent"), "不再需要", "proxy")
    assert sync(laptop).error == "" and sync(pc).error == ""  # case.shared again: the county's view refreshed
    refreshed = _copy(pc, held_case)
    assert refreshed.status == "withdrawn" and refreshed.snapshot["county"]["committed_due"] == "2027-01-20"
    assert len(refreshed.snapshot["county"]["notes"]) == 4  # held, dates, resumed, withdrawn
