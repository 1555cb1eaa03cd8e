"""The resident's booking on the county's public page (预约): booked, refused with a reason, cancelled."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sync.hub.models import Appointment, Change
from sync.hub.services.appointments import china_now

TODAY = china_now().date()
DAYS = [(TODAY + dt.timedelta(days=n)).isoformat() for n in (1, 2, 4, 5)]  # day +3 is a holiday
HOLIDAY = (TODAY + dt.timedelta(days=3)).isoformat()
OFFER = {"items": [{"code": "000111001000", "name": "城乡居民基本养老保险参保登记"}],
         "times": [{"start": "09:00", "end": "10:00", "capacity": 1}, {"start": "10:00", "end": "11:00", "capacity": 2}],
         "dates": DAYS, "home_visit": True}


@pytest.fixture
def open_station(station_a):  # noqa: ANN001, ANN201
    response = station_a.post_json("/api/v1/appointments", {"offer": OFFER, "bookings": []})
    assert response.status_code == 200, response.get_data(as_text=True)
    return station_a


def _book(client, code: str, **over: str):  # noqa: ANN001, ANN202
    page = client.get(f"/book/s/{code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "item_code": "000111001000", "slot": f"{DAYS[0]} 10:00", "name": "赵桂英",
            "phone": "13912345678", "address": "", **over}
    return client.post(f"/book/s/{code}", data=data)


def _counts(hub_app) -> tuple[int, int]:  # noqa: ANN001
    with hub_app.app_context():
        return Appointment.select().count(), Change.select().count()


def test_a_resident_books_and_the_station_is_told_with_the_details_sealed_at_rest(hub_app, hub_client, open_station):
    response = _book(hub_client, open_station.code, home_visit="1", address="东关村三组12号")
    assert response.status_code == 302
    page = hub_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "预约成功" in page and "已预约" in page and "139****5678" in page and "赵*英" in page
    assert "13912345678" not in page and "东关村三组" not in page
    [change] = [c for c in open_station.changes().json["changes"] if c["kind"] == "appointment.changed"]
    assert change["payload"]["phone"] == "13912345678" and change["payload"]["address"] == "东关村三组12号"
    with hub_app.app_context():
        row = Appointment.get()
        assert "13912345678" not in row.phone_stored and "赵桂英" not in row.name_stored
        assert "东关村" not in row.address_stored and "东关村" not in str(Change.get().payload)


@pytest.mark.parametrize(("over", "words"), [
    ({"slot": f"{HOLIDAY} 10:00"}, "服务站不办公"),
    ({"slot": f"{(TODAY - dt.timedelta(days=1)).isoformat()} 10:00"}, "时段已过"),
    ({"slot": f"{DAYS[0]} 08:00"}, "没有 08:00 开始的预约时段"),
    ({"item_code": "999"}, "不接受这个事项"),
    ({"phone": "12345"}, "联系电话不正确"),
    ({"name": " "}, "请填写姓名"),
    ({"home_visit": "1", "address": ""}, "选择上门服务的，请填写住址（到村、组、门牌）"),
    ({"slot": ""}, "请选择预约日期"),
])
def test_a_booking_that_does_not_fit_is_refused_with_its_reason_and_nothing_changes(
        hub_app, hub_client, open_station, over, words):
    before = _counts(hub_app)
    response = _book(hub_client, open_station.code, **over)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert _counts(hub_app) == before


def test_a_full_slot_is_refused(hub_app, hub_client, open_station):
    assert _book(hub_client, open_station.code, slot=f"{DAYS[0]} 09:00").status_code == 302
    before = _counts(hub_app)
    response = _book(hub_client, open_station.code, slot=f"{DAYS[0]} 09:00", phone="13800001111")
    assert response.status_code == 400 and "已约满" in response.get_data(as_text=True)
    assert _counts(hub_app) == before
    assert "已约满" in hub_client.get(f"/book/s/{open_station.code}").get_data(as_text=True)


def test_the_same_phone_cannot_book_the_same_slot_twice(hub_app, hub_client, open_station):
    assert _book(hub_client, open_station.code).status_code == 302
    before = _counts(hub_app)
    response = _book(hub_client, open_station.code, name="赵桂英")
    assert response.status_code == 400 and "此电话号码已预约了这个时段" in response.get_data(as_text=True)
    assert _counts(hub_app) == before
    assert _book(hub_client, open_station.code, slot=f"{DAYS[1]} 10:00").status_code == 302  # another slot is fine


def test_the_resident_cancels_by_code_and_the_place_is_free_again(hub_app, hub_client, open_station):
    response = _book(hub_client, open_station.code, slot=f"{DAYS[0]} 09:00")
    url = response.headers["Location"]
    code = url.rsplit("/", 1)[-1].split("?")[0]
    page = hub_client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert hub_client.post(f"/book/c/{code}/cancel", data={"csrf_token": token}).status_code == 302
    assert "已取消" in hub_client.get(f"/book/c/{code}").get_data(as_text=True)
    kinds = [c["payload"]["status"] for c in open_station.changes().json["changes"] if c["kind"] == "appointment.changed"]
    assert kinds == ["cancelled", "cancelled"]  # both changes serve the booking as it is now
    response = hub_client.post(f"/book/c/{code}/cancel", data={"csrf_token": token})
    assert response.status_code == 400 and "不能再取消" in response.get_data(as_text=True)
    assert _book(hub_client, open_station.code, slot=f"{DAYS[0]} 09:00", phone="13800001111").status_code == 302


def test_an_unknown_code_says_so_and_lookups_are_rate_limited(hub_app, hub_client, open_station):
    response = hub_client.get("/book/c/ZZZZZZZZ")
    assert response.status_code == 404 and "没有找到这个预约码" in response.get_data(as_text=True)
    hub_app.config["PUBLIC_LOOKUP_LIMIT"] = 2
    statuses = [hub_client.get("/book/c/ZZZZZZZZ").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_a_full_slot_cannot_be_chosen_on_the_form(hub_app, hub_client, open_station):
    assert _book(hub_client, open_station.code, slot=f"{DAYS[0]} 09:00").status_code == 302
    page = hub_client.get(f"/book/s/{open_station.code}").get_data(as_text=True)
    assert re.search(rf'value="{DAYS[0]} 09:00"\s+disabled>', page)  # chosen, it was refused only after sending
    assert re.search(rf'value="{DAYS[0]} 10:00"\s*>', page)


def test_a_station_with_no_time_open_offers_a_call_instead_of_a_form(hub_app, hub_client, station_a, county_admin):
    """The form asked for a name and a phone, then said 请选择预约日期: there was no date to choose."""
    closed = {**OFFER, "dates": []}
    assert station_a.post_json("/api/v1/appointments", {"offer": closed, "bookings": []}).status_code == 200
    page = hub_client.get(f"/book/s/{station_a.code}").get_data(as_text=True)
    assert "近期没有可预约的时段。请直接到服务站办理。" in page
    assert 'name="phone"' not in page and "提交预约" not in page
    county_admin.csrf_post(f"/stations/{station_a.code}", {"public_phone": "0351-5550101"})
    page = hub_client.get(f"/book/s/{station_a.code}").get_data(as_text=True)
    assert "请直接到服务站办理，或先打电话问一问。" in page and 'href="tel:0351-5550101"' in page


def test_a_holiday_the_county_published_is_not_offered_though_the_station_still_counts_it_a_working_day(
        hub_app, hub_client, station_a):
    """The station offered 2027-01-01 (元旦) before the county's 2027 table reached it; the county does not."""
    from sync.hub.services import holidays

    offer = {**OFFER, "dates": ["2027-01-01", "2027-01-04"]}
    assert station_a.post_json("/api/v1/appointments", {"offer": offer, "bookings": []}).status_code == 200
    page = hub_client.get(f"/book/s/{station_a.code}").get_data(as_text=True)
    assert "<summary>2027-01-01" in page  # nothing published for 2027 yet: offered, and said to be provisional
    assert "暂定：2027年节假日安排尚未公布" in page
    with hub_app.app_context():
        year, rows = holidays.parse_csv("day,kind,name\n2027-01-01,放假,元旦\n")
        holidays.publish(year, rows, "县级管理员")
    page = hub_client.get(f"/book/s/{station_a.code}").get_data(as_text=True)
    assert "<summary>2027-01-01" not in page and "<summary>2027-01-04" in page
    assert "暂定" not in page
    refused = _book(hub_client, station_a.code, slot="2027-01-01 10:00")
    assert refused.status_code == 400 and "服务站不办公" in refused.get_data(as_text=True)
