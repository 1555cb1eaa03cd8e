"""The county hub's top menu on a 1366×768 office screen: one line of groups, reachable by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.browser import Hub, expect, login_hub, wait_until

pytestmark = pytest.mark.browser

OFFICE_SCREEN = {"width": 1366, "height": 768}
NAV_BOXES = """() => {
    const nav = document.querySelector("header nav").getBoundingClientRect();
    const labels = Array.from(document.querySelectorAll("header nav .menu-label"), e => e.getBoundingClientRect());
    return {navHeight: nav.height, labelHeight: Math.max(...labels.map(r => r.height)),
            tops: labels.map(r => Math.round(r.top)), header: document.querySelector("header").getBoundingClientRect().height};
}"""
FOCUSED = "() => { const e = document.activeElement; return (e.textContent || '').trim(); }"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub(tmp_path / "hub")
    hub.create_clerk("admin1", "admin-pass-123", "县级管理员王建国")
    hub.create_clerk("clerk1", "clerk-pass-123", "县级审批员李秀梅", role="approver")
    yield hub
    hub.stop()


def open_hub(new_context, hub: Hub, username: str, password: str):
    page = new_context(viewport=OFFICE_SCREEN).new_page()
    login_hub(page, hub.url, username, password)
    return page


def tab_to(page, text: str, presses: int, where: str) -> None:
    """Press Tab until the focused element reads ``text``; fail after ``presses``."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == text:
            return
    pytest.fail(f"Tab never reached {where}")


def assert_one_line(page) -> None:
    boxes = page.evaluate(NAV_BOXES)
    assert len(set(boxes["tops"])) == 1, f"the menu's groups wrap onto several lines: {boxes}"
    assert boxes["navHeight"] < 1.5 * boxes["labelHeight"], f"the menu is more than one line high: {boxes}"


def test_menu_fits_one_line_and_a_clerk_reaches_a_grouped_link_by_keyboard(new_context, hub):
    admin = open_hub(new_context, hub, "admin1", "admin-pass-123")
    assert_one_line(admin)  # the county admin sees every link, still on one line
    expect(admin.locator("header nav .menu-label")).to_have_text(
        ["办件▾", "物料流转", "统计▾", "站点与设备", "管理▾"])
    expect(admin.locator("header nav .menu-group.active .menu-label")).to_have_text("办件▾")
    expect(admin.locator("header nav .menu-group:has(button:text('管理')) a")).to_have_text(
        ["县级设置", "目录发布", "节假日安排", "访问日志"])

    page = open_hub(new_context, hub, "clerk1", "clerk-pass-123")
    assert_one_line(page)
    # An approver's 管理 group holds only what she may open.
    expect(page.locator("header nav .menu-group:has(button:text('管理')) a")).to_have_text(["县级设置"])
    for admin_only in ("目录发布", "节假日安排", "访问日志", "跨域办"):
        expect(page.locator("header nav a", has_text=admin_only)).to_have_count(0)
    expect(page.get_by_role("link", name="预警")).to_be_hidden()  # folded away until its group is opened

    # Keyboard only: Tab to 统计, on into its links, Enter on 预警.
    tab_to(page, "统计▾", 30, "the 统计 group")
    expect(page.get_by_role("link", name="预警")).to_be_visible()
    tab_to(page, "预警", 5, "预警 inside the 统计 group")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/warnings"))
    wait_until(page, "() => document.readyState === 'complete'")
    expect(page.locator("header nav .menu-group.active .menu-label")).to_have_text("统计▾")
    expect(page.locator("header nav a[aria-current=page]")).to_have_text("预警")
    assert_one_line(page)


PHONE = {"width": 360, "height": 740}
OVERFLOW = """() => ({page: document.documentElement.scrollWidth,
    brand: document.querySelector("header .brand").getBoundingClientRect().height,
    menuRight: Math.max(...Array.from(document.querySelectorAll("header nav .menu-label"),
                                      e => e.getBoundingClientRect().right))})"""


def test_a_leader_on_a_phone_reads_the_numbers_without_the_page_sliding_sideways(new_context, hub):
    """On a 360-pixel phone the title stood one character a line and the page was 1,186 pixels wide."""
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    login_hub(page, hub.url, "clerk1", "clerk-pass-123")
    for path in ("/numbers/", "/numbers/warnings", "/numbers/statistics", "/cases", "/remedies", "/stations"):
        page.goto(hub.url + path)
        boxes = page.evaluate(OVERFLOW)
        assert boxes["page"] <= PHONE["width"], (path, boxes)  # only a wide table scrolls, inside itself
        assert boxes["menuRight"] <= PHONE["width"], (path, boxes)  # every menu group on the screen
        assert boxes["brand"] < 60, (path, boxes)  # the title on one or two lines
