"""Appointments at the station: the agent books for a caller (refused like the county refuses), the day
plan lists bookings masked, no-shows and cancellations are recorded, and only the station admin sets the offer."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Appointment, Case, User
from station.services import appointments
from station.services.calendar import set_override
from station.services.errors import DomainError
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

ITEM = "城乡居民基本养老保险参保登记"


def _next_workdays(app, n: int) -> list[str]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return appointments.published_offer()["dates"][:n]


@pytest.fixture
def offer(app):  # noqa: ANN001, ANN201
    with app.app_context(), db.connection_context():
        appointments.save_offer(True, [item_named(ITEM).item_code],
                                [{"start": "09:00", "end": "10:00", "capacity": 1},
                                 {"start": "10:00", "end": "11:00", "capacity": 3}], 14, True)
        return appointments.published_offer()


def _book(app, **over):  # noqa: ANN001, ANN003, ANN202
    with app.app_context(), db.connection_context():
        values = {"item_code": item_named(ITEM).item_code, "day": over.pop("day"), "start": "10:00", "name": "赵桂英",
                  "phone": "13912345678", "home_visit": False, "address": "", **over}
        return appointments.book_for_caller(User.get(User.username == "agent"), **values)


def _count(app) -> int:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return Appointment.select().count()


def test_the_offer_dates_are_the_stations_working_days(app, offer):
    days = [dt.date.fromisoformat(d) for d in offer["dates"]]
    assert days and all(d.weekday() < 5 for d in days)
    with app.app_context(), db.connection_context():
        set_override(days[1], False, "本站停业一天")
        assert days[1].isoformat() not in appointments.published_offer()["dates"]


def test_a_holiday_is_refused_and_nothing_is_stored(app, offer):
    day = dt.date.fromisoformat(offer["dates"][1])
    with app.app_context(), db.connection_context():
        set_override(day, False, "村委会换届")
    with pytest.raises(DomainError, match="服务站不办公"):
        _book(app, day=day.isoformat())
    assert _count(app) == 0


def test_a_past_slot_is_refused(app, offer):
    with pytest.raises(DomainError, match="时段已过"):
        _book(app, day=(dt.date.today() - dt.timedelta(days=1)).isoformat())
    assert _count(app) == 0


def test_a_full_slot_is_refused(app, offer):
    day = offer["dates"][1]
    _book(app, day=day, start="09:00")
    with pytest.raises(DomainError, match="已约满"):
        _book(app, day=day, start="09:00", phone="13800001111", name="钱大爷")
    assert _count(app) == 1


def test_the_same_phone_for_the_same_slot_is_refused(app, offer):
    day = offer["dates"][1]
    _book(app, day=day)
    with pytest.raises(DomainError, match="此电话号码已预约了这个时段"):
        _book(app, day=day, name="赵桂英")
    assert _count(app) == 1


def test_a_home_visit_needs_an_address_and_the_details_are_sealed(app, offer):
    day = offer["dates"][1]
    with pytest.raises(DomainError, match="选择上门服务的，请填写住址"):
        _book(app, day=day, home_visit=True)
    booking = _book(app, day=day, home_visit=True, address="东关村三组12号")
    assert "东关村" not in booking.address_stored and "13912345678" not in booking.phone_stored
    assert "赵桂英" not in booking.name_stored


def test_the_day_plan_masks_and_records_no_shows_and_cancellations(app, agent, offer):
    day = offer["dates"][1]
    first = _book(app, day=day)
    second = _book(app, day=day, phone="13800001111", name="钱大爷")
    page = agent.get(f"/appointments/?day={day}").get_data(as_text=True)
    assert "赵*英" in page and "139****5678" in page and "13912345678" not in page
    response = agent.post(f"/appointments/{second.id}/status", {"status": "cancelled", "day": day})
    assert response.status_code == 302
    response = agent.post(f"/appointments/{first.id}/status", {"status": "no_show", "day": day})
    assert response.status_code == 302
    page = agent.get(f"/appointments/?day={day}").get_data(as_text=True)
    assert "预约时间还没到，不能登记为未到" in page
    with app.app_context(), db.connection_context():
        assert Appointment.get_by_id(second.id).status == "cancelled"
        assert Appointment.get_by_id(first.id).status == "booked"
        assert Appointment.get_by_id(second.id).version == 2  # goes up with the next sync
    response = agent.post(f"/appointments/{second.id}/status", {"status": "cancelled", "day": day})
    assert "不能再更改" in agent.get(f"/appointments/?day={day}").get_data(as_text=True)


def test_the_agent_books_for_a_caller_through_the_form(app, agent, offer):
    day = offer["dates"][1]
    with app.app_context(), db.connection_context():
        code = item_named(ITEM).item_code
    response = agent.post("/appointments/new", {"item_code": code, "slot_date": day, "slot_start": "10:00",
                                                "name": "孙福贵", "phone": "1370000", "address": ""})
    assert response.status_code == 400 and "联系电话不正确" in response.get_data(as_text=True)
    assert _count(app) == 0
    response = agent.post("/appointments/new", {"item_code": code, "slot_date": day, "slot_start": "10:00",
                                                "name": "孙福贵", "phone": "13700002222", "address": ""})
    assert response.status_code == 302 and _count(app) == 1


def test_only_the_station_admin_sets_the_offer(app, agent, admin):
    assert agent.get("/appointments/offer").status_code == 403
    response = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7", "start_0": "9点",
                                                  "end_0": "10:00", "capacity_0": "2"})
    assert response.status_code == 400 and "时段 9点–10:00 不正确" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert appointments.offer_settings()["enabled"] is False
    response = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7", "start_0": "09:00",
                                                  "end_0": "10:00", "capacity_0": "2"})
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert appointments.offer_settings()["enabled"] is True


def test_on_a_laptop_the_offer_page_says_its_settings_are_not_published(app, admin):
    """Only the station PC publishes the offer: a laptop's admin was told '下次同步时发布到县级平台' in vain."""
    from sync.transport import HubLink

    with app.app_context(), db.connection_context():
        HubLink("http://127.0.0.1:9", "ST141081102201", "laptop-secret-0123456789", 1).save()  # link … --device 1
    page = admin.get("/appointments/offer").get_data(as_text=True)
    assert 'id="device-offer"' in page and "不会发布到县级平台" in page
    saved = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7", "start_0": "09:00",
                                               "end_0": "10:00", "capacity_0": "2"}, follow_redirects=True)
    said = saved.get_data(as_text=True)
    assert "只用于本机（第 1 号设备）" in said and "下次同步时发布到县级平台" not in said


