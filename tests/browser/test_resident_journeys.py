"""The resident's side in a real browser (issue 18): from the paper receipt's QR code to the county's
public page on a phone, a 差评 with its reason, the county's 整改 worked to its closing note, and
the station seeing it; and the hall tablet's rating reaching the county exactly once."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.browser.test_journeys import case_numbers, sync_now
from tests.fixtures.browser import DOCS_SCREENS, Shots, expect
from tests.fixtures.e2e import queue_cases

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ELDERLY = "高龄津贴申领"
PHONE = {"width": 390, "height": 844}
MOBILE_UA = "Mozilla/5.0 (Linux; Android 13; Phone) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"
ID_OR_PHONE = re.compile(r"(?<![\d-])(?:\d{17}[\dX]|1\d{10})(?![\d-])")


def _hub(stack, fn):  # noqa: ANN001, ANN202
    from sync.hub.extensions import db as hub_db

    with stack.hub.app.app_context(), hub_db.connection_context():
        return fn()


def _scan(pdf: bytes, tmp_path) -> str:  # noqa: ANN001
    """The QR code of a printed PDF, read back from its rasterised first page."""
    zbarimg, pdftoppm = shutil.which("zbarimg"), shutil.which("pdftoppm")
    if zbarimg is None or pdftoppm is None:
        pytest.skip("!!! zbarimg or pdftoppm NOT INSTALLED — the receipt's QR code was NOT scanned !!!")
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", tmp_path / "receipt.pdf",
                    tmp_path / "page"], check=True, timeout=60)
    [page] = tmp_path.glob("page*.png")
    return subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", page],
                          capture_output=True, timeout=60, check=True).stdout.decode().strip()


@pytest.mark.screens("resident-public-progress")
def test_from_paper_to_a_bad_rating_and_its_remedy_closed(person, stack, shots, new_context, tmp_path,
                                                          publish_screens):
    from sync.hub.services import decisions
    from sync.hub.services import stations as hub_stations

    [case_id] = queue_cases(stack.app, 1, ELDERLY)
    [case_no] = case_numbers(stack, [case_id])
    _hub(stack, lambda: hub_stations.broadcast_public_url(stack.hub.url))  # the hub's PUBLIC_URL, sent down
    clerk = person("clerk")
    sync_now(clerk, stack)
    _hub(stack, lambda: decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="county"))
    _hub(stack, lambda: decisions.decide(case_id, decisions.DecisionInput(
        kind="completed", result="approved", result_text="准予发放高龄津贴"), clerk="county"))
    sync_now(clerk, stack)

    # paper: the agent prints the receipt; the resident scans its QR code at home
    agent = person("agent")
    response = agent.request.get(f"{stack.url}/cases/{case_id}/print/receipt")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    url = _scan(response.body(), tmp_path)
    assert url.startswith(f"{stack.hub.url}/q/"), url

    phone = new_context(has_touch=True, user_agent=MOBILE_UA).new_page()
    phone.set_viewport_size(PHONE)  # a phone-sized screen
    phone.goto(url)
    assert "准予" in phone.locator(".result").inner_text()
    assert "请带本人身份证件和回执到东关村便民服务站领取" in phone.inner_text("body")
    assert not ID_OR_PHONE.search(phone.content())
    shots.take(phone, "progress", full_page=True)
    phone.check("input[name=level][value=dissatisfied]")
    phone.select_option("select[name=reason_tag__dissatisfied]", "slow")
    phone.fill("textarea[name=reason_text]", "办结后没有人通知我来领")
    shots.take(phone, "rating", full_page=True)
    phone.click(".rate-form button[type=submit]")
    expect(phone.locator("#rated")).to_contain_text("感谢您的评价")
    assert "您的评价（办件整体评价）：不满意，办理时间长" in phone.inner_text("body")
    assert not ID_OR_PHONE.search(phone.content())
    from sync.hub.models import HubEvaluation
    assert _hub(stack, lambda: [(e.channel, e.level) for e in HubEvaluation.select()]) == [("qr_code", "dissatisfied")]
    shots.take(phone, "rated", full_page=True)

    # the county: the follow-up is assigned, worked and closed
    closed = Shots(tmp_path / "screens", "followup-closed", publish_screens)
    if publish_screens:
        for stale in DOCS_SCREENS.glob("followup-closed-*.png"):
            stale.unlink()
    county = person("county")
    county.goto(f"{stack.hub.url}/remedies")
    assert "东关村便民服务站" in county.inner_text("body")
    county.locator("table.grid a", has_text="整改").first.click()
    assert "不满意" in county.inner_text("body") and "办结后没有人通知我来领" in county.inner_text("body")
    county.click("form[action$='/close'] button")
    assert "尚未登记整改结果，不能办结" in county.locator(".flash").first.inner_text()
    county.select_option("select[name=owner]", "county")
    county.click("form[action$='/assign'] button")
    county.select_option("select[name=method]", "phone")
    county.fill("textarea[name=said]", "已电话回访，向群众致歉，说明结果可随时领取")
    county.click("form[action$='/contact'] button")
    county.fill("textarea[name=fix_text]", "办结当天电话通知群众，建立通知台账")
    county.click("form[action$='/fix'] button")
    county.fill("textarea[name=answer]", "群众表示满意，已领取结果")
    county.click("form[action$='/answer'] button")
    county.fill("textarea[name=closing_note]", "已整改到位，群众认可，办结")
    county.click("form[action$='/close'] button")
    assert "已办结" in county.locator("h1").inner_text()
    assert "已整改到位，群众认可，办结" in county.inner_text("body")
    closed.take(county, "county", full_page=True)

    # the resident may rate once more (追评), beside the first
    phone.goto(url)
    assert "整改后追评（办件整体评价）" in phone.inner_text("body")

    # the station sees it
    sync_now(clerk, stack)
    agent.goto(f"{stack.url}/cases/{case_id}")
    remedy = agent.locator(".remedy").first
    assert "已办结" in remedy.inner_text() and "已整改到位，群众认可，办结" in remedy.inner_text()
    assert "不满意" in agent.locator("#evaluation").inner_text()
    agent.locator("#evaluation").scroll_into_view_if_needed()
    closed.take(agent, "station")
    assert case_no in agent.inner_text("body")


@pytest.mark.screens("kiosk-rating")
def test_the_hall_tablet_rating_reaches_the_county_exactly_once(person, stack, shots):
    from sync.hub.models import Event, HubEvaluation

    [case_id] = queue_cases(stack.app, 1, ELDERLY)
    agent = person("agent")
    agent.goto(f"{stack.url}/cases/{case_id}")
    agent.click("#open-kiosk")
    agent.wait_for_url(re.compile(r"/kiosk/"))
    kiosk_url = agent.url
    assert "请您为这次服务评价" in agent.inner_text("h1") and agent.locator("nav").count() == 0
    assert not ID_OR_PHONE.search(agent.content())
    shots.take(agent, "tablet", full_page=True)
    agent.check("input[name=level][value=very_dissatisfied]")
    agent.click("button.kiosk-submit")  # no reason: refused, nothing stored
    assert "请选择不满意的原因" in agent.locator(".flash-error").inner_text()
    agent.check("input[name=level][value=very_satisfied]")
    agent.select_option("select[name=reason_tag__very_satisfied]", "kind")
    agent.click("button.kiosk-submit")
    expect(agent.locator(".kiosk-thanks")).to_contain_text("谢谢您的评价")
    shots.take(agent, "thanks", full_page=True)
    agent.goto(kiosk_url)  # the same link again: the visit is rated
    assert "已经评价过了" in agent.locator(".kiosk-thanks").inner_text()

    clerk = person("clerk")
    sync_now(clerk, stack)
    sync_now(clerk, stack)
    rows = _hub(stack, lambda: [(e.case_id, e.level, e.channel, e.source) for e in HubEvaluation.select()])
    assert rows == [(case_id, "very_satisfied", "hall_tablet", "station")]
    assert _hub(stack, lambda: Event.select().where(Event.kind == "case.evaluated").count()) == 1
    agent.goto(f"{stack.url}/cases/{case_id}")
    assert "评价（收件服务，首次，大厅平板）：非常满意，服务热情" in agent.locator("#evaluation").inner_text()
    shots.take(agent, "case")
