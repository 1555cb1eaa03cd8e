"""A fresh station before its first pull has no catalog: every page that lists the catalog's items opens
and says the catalog comes with the first sync, and anything that needs an item is refused in Chinese
with nothing changed — never an error page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from station.extensions import db
from station.models import Appointment, CatalogVersion, Setting
from station.services import appointments
from tests.fixtures.station import StationClient, make_station_app

FIRST_SYNC = "目录在本站首次与县级平台同步时下发"
VISIT = {"visited_on": dt.date.today().isoformat(), "started_at": "09:30", "ended_at": "10:40",
         "staff": "王代办", "resident_name": "孙福贵", "resident_phone": "13700002222",
         "address": "示范县东关镇东关村五组3号", "purpose": "代办养老保险参保登记", "outcome": "done"}


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Flask]:
    """A station as ``python -m station init`` leaves it, without ``--demo-catalog`` and before any sync."""
    app = make_station_app(tmp_path, with_catalog=False)
    with app.app_context(), db.connection_context():
        assert CatalogVersion.current() is None
    yield app
    if not db.is_closed():
        db.close()


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_booking_for_a_caller_says_the_catalog_comes_with_the_first_sync(fresh):
    agent = StationClient(fresh.test_client()).login("agent")
    page = agent.get("/appointments/new")
    assert page.status_code == 200 and FIRST_SYNC in _page(page)
    assert 'id="appointment-form"' not in _page(page)  # no form to fill in for nothing
    refused = agent.post("/appointments/new", {"slot_date": (dt.date.today() + dt.timedelta(days=1)).isoformat(),
                                               "slot_start": "09:00", "name": "赵桂英", "phone": "13912345678"})
    assert refused.status_code == 400 and FIRST_SYNC in _page(refused)
    with fresh.app_context(), db.connection_context():
        assert Appointment.select().count() == 0


def test_the_booking_settings_say_so_too_and_keep_what_was_set(fresh):
    admin = StationClient(fresh.test_client()).login("admin")
    page = admin.get("/appointments/offer")
    assert page.status_code == 200 and FIRST_SYNC in _page(page) and 'id="offer-form"' not in _page(page)
    refused = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7", "start_0": "09:00",
                                                 "end_0": "10:00", "capacity_0": "2"})
    assert refused.status_code == 400 and FIRST_SYNC in _page(refused)
    with fresh.app_context(), db.connection_context():
        assert not Setting.get_value(appointments.OFFER_KEY) and not appointments.offer_settings()["enabled"]


def test_the_item_permissions_page_refuses_a_change_in_chinese(fresh):
    admin = StationClient(fresh.test_client()).login("admin")
    assert FIRST_SYNC in _page(admin.get("/admin/items"))
    answer = admin.post("/admin/items", {"impl_code": "11141081MB0194271R4000111001000", "can_accept": "1"},
                        follow_redirects=True)
    assert answer.status_code == 200 and FIRST_SYNC in _page(answer) and "受理权限已更新" not in _page(answer)


def test_a_home_visit_recorded_before_the_first_sync_opens_and_takes_no_case_yet(fresh):
    agent = StationClient(fresh.test_client()).login("agent")
    recorded = agent.post("/visits/new", VISIT)
    assert recorded.status_code == 302
    visit_page = recorded.headers["Location"]
    page = agent.get(visit_page)
    assert page.status_code == 200 and "孙*贵" in _page(page) and FIRST_SYNC in _page(page)
    assert "填写申请" not in _page(page)
    taking = agent.get(f"{visit_page}/case?item_code=000111001000", follow_redirects=True)
    assert taking.status_code == 200 and FIRST_SYNC in _page(taking)


def test_a_booking_from_the_county_before_the_catalog_waits_to_become_a_case(fresh):
    agent = StationClient(fresh.test_client()).login("agent")
    with fresh.app_context(), db.connection_context(), db.atomic():
        booking = appointments.apply_from_hub({  # as a pull files it
            "appointment_id": "01KBCDE0000000000000000000", "code": "ABCD2345", "status": "booked",
            "slot_date": (dt.date.today() + dt.timedelta(days=1)).isoformat(), "slot_start": "09:00",
            "slot_end": "10:00", "item_code": "", "item_name": "", "name": "赵桂英", "phone": "13912345678"})
    page = agent.get(f"/appointments/{booking.id}/case")
    assert page.status_code == 200 and FIRST_SYNC in _page(page) and "填写申请" not in _page(page)
    with fresh.app_context(), db.connection_context():
        assert Appointment.get_by_id(booking.id).status == "booked"
