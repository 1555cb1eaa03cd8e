"""Appointments end to end: the station publishes its offer, a resident books at the county, the station
sees it after a sync, the agent turns it into a case in one click, and the resident's page shows the case;
a booking an agent made for a caller reaches the county and takes its place there."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from demo.loopback import ServedHub
from station.extensions import db
from station.models import Appointment, Case
from station.services import appointments
from sync.hub.models import Event, HubHomeVisit
from sync.outbox import OutboxEvent
from tests.fixtures.e2e import sync
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.station import StationClient

ITEM = "城乡居民基本养老保险参保登记"


def _open(app: Flask) -> str:
    with app.app_context(), db.connection_context():
        appointments.save_offer(True, [item_named(ITEM).item_code],
                                [{"start": "09:00", "end": "10:00", "capacity": 1}], 14, True)
        return appointments.published_offer()["dates"][1]  # not today: every slot of it is ahead


def _resident_books(hub: ServedHub, station_code: str, day: str, **over: str):  # noqa: ANN202
    client = hub.app.test_client()
    page = client.get(f"/book/s/{station_code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "item_code": over.pop("item_code", ""), "slot": f"{day} 09:00", "name": "赵桂英",
            "phone": "13912345678", "home_visit": "1", "address": "东关村三组12号", **over}
    return client, client.post(f"/book/s/{station_code}", data=data)


def test_a_booking_made_at_the_county_becomes_a_case_at_the_station_and_the_resident_sees_it(linked, hub):
    app = linked
    day = _open(app)
    assert sync(app).error == ""
    with app.app_context(), db.connection_context():
        code = item_named(ITEM).item_code
    resident, response = _resident_books(hub, "ST141081102201", day, item_code=code)
    assert response.status_code == 302, response.get_data(as_text=True)
    booking_url = response.headers["Location"]

    assert sync(app).error == ""
    agent = StationClient(app.test_client()).login("agent")
    plan = agent.get(f"/appointments/?day={day}").get_data(as_text=True)
    assert "赵*英" in plan and "139****5678" in plan and "上门服务" in plan and "13912345678" not in plan
    with app.app_context(), db.connection_context():
        booking = Appointment.get()
        assert "13912345678" not in booking.phone_stored and "东关村" not in booking.address_stored

    response = agent.get(f"/appointments/{booking.id}/case")  # one click
    assert response.status_code == 302 and "appointment=" in response.headers["Location"]
    form = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="赵桂英"' in form and "13912345678" in form and "东关村三组12号" in form
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        data = form_for([item], applicant_name="赵桂英", applicant_phone="13912345678",
                        applicant_address="东关村三组12号", appointment=booking.id)
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    with app.app_context(), db.connection_context():
        case = Case.get()
        assert Appointment.get().status == "converted" and Appointment.get().case_id == case.id

    assert sync(app).error == ""
    page = resident.get(booking_url).get_data(as_text=True)
    assert "已转为办件" in page and case.case_no in page and f"/q/{case.query_code}" in page
    assert resident.get(f"/q/{case.query_code}").status_code == 200


def test_an_agent_books_for_a_caller_offline_and_the_county_counts_the_place(linked, hub, faults):
    app = linked
    day = _open(app)
    assert sync(app).error == ""
    faults.down = True
    with app.app_context(), db.connection_context():
        from station.models import User

        code = item_named(ITEM).item_code
        appointments.book_for_caller(User.get(User.username == "agent"), item_code=code, day=day, start="09:00",
                                     name="钱大爷", phone="13800002222", home_visit=False, address="")
    assert sync(app).error  # the link is down: the booking waits
    faults.down = False
    assert sync(app).error == ""
    with app.app_context(), db.connection_context():
        assert Appointment.get().sent_version == Appointment.get().version == 1
    _client, response = _resident_books(hub, "ST141081102201", day, item_code=code)
    assert response.status_code == 400 and "已约满" in response.get_data(as_text=True)
    assert dt.date.fromisoformat(day) > dt.date.today()


def test_a_home_visit_recorded_at_the_station_reaches_the_county_by_the_ordinary_sync(linked, hub):
    app = linked
    agent = StationClient(app.test_client()).login("agent")
    today = dt.date.today().isoformat()
    response = agent.post("/visits/new", {"visited_on": today, "started_at": "09:30", "ended_at": "10:40",
                                          "staff": "王代办", "resident_name": "孙福贵", "resident_phone": "13700002222",
                                          "address": "东关村五组3号", "purpose": "代办参保登记", "outcome": "done"})
    assert response.status_code == 302
    assert sync(app).error == ""
    assert sync(app).error == ""  # nothing twice
    with hub.app.app_context():
        [visit] = HubHomeVisit.select()
        assert visit.staff == "王代办" and visit.station.code == "ST141081102201"
        assert Event.select().where(Event.case_id == visit.visit_id).count() == 1
    with app.app_context(), db.connection_context():
        assert not OutboxEvent.select().where(OutboxEvent.state != "acked").exists()


def test_a_visit_conflict_the_county_settles_reaches_the_visit_record_and_unblocks_the_station(linked, hub, faults):
    """The station's copy of a visit drifted after the county stored it: the county takes the station's copy,
    its visits page shows it, and the station settles the set-aside event and sends the visit's next one."""
    from sync.outbox import enqueue
    from tests.fixtures.hub import logged_in, resolve_conflict

    app = linked
    agent = StationClient(app.test_client()).login("agent")
    today = dt.date.today().isoformat()
    assert agent.post("/visits/new", {"visited_on": today, "started_at": "09:30", "staff": "王代办",
                                      "resident_name": "孙福贵", "resident_phone": "13700002222",
                                      "address": "东关村五组3号", "purpose": "代办参保登记",
                                      "outcome": "done"}).status_code == 302
    faults.drop_after = 1
    assert sync(app).error  # the county stored the visit; its answer was lost
    with app.app_context(), db.connection_context():
        recorded = OutboxEvent.get()
        recorded.payload = {**recorded.payload, "started_at": "09:45", "ended_at": "10:40"}  # the copy drifted
        recorded.save()
        with db.atomic():
            enqueue(recorded.case_id, "visit.case_taken", {"case_id": "C-LATER", "case_no": "ST-2026-0042"},
                    catalog_version=recorded.catalog_version)
    blocked = sync(app)
    assert blocked.conflicts == 1 and blocked.queue_left == 1  # the case taken waits behind the conflict

    county = logged_in(hub.app, "county", "approver", "县级窗口")
    page = resolve_conflict(county, "take_station", "以站点为准")
    assert "已处理：采用站点记录" in page
    sync(app)  # the decision comes down: the set-aside event is settled
    done = sync(app)  # the case taken during the visit goes out
    assert done.error == "" and done.queue_left == 0
    with app.app_context(), db.connection_context():
        assert {(e.seq, e.state, e.result) for e in OutboxEvent.select()} == {(1, "acked", "resolved"),
                                                                              (2, "acked", "accepted")}
    rows = county.get(f"/numbers/visits?period=day&day={today}").get_data(as_text=True).split('id="visit-list"', 1)[1]
    assert "09:45–10:40" in rows and "ST-2026-0042" in rows and "09:30" not in rows
    # the agent who recorded the visit sees on its page what the county decided, and why
    history = agent.get(f"/visits/{recorded.case_id}").get_data(as_text=True).split('id="visit-history"', 1)[1]
    assert "核对了同步冲突：采用本站记录（说明：以站点为准）。此次上门服务暂停的后续记录已恢复上传。" in history.split("</ul>")[0]


