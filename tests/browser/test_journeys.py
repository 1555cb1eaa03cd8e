"""Whole journeys in a real browser: an agent at the counter, a township clerk syncing, a county clerk deciding."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.browser import (
    deferral_limit,
    expect,
    fill_intake,
    item_id,
    missing_on_screen,
    print_document,
    squeeze,
    valid_id_number,
)
from tests.fixtures.e2e import queue_cases
from tests.fixtures.intake import AGENT_ID

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PENSION = "城乡居民基本养老保险参保登记"
PENSION_FIELDS = {"insured_grade": "300元", "payer_category": "重度残疾人（政府代缴）", "payment_method": "银行代扣"}
ELDERLY = "高龄津贴申领"


@pytest.mark.screens("1-proxy-deferral")
def test_agent_proxy_application_with_deferred_material(person, stack, shots, tmp_path):
    """Agent finds the item by pinyin initials, takes a 代办 with the photo deferred, prints notice and receipt."""
    page = person("agent")
    shots.take(page, "home")

    # Pinyin initials in the home page's search box: the live list offers the item while typing.
    page.locator("#q").press_sequentially("cxjmjbyl", delay=30)
    hit = page.locator("#q-results a", has_text=PENSION)
    hit.wait_for()
    assert page.locator("#q-results a").first.inner_text().startswith(PENSION)
    shots.take(page, "pinyin-search")
    hit.click()
    page.wait_for_url(re.compile(r"/intake/item/\d+$"))
    assert page.locator("h1").inner_text() == f"收件：{PENSION}"

    due = deferral_limit(stack, PENSION)
    fill_intake(
        page,
        applicant={"applicant_id_number": valid_id_number(1), "applicant_name": "赵秀英",
                   "applicant_phone": "13912345678", "applicant_address": "示范县东关镇东关村三组12号"},
        fields=PENSION_FIELDS,
        materials={"id_card": "provided", "hukou_book": "provided", "photo_1inch": "deferred",
                   "disability_cert": "provided"},
        dues={"photo_1inch": due.isoformat()},
        proxy={"proxy_id_number": AGENT_ID, "proxy_relation": "村代办员", "authorization": "signed"},
    )
    assert page.locator("#proxy-section").is_visible()
    shots.take(page, "intake-filled", full_page=True)
    page.click("#save-intake")

    page.wait_for_url(re.compile(r"/cases/[^/]+\?new=1$"))
    assert "容缺收件" in page.locator("#decision h2").inner_text()
    assert page.locator("tr.mat-deferred").inner_text().startswith("近期免冠一寸白底彩色照片")
    assert f"{due.isoformat()} 前补交" in page.locator("tr.mat-deferred").inner_text()
    case_no = page.locator("h1").inner_text().removeprefix("办件 ").strip()
    shots.take(page, "case-deferred", full_page=True)

    # "Print" the 容缺受理通知书 and the receipt: the PDFs the buttons open, read back as text.
    notice = squeeze(print_document(page, "容缺受理通知书", tmp_path, "deferral"))
    assert "容缺受理通知书" in notice and case_no in notice
    assert "近期免冠一寸白底彩色照片" in notice and f"{due.year}年{due.month}月{due.day}日" in notice
    assert "居民户口簿" not in notice.split("容缺后补材料", 1)[1]  # only the deferred material is listed
    receipt = squeeze(print_document(page, "代办回执", tmp_path, "receipt"))
    assert "代办回执" in receipt and case_no in receipt and "赵秀英" in receipt
    assert "近期免冠一寸白底彩色照片" in receipt  # the receipt says what is still to come

    page.reload()  # both prints are on the case's timeline
    timeline = page.locator("ol.timeline").inner_text()
    assert "《容缺受理通知书》" in timeline and "《代办回执" in timeline
    shots.take(page, "case-printed", full_page=True)


@pytest.mark.screens("2-one-time-notice")
def test_essential_material_missing_gets_one_time_notice(person, stack, shots, tmp_path):
    """Essential materials missing: no case collected, and the 一次性告知书 lists exactly what the screen did."""
    page = person("agent")
    page.goto(f"{stack.url}/catalog/?q=gljt")
    shots.take(page, "search-results")
    page.get_by_role("link", name=ELDERLY).click()
    fill_intake(
        page,
        applicant={"applicant_id_number": valid_id_number(2, "19400101"), "applicant_name": "孙福贵",
                   "applicant_phone": "13700001111", "applicant_address": "示范县东关镇东关村五组3号"},
        fields={"age_band": "80-89周岁", "subsidy_bank": "中国邮政储蓄银行"},
        materials={"id_card": "provided", "hukou_book": "missing", "bank_card": "missing", "photo_1inch": "missing"},
    )
    shots.take(page, "intake-missing", full_page=True)
    page.click("#save-intake")
    page.wait_for_url(re.compile(r"/cases/[^/]+\?new=1$"))
    assert "缺少必要材料" in page.locator("#decision h2").inner_text()
    on_screen = missing_on_screen(page)
    assert on_screen == ["居民户口簿", "本人银行账户（银行卡或存折）", "近期免冠一寸白底彩色照片"]
    shots.take(page, "case-not-collected", full_page=True)
    assert not page.get_by_role("link", name=re.compile("回执")).count()  # nothing was collected

    paper = print_document(page, "一次性告知书", tmp_path, "notice-missing")
    assert f"共{len(on_screen)}项" in squeeze(paper)
    table = paper.split("需补齐的材料", 1)[1].split("\n说明", 1)[0]
    on_paper = re.findall(r"^\s*\d+\s+(\S+)", table, flags=re.MULTILINE)
    assert on_paper == on_screen, "the 一次性告知书 lists exactly what the screen showed missing, in order"
    for provided in page.locator("tr.mat-provided td:first-child").all_inner_texts():
        assert squeeze(provided) not in squeeze(table)


def take_case(page, stack, n: int) -> str:
    """An agent takes one complete 帮办 application for 高龄津贴; return its case number."""
    page.goto(f"{stack.url}/intake/item/{item_id(stack, ELDERLY)}")
    fill_intake(
        page,
        applicant={"applicant_id_number": valid_id_number(10 + n, "19400101"), "applicant_name": f"老人{'甲乙丙丁'[n]}",
                   "applicant_phone": f"1370000{n:04d}", "applicant_address": f"示范县东关镇东关村{n + 1}组"},
        fields={"age_band": "80-89周岁", "subsidy_bank": "中国农业银行"},
        materials={"id_card": "provided", "hukou_book": "provided", "bank_card": "provided",
                   "photo_1inch": "provided"},
    )
    page.click("#save-intake")
    page.wait_for_url(re.compile(r"\?new=1$"))
    return page.locator("h1").inner_text().removeprefix("办件 ").strip()


def record_progress(page) -> None:
    """Keep every text the sync page's progress line shows (a poll may replace one within a second)."""
    page.evaluate("""() => {
        window.progressSeen = [];
        const out = document.getElementById("sync-progress");
        new MutationObserver(() => window.progressSeen.push(out.textContent))
            .observe(out, {childList: true, characterData: true, subtree: true});
    }""")


