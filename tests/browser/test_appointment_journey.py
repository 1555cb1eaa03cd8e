"""预约 in a real browser: a resident books on the county's public page on a phone, the station sees it
after a sync, the agent turns it into a case, and the resident's page then shows the case."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.test_journeys import ELDERLY, sync_now
from tests.fixtures.browser import expect, fill_intake, valid_id_number

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.mark.screens("appointment-booked")
def test_a_resident_books_on_a_phone_and_the_agent_turns_it_into_a_case(person, stack, new_context, shots):
    admin = person("admin")
    admin.goto(f"{stack.url}/appointments/offer")
    admin.check("input[name=enabled]")
    shots.take(admin, "station-offer", full_page=True)
    admin.get_by_role("button", name="保存").click()
    assert "预约设置已保存" in admin.locator(".flash").first.inner_text()
    clerk = person("clerk")
    sync_now(clerk, stack)

    resident = new_context(**PHONE).new_page()
    resident.goto(f"{stack.hub.url}/book/")
    resident.get_by_role("link", name="东关村便民服务站").click()
    resident.select_option("#item_code", label=ELDERLY)
    first_slot = resident.locator("input[name=slot]").first
    day = first_slot.get_attribute("value").split(" ")[0]
    first_slot.check()
    resident.fill("#name", "孙福贵")
    resident.fill("#phone", "13700002222")
    resident.check("#home_visit")
    resident.fill("#address", "示范县东关镇东关村五组3号")
    shots.take(resident, "resident-form", full_page=True)
    resident.get_by_role("button", name="提交预约").click()
    resident.wait_for_url(re.compile(r"/book/c/[0-9A-Z]+"))
    assert "预约成功" in resident.content()
    code = resident.locator("#booking-code").inner_text()
    assert resident.locator("#booking-status").inner_text() == "已预约"
    assert "137****2222" in resident.content() and "13700002222" not in resident.content()
    shots.take(resident, "resident-booked", full_page=True)

    sync_now(clerk, stack)
    agent = person("agent")
    agent.goto(f"{stack.url}/appointments/?day={day}")
    row = agent.locator("#appointment-list tbody tr", has_text=code)
    assert "孙*贵" in row.inner_text() and "上门服务" in row.inner_text() and "137****2222" in row.inner_text()
    shots.take(agent, "station-day-plan", full_page=True)
    row.get_by_role("link", name="转为办件").click()
    agent.wait_for_url(re.compile(r"/intake/item/\d+\?appointment="))
    assert agent.input_value("#applicant_name") == "孙福贵" and agent.input_value("#applicant_phone") == "13700002222"
    assert agent.input_value("#applicant_address") == "示范县东关镇东关村五组3号"
    fill_intake(agent, applicant={"applicant_id_number": valid_id_number(30, "19400101")},
                fields={"age_band": "80-89周岁", "subsidy_bank": "中国农业银行"},
                materials={"id_card": "provided", "hukou_book": "provided", "bank_card": "provided",
                           "photo_1inch": "provided"})
    shots.take(agent, "station-intake-prefilled", full_page=True)
    agent.click("#save-intake")
    agent.wait_for_url(re.compile(r"\?new=1$"))
    case_no = agent.locator("h1").inner_text().removeprefix("办件 ").strip()
    agent.goto(f"{stack.url}/appointments/?day={day}")
    assert case_no in agent.locator("#appointment-list tbody tr", has_text=code).inner_text()

    sync_now(clerk, stack)
    resident.reload()
    expect(resident.locator("#booking-status")).to_have_text("已转为办件")
    assert case_no in resident.locator("#booking-case").inner_text()
    shots.take(resident, "resident-case", full_page=True)
    resident.locator("#booking-case a").click()
    resident.wait_for_url(re.compile(r"/q/[0-9A-Z]+$"))
    assert ELDERLY in resident.content() and case_no in resident.content()
    shots.take(resident, "resident-progress", full_page=True)


@pytest.mark.screens("home-visit-recorded")
def test_an_agent_records_a_home_visit_and_the_county_sees_it_per_station(person, stack, shots):
    agent = person("agent")
    agent.goto(f"{stack.url}/visits/new")
    for field, value in (("#started_at", "09:30"), ("#ended_at", "10:40"), ("#resident_name", "孙福贵"),
                         ("#resident_phone", "13700002222"), ("#address", "示范县东关镇东关村五组3号"),
                         ("#purpose", "上门代办高龄津贴申领，核对户口簿")):
        agent.fill(field, value)
    shots.take(agent, "station-visit-form", full_page=True)
    agent.get_by_role("button", name="保存").click()
    assert "上门服务已登记" in agent.locator(".flash").first.inner_text()
    message = sync_now(person("clerk"), stack)
    assert stack.queued() == 0, message

    county = person("county")
    county.goto(f"{stack.hub.url}/numbers/visits?period=month&day={dt.date.today().isoformat()}")  # the station's day
    per_station = county.locator("#visits-per-station tbody tr").first.inner_text()
    assert "东关村便民服务站" in per_station and "1" in per_station
    listed = county.locator("#visit-list tbody").inner_text()
    assert "孙*贵" in listed and "孙福贵" not in county.content() and "13700002222" not in county.content()
    shots.take(county, "county-visits", full_page=True)
    county.locator("#visits-per-station a").first.click()
    code = county.url.split("station=")[1].split("&")[0]
    county.goto(f"{stack.hub.url}/stations/{code}/bookings")
    shots.take(county, "county-station-bookings", full_page=True)
    county.goto(f"{stack.hub.url}/stations/{code}/devices")
    assert "该站没有登记其他设备" in county.content() or county.locator("#device-list tbody tr").count() >= 1
    shots.take(county, "county-station-devices", full_page=True)
