"""A station's devices and bookings on the county's pages: a county admin adds a device (its secret shown
once) and revokes a lost laptop from its page (then it is refused); an approver sees but can do neither;
a day's bookings listed masked."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sync.hub.china_time import CHINA_TZ
from sync.hub.models import Device, HubAccessLog
from tests.fixtures.hub import SignedStation
from tests.hub.test_booking import DAYS, _book
from tests.hub.test_devices import _device


def test_a_county_admin_revokes_a_lost_laptop_from_its_page_and_it_is_refused(hub_app, county_admin, station_a,
                                                                              make_event):
    laptop = _device(hub_app, station_a)
    page = county_admin.get("/stations/ST-A/devices").get_data(as_text=True)
    assert "上门笔记本" in page and "使用中" in page
    refused = county_admin.csrf_post("/stations/ST-A/devices/revoke", {"name": "上门笔记本", "reason": " "},
                                     token_page="/stations/ST-A/devices", follow_redirects=True)
    assert "请写明停用原因" in refused.get_data(as_text=True)
    assert laptop.changes().status_code == 200  # nothing changed
    with hub_app.app_context():
        assert not HubAccessLog.select().where(HubAccessLog.action == "device_revoke").exists()
    response = county_admin.csrf_post("/stations/ST-A/devices/revoke", {"name": "上门笔记本", "reason": "笔记本遗失"},
                                      token_page="/stations/ST-A/devices", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已停用" in page and "笔记本遗失" in page
    assert laptop.batch([make_event()]).json["error"] == "device_revoked"
    assert station_a.results([make_event()])[0]["status"] == "accepted"  # the station PC goes on
    with hub_app.app_context():
        entry = HubAccessLog.select().where(HubAccessLog.action == "device_revoke").get()
        assert "笔记本遗失" in entry.detail and entry.role == "admin"


def test_stopping_a_stopped_laptop_again_keeps_when_and_why_it_was_stopped(hub_app, county_admin, station_a):
    _device(hub_app, station_a)
    form = {"name": "上门笔记本", "reason": "笔记本遗失"}
    county_admin.csrf_post("/stations/ST-A/devices/revoke", form, token_page="/stations/ST-A/devices")
    with hub_app.app_context():
        first = Device.get()
    again = county_admin.csrf_post("/stations/ST-A/devices/revoke", {**form, "reason": "找到了又丢了"},
                                   token_page="/stations/ST-A/devices", follow_redirects=True).get_data(as_text=True)
    stopped = first.revoked_at.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ)
    assert f"设备“上门笔记本”已于 {stopped:%Y-%m-%d %H:%M} 停用（笔记本遗失），无需再次停用" in again
    assert "它的下一次同步将被拒绝" not in again
    with hub_app.app_context():
        assert (Device.get().revoked_at, Device.get().revoked_reason) == (first.revoked_at, "笔记本遗失")
        assert HubAccessLog.select().where(HubAccessLog.action == "device_revoke").count() == 1


def test_an_approver_sees_the_devices_but_cannot_revoke_one(hub_app, approver, station_a):
    _device(hub_app, station_a)
    page = approver.get("/stations/ST-A/devices").get_data(as_text=True)
    assert "上门笔记本" in page and "停用原因" not in page
    response = approver.csrf_post("/stations/ST-A/devices/revoke", {"name": "上门笔记本", "reason": "遗失"},
                                  token_page="/stations/ST-A/devices")
    assert response.status_code == 403
    with hub_app.app_context():
        assert Device.get().active


def test_a_days_bookings_are_listed_with_their_state_and_masked(hub_app, hub_client, approver, station_a):
    assert station_a.post_json("/api/v1/appointments", {"offer": {
        "items": [{"code": "000111001000", "name": "城乡居民基本养老保险参保登记"}],
        "times": [{"start": "10:00", "end": "11:00", "capacity": 2}], "dates": DAYS, "home_visit": True},
        "bookings": []}).status_code == 200
    _book(hub_client, "ST-A")
    second = _book(hub_client, "ST-A", phone="13800001111", name="钱大爷")
    code = second.headers["Location"].rsplit("/", 1)[-1].split("?")[0]
    page = hub_client.get(second.headers["Location"]).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert hub_client.post(f"/book/c/{code}/cancel", data={"csrf_token": token}).status_code == 302

    page = approver.get(f"/stations/ST-A/bookings?day={DAYS[0]}").get_data(as_text=True)
    rows = page.split('id="booking-list"', 1)[1]
    assert "赵*英" in rows and "139****5678" in rows and "13912345678" not in rows
    assert "已预约" in rows and "已取消" in rows and code in rows
    other_day = (dt.date.fromisoformat(DAYS[0]) + dt.timedelta(days=1)).isoformat()
    assert "这一天没有预约" in approver.get(f"/stations/ST-A/bookings?day={other_day}").get_data(as_text=True)
    today = dt.datetime.now(CHINA_TZ).date().isoformat()  # the example is today, not a fixed day gone by
    assert (f"日期格式有误，应为 {today} 这样的日期。已显示今天的预约。"
            in approver.get("/stations/ST-A/bookings?day=2026-13-45").get_data(as_text=True))


def _add(client, name: str, **kw):  # noqa: ANN001, ANN202
    return client.csrf_post("/stations/ST-A/devices/add", {"name": name}, token_page="/stations/ST-A/devices", **kw)


def test_a_county_admin_adds_a_device_and_sees_its_secret_once_then_it_syncs(hub_app, county_admin, station_a):
    response = _add(county_admin, "平板2")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    secret = re.search(r'id="device-secret">([^<]+)<', page).group(1)
    assert "只在本页显示这一次" in page and "--code ST-A --device 1" in page
    listed = county_admin.get("/stations/ST-A/devices").get_data(as_text=True)
    assert "平板2" in listed.split('id="device-list"', 1)[1] and secret not in listed
    again = _add(county_admin, "平板2")  # a reload posts the form again
    assert "已有名为“平板2”的设备" in again.get_data(as_text=True) and secret not in again.get_data(as_text=True)
    tablet = SignedStation(hub_app, "ST-A", secret)
    tablet.device = 1
    assert tablet.changes().status_code == 200  # the secret shown is the one the hub verifies with
    with hub_app.app_context():
        assert Device.select().count() == 1
        entry = HubAccessLog.select().where(HubAccessLog.action == "device_add").get()
        assert entry.object == "ST-A/1" and "平板2" in entry.detail and secret not in entry.detail


@pytest.mark.parametrize("name", ["", "   ", "平板 2", "x" * 61])
def test_a_device_name_that_is_not_allowed_is_refused_in_chinese_and_nothing_is_added(hub_app, county_admin,
                                                                                       station_a, name):
    response = _add(county_admin, name)
    assert response.status_code == 400
    assert "设备名称只能包含汉字、字母、数字、下划线和连字符" in response.get_data(as_text=True)
    with hub_app.app_context():
        assert Device.select().count() == 0 and not HubAccessLog.select().where(
            HubAccessLog.action == "device_add").exists()


def test_an_approver_cannot_add_a_device(hub_app, approver, station_a):
    page = approver.get("/stations/ST-A/devices").get_data(as_text=True)
    assert "登记新设备" not in page
    assert _add(approver, "平板2").status_code == 403
    with hub_app.app_context():
        assert Device.select().count() == 0