@pytest.mark.screens("3-link-down")
def test_link_down_cases_queue_then_sync_now_empties_the_queue(person, stack, shots):
    """County unreachable: cases still taken and queued, the sync page says so; "sync now" drains the queue."""
    stack.hub.stop()
    agent = person("agent")
    numbers = [take_case(agent, stack, n) for n in range(3)]
    shots.take(agent, "case-taken-offline", full_page=True)
    assert agent.locator("#sync-state").inner_text() == "待同步"

    clerk = person("clerk")
    clerk.goto(f"{stack.url}/sync/")
    clerk.click("#sync-now")
    clerk.wait_for_url(f"{stack.url}/sync/")
    record_progress(clerk)
    expect(clerk.locator("#sync-progress")).to_have_text(re.compile("同步未完成"))
    expect(clerk.locator("#link-state")).to_have_text(re.compile(r"^县级平台连不上"))
    queued = stack.queued()
    assert queued >= 3
    assert clerk.locator("#queue-length").inner_text() == str(queued)
    assert f"待同步 {queued} 条" in clerk.locator("#sync-progress").inner_text()
    assert "县级平台" in clerk.locator("#last-error").inner_text()  # painted by the poll
    shots.take(clerk, "link-down")
    clerk.reload()  # the page as it loads, not only as the poll paints it
    assert clerk.locator("#link-state").inner_text().startswith("县级平台连不上")
    assert clerk.locator("#last-error").inner_text() != "—"
    assert clerk.locator("#oldest-queued").inner_text() != "—"

    # The county comes back; it is slow with the batch, so the clerk watches the upload happen.
    stack.hub.start()
    stack.hub.wsgi.events_delay_s = 3.0
    stack.forget_progress()
    clerk.click("#sync-now")
    clerk.wait_for_url(f"{stack.url}/sync/")
    record_progress(clerk)
    expect(clerk.locator("#sync-progress")).to_have_text(re.compile(r"^同步中"))
    shots.take(clerk, "sync-in-progress")
    expect(clerk.locator("#sync-progress")).to_have_text(re.compile(r"^同步完成"), timeout=20_000)
    expect(clerk.locator("#queue-length")).to_have_text("0")
    seen = clerk.evaluate("window.progressSeen")
    assert any(f"/ {queued}）" in text for text in seen), seen  # "（已发送 0 / N）" while it ran
    assert clerk.locator("#link-state").inner_text() == "连通"
    assert f"上传 {queued} 条" in seen[-1] and "待同步 0 条" in seen[-1]
    shots.take(clerk, "sync-done")

    assert stack.queued() == 0
    agent.goto(f"{stack.url}/cases/")
    for number in numbers:
        agent.get_by_role("link", name=number).click()
        assert agent.locator("#sync-state").inner_text() == "县级已确认接收"
        agent.go_back()