def test_on_a_laptop_without_an_offer_the_agent_is_told_to_open_it_on_this_machine(app):
    from sync.transport import HubLink

    with app.app_context(), db.connection_context():
        HubLink("http://127.0.0.1:9", "ST141081102201", "laptop-secret-0123456789", 1).save()
        day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    with pytest.raises(DomainError, match="请站长在本机的“预约设置”中按站点主机的设置开放"):
        _book(app, day=day)
    assert _count(app) == 0


def test_overlapping_times_are_refused_naming_the_clash_and_nothing_is_saved(app, admin):
    with app.app_context(), db.connection_context():
        before = appointments.offer_settings()
    response = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7",
                                                  "start_0": "09:30", "end_0": "10:30", "capacity_0": "2",
                                                  "start_1": "09:00", "end_1": "10:00", "capacity_1": "2"})
    assert response.status_code == 400
    assert "时段 09:00–10:00 与 09:30–10:30 重叠" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert appointments.offer_settings() == before
    response = admin.post("/appointments/offer", {"enabled": "1", "days_ahead": "7",  # end meets start: no clash
                                                  "start_0": "09:00", "end_0": "10:00", "capacity_0": "2",
                                                  "start_1": "10:00", "end_1": "11:00", "capacity_1": "2"})
    assert response.status_code == 302


def test_a_crash_while_marking_the_booking_leaves_no_case_and_the_booking_open(app, agent, offer, monkeypatch):
    booking = _book(app, day=offer["dates"][1])
    with app.app_context(), db.connection_context():
        item = item_named(ITEM)
        data = form_for([item], applicant_name="赵桂英", applicant_phone="13912345678", appointment=booking.id)

    def disk_full() -> None:
        raise OSError("disk full")

    monkeypatch.setattr(appointments, "now", disk_full)  # the second step (booking → converted) fails
    assert agent.post(f"/intake/item/{item.id}", data).status_code == 500
    with app.app_context(), db.connection_context():
        assert Case.select().count() == 0 and OutboxEvent.select().count() == 0
        assert Appointment.get_by_id(booking.id).status == "booked"
    monkeypatch.undo()
    assert agent.post(f"/intake/item/{item.id}", data).status_code == 302  # tried again: both steps at once
    with app.app_context(), db.connection_context():
        assert Appointment.get_by_id(booking.id).case_id == Case.get().id


def test_a_day_in_a_year_without_holiday_data_is_offered_to_the_caller_as_provisional(app, agent, offer):
    from station.services.calendar import set_year_known

    first = offer["dates"][0]
    option = agent.get("/appointments/new").get_data(as_text=True).split(f'<option value="{first}"')[1].split("</option>")[0]
    assert "暂定" not in option  # a year the table knows
    with app.app_context(), db.connection_context():
        for year in {int(d[:4]) for d in offer["dates"]}:
            set_year_known(year, False)
    option = agent.get("/appointments/new").get_data(as_text=True).split(f'<option value="{first}"')[1].split("</option>")[0]
    assert f"（暂定：{first[:4]}年节假日安排未公布）" in option
