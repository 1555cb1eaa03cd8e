"""Paper originals by one code, in a real browser (issue 15): a batch packed, printed, and handed over
three times by scanning its barcode — a USB scanner types into the box like a keyboard and presses
Enter — twice at the station and the third time on the county's own 物料流转 page, while the case
page answers where the papers are; the county sees the same on its case."""

from __future__ import annotations

import pytest

from tests.browser.test_journeys import case_numbers, sync_now
from tests.fixtures.browser import wait_until
from tests.fixtures.e2e import queue_cases

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def scan(page, url: str, batch_no: str) -> None:  # noqa: ANN001
    """What the scanner does: the focus is in the scan box; it types the code and Enter (station or county)."""
    page.goto(f"{url}/transfers/")
    # autofocus (the clerk only pulls the trigger); Chromium applies it at a frame after load, not at once
    wait_until(page, "document.activeElement && document.activeElement.id === 'scan-code'", timeout_ms=3000)
    page.keyboard.type(batch_no, delay=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/transfers/*")
    assert "已扫描批次" in page.locator("#handover").inner_text()


@pytest.mark.screens("custody-handover")
def test_a_batch_is_handed_over_three_times_by_scanning_its_barcode(person, stack, shots):
    ids = queue_cases(stack.app, 2)
    [case_no, _other] = case_numbers(stack, ids)
    agent = person("agent")
    agent.goto(f"{stack.url}/transfers/new")
    for case_id in ids:
        agent.check(f"#case-{case_id}")
    agent.fill("#destination", "东关镇便民服务中心")
    agent.get_by_role("button", name="建立批次").click()
    batch_no = agent.locator("h1").inner_text().split()[-1]
    assert batch_no.startswith("WL-") and "在途：由 王代办 保管" in agent.locator("#where-now").inner_text()
    shots.take(agent, "batch", full_page=True)

    scan(agent, stack.url, batch_no)  # 1. the village agent hands the folder to the courier
    agent.fill("#receiver", "赵送件")
    shots.take(agent, "scanned", full_page=True)
    agent.click("#handover-submit")
    assert "在途：由 赵送件 保管" in agent.locator("#where-now").inner_text()

    clerk = person("clerk")
    scan(clerk, stack.url, batch_no)  # 2. the township clerk receives it; one paper is missing
    clerk.fill("#giver", "赵送件")
    clerk.fill("#place", "东关镇便民服务中心")
    clerk.locator("#handover-form input[name=missing]").first.check()
    clerk.fill("#extra", "多一份户口簿复印件")
    clerk.click("#handover-submit")
    assert "在途：由 李窗口 保管" in clerk.locator("#where-now").inner_text()
    clerk.goto(f"{stack.url}/transfers/")
    assert batch_no in clerk.locator("#in-transit").inner_text()
    shots.take(clerk, "in-transit", full_page=True)

    sync_now(clerk, stack)  # the batch and its handovers reach the county
    county = person("county")
    scan(county, stack.hub.url, batch_no)  # 3. the county signs for it on its own page, scanning the same barcode
    assert "在途：由 李窗口 保管" in county.locator("#where-now").inner_text()
    county.fill("#receiver", "县级张")
    county.fill("#place", "县政务服务中心")
    county.click("#handover-submit")
    assert "已送达县政务服务中心，由 县级张 接收" in county.locator("#where-now").inner_text()
    assert "缺失" in county.locator("#handovers").inner_text()
    shots.take(county, "arrived", full_page=True)

    sync_now(clerk, stack)  # the county's receipt comes back down the changes feed
    agent.goto(f"{stack.url}/cases/{ids[0]}")
    where = agent.locator("#papers").inner_text()
    assert "已送达县政务服务中心，由 县级张 接收" in where and "交接时缺失" in where
    shots.take(agent, "case-where", full_page=True)

    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=case_no).click()
    custody = county.locator("#custody").inner_text()
    assert "已送达县政务服务中心，由 县级张 接收" in custody and "缺失" in custody and "赵送件" in custody
    shots.take(county, "county", full_page=True)