def case_numbers(stack, ids: list[str]) -> list[str]:
    from station.extensions import db
    from station.models import Case

    with stack.app.app_context(), db.connection_context():
        return [Case.get_by_id(i).case_no for i in ids]


def sync_now(clerk, stack) -> str:
    """Press 立即同步 and wait for the round to finish; return its final message."""
    clerk.goto(f"{stack.url}/sync/")
    stack.forget_progress()
    clerk.click("#sync-now")
    clerk.wait_for_url(f"{stack.url}/sync/")
    expect(clerk.locator("#sync-progress")).to_have_text(re.compile(r"^同步完成"), timeout=20_000)
    return clerk.locator("#sync-progress").inner_text()


@pytest.mark.screens("4-county-decisions")
def test_county_clerk_supplement_and_completion_reach_the_station(person, stack, shots, tmp_path):
    """The county asks for a 补正 on one case and completes another; the station shows both after a sync."""
    ids = queue_cases(stack.app, 2, ELDERLY)
    first, second = case_numbers(stack, ids)
    clerk = person("clerk")
    assert "待同步 0 条" in sync_now(clerk, stack)

    county = person("county")
    county.goto(f"{stack.hub.url}/cases")
    assert county.get_by_role("link", name=first).is_visible() and county.get_by_role("link", name=second).is_visible()
    shots.take(county, "hub-cases")

    county.get_by_role("link", name=first).click()
    supplement = county.locator("form.decision", has=county.locator("input[name=kind][value=supplement]"))
    supplement.get_by_label("居民户口簿").check()
    supplement.locator("textarea[name=reason]").fill("户口簿复印件不清晰，请重新复印首页及本人页")
    shots.take(county, "hub-supplement-form", full_page=True)
    supplement.get_by_role("button").click()
    assert "已补正" in county.locator(".flash").first.inner_text()

    county.goto(f"{stack.hub.url}/cases")
    county.get_by_role("link", name=second).click()
    county.locator("form.decision", has=county.locator("input[name=kind][value=accepted]")).get_by_role(
        "button").click()
    complete = county.locator("form.decision", has=county.locator("input[name=kind][value=completed]"))
    complete.get_by_label("准予").check()
    complete.locator("textarea[name=result_text]").fill("准予发放高龄津贴，自次月起按月发放")
    complete.get_by_role("button").click()
    assert "已办结" in county.locator(".flash").first.inner_text()
    shots.take(county, "hub-completed", full_page=True)

    message = sync_now(clerk, stack)
    assert "接收更新" in message and "接收更新 0 条" not in message
    shots.take(clerk, "station-synced")

    clerk.goto(f"{stack.url}/cases/")
    rows = {row.locator("td").first.inner_text(): row.locator("td").nth(5).inner_text()
            for row in clerk.locator("#case-list tbody tr").all()}
    assert rows[first] == "待补正" and rows[second] == "已办结"
    shots.take(clerk, "station-case-list")

    clerk.get_by_role("link", name=first).click()
    assert clerk.locator("#case-status").inner_text() == "待补正"
    assert "县级要求补正：居民户口簿" in clerk.locator("#decision").inner_text()
    shots.take(clerk, "station-supplement", full_page=True)
    notice = squeeze(print_document(clerk, "补正材料通知书", tmp_path, "supplement"))
    assert "居民户口簿" in notice and "户口簿复印件不清晰" in notice

    clerk.goto(f"{stack.url}/cases/")
    clerk.get_by_role("link", name=second).click()
    assert clerk.locator("#case-status").inner_text() == "已办结"
    assert "办结结果：准予，准予发放高龄津贴" in clerk.locator("#decision").inner_text()
    assert "县级平台" in clerk.locator("ol.timeline").inner_text()
    shots.take(clerk, "station-completed", full_page=True)