def test_a_fresh_station_with_no_catalog_yet_syncs_gets_the_catalog_then_publishes_its_offer(hub, tmp_path):
    """`python -m station init` without a catalog, `link`, then the scheduler's round: the round must not
    fail over the booking offer (it lists the catalog's items), or the catalog would never arrive."""
    from station import create_app
    from station.catalog_data import load_demo_catalog
    from station.models import CatalogVersion
    from station.setup import initialise
    from station.sync_hooks import station_hooks
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import AppointmentOffer
    from sync.hub.services import catalog as hub_catalog
    from sync.jobs import sync_round
    from tests.fixtures.config import station_test_config
    from tests.fixtures.e2e import STATION_CODE, link

    folder = tmp_path / "fresh"
    app = create_app(station_test_config(folder), instance_path=str(folder / "instance"))
    initialise(app, {"code": STATION_CODE, "name": "东关村便民服务站"})
    link(app, hub)
    with hub.app.app_context(), hub_db.connection_context():
        hub_catalog.publish(load_demo_catalog(), clerk="县级张")

    def offered() -> list[str]:
        with hub.app.app_context(), hub_db.connection_context():
            return [c["name"] for o in AppointmentOffer.select() for c in o.body.get("choices") or []]

    with app.app_context(), db.connection_context():
        assert CatalogVersion.current() is None
    first = sync_round(app, station_hooks(app))
    assert first.error == ""  # what the sync page would show as 同步出错
    with app.app_context(), db.connection_context():
        assert CatalogVersion.current() is not None  # the pull went on and brought the catalog
    assert offered() == []  # no items to offer before the catalog: nothing was sent
    assert sync_round(app, station_hooks(app)).error == ""
    assert ITEM in offered()  # the next round publishes the offer with the catalog's items
