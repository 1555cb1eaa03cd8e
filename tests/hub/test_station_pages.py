"""A station's devices and bookings on the county's pages: a county admin revokes a lost laptop from
its page (then it is refused); an approver sees but cannot revoke; a day's bookings listed masked."""

from __future__ import annotations

import datetime as dt
import re

from sync.hub.models import Device, HubAccessLog
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
    response = county_admin.csrf_post("/stations/ST-A/devices/revoke", {"name": "上门笔记本", "reason": "笔记本遗失"},
                                      token_page="/stations/ST-A/devices", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已停用" in page and "笔记本遗失" in page
    assert laptop.batch([make_event()]).json["error"] == "device_revoked"
    assert station_a.results([make_event()])[0]["status"] == "accepted"  # the station PC goes on
    with hub_app.app_context():
        entry = HubAccessLog.select().where(HubAccessLog.action == "device_revoke").get()
        assert "笔记本遗失" in entry.detail and entry.role == "admin"


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
    assert "日期格式有误" in approver.get("/stations/ST-A/bookings?day=2026-13-45").get_data(as_text=True)
