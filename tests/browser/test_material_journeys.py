"""只提交一次 in a real browser (issue 20): the agent keeps a resident's verified ID card and 户口簿
with her consent, reuses both at her next application in one click each, the county sees the
reuse with its original verification, and her withdrawal deletes what was kept."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.browser.test_journeys import sync_now
from tests.fixtures.browser import expect, item_id, valid_id_number
from tests.fixtures.scans import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST, SECOND = "高龄津贴申领", "老年人优待证办理"
RESIDENT = valid_id_number(7, birth="19400315")
STATION = "示范县东关镇东关村便民服务站"


def _open_intake(page, stack, name: str) -> None:  # noqa: ANN001
    page.goto(f"{stack.url}/intake/item/{item_id(stack, name)}")
    page.fill("#applicant_id_number", RESIDENT)
    page.fill("#applicant_name", "赵秀英")
    page.fill("#applicant_phone", "13912345678")
    page.fill("#applicant_address", "示范县东关镇东关村三组12号")
    for field in page.locator("[id^=field__]").all():
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(index=1)
        else:
            field.fill("按申请人口述填写")


def _scan(page, material: str, name: str, size: tuple[int, int]) -> None:  # noqa: ANN001
    page.select_option("#scan-material", material)
    page.set_input_files("#file", files=[{"name": name, "mimeType": "image/png", "buffer": image_bytes("PNG", size)}])
    page.click("#scan-material ~ button[type=submit]")
    expect(page.locator(".flash-success").first).to_contain_text("已存入申请人材料库")


def _hub_holds_each_file_once_and_links_both(stack, case_id: str) -> None:  # noqa: ANN001
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Attachment, AttachmentLink

    with stack.hub.app.app_context(), hub_db.connection_context():
        assert Attachment.select().count() == 2  # the second case sent no new file
        assert AttachmentLink.select().where(AttachmentLink.case_id == case_id).count() == 2


@pytest.mark.screens("materials-reused")
def test_materials_reused_at_the_second_application(person, stack, shots):
    today = dt.date.today().isoformat()
    agent = person("agent")
    _open_intake(agent, stack, FIRST)
    agent.check("#library_consent")
    agent.fill("input[name=mat__id_card__valid_until]", "2036-05-01")
    for radio in agent.locator("input[type=radio][value=provided][name^=mat__]").all():
        radio.check()
    shots.take(agent, "first-consent", full_page=True)
    agent.click("#save-intake")
    agent.wait_for_url(re.compile(r"/cases/[^/]+\?new=1$"))
    first_case = agent.url.split("/cases/")[1].split("?")[0]
    _scan(agent, "id_card", "身份证.png", (12, 8))
    _scan(agent, "hukou_book", "户口簿.png", (8, 12))
    shots.take(agent, "first-kept", full_page=True)

    clerk = person("clerk")
    sync_now(clerk, stack)

    _open_intake(agent, stack, SECOND)
    agent.click("#library-lookup")
    expect(agent.locator("#consent-standing")).to_contain_text("同意保存已核验材料")
    for key in ("id_card", "hukou_book"):
        expect(agent.locator(f"#reuse-{key}")).to_contain_text(f"{today} {STATION} 核验")
    shots.take(agent, "offered", full_page=True)
    agent.check("input[name=mat__id_card__status][value=reused]")
    agent.check("input[name=mat__hukou_book__status][value=reused]")
    agent.check("input[name=mat__photo_1inch__status][value=provided]")
    agent.click("#save-intake")
    agent.wait_for_url(re.compile(r"/cases/[^/]+\?new=1$"))
    second_case = agent.url.split("/cases/")[1].split("?")[0]
    assert second_case != first_case
    materials = agent.locator("#materials-table").inner_text()
    assert materials.count(f"复用 {today} {STATION} 核验") == 2
    shots.take(agent, "second-case", full_page=True)

    sync_now(clerk, stack)
    _hub_holds_each_file_once_and_links_both(stack, second_case)
    county = person("county")
    county.goto(f"{stack.hub.url}/cases/{second_case}")
    county_materials = county.locator("section", has_text="申请材料").first.inner_text()
    assert county_materials.count(f"复用 {today} {STATION} 核验") == 2
    assert "尚未上传" not in county_materials
    shots.take(county, "county", full_page=True)

    agent.goto(f"{stack.url}/library/")
    agent.fill("#id_number", RESIDENT)
    agent.click("#library-search button[type=submit]")
    expect(agent.locator("#kept-materials")).to_contain_text("居民户口簿")
    library = Path(stack.app.config["ATTACHMENT_DIR"]) / "library"
    assert len(list(library.iterdir())) == 2
    shots.take(agent, "library", full_page=True)
    agent.check("#withdraw-confirm")
    agent.click("#withdraw")
    expect(agent.locator("main")).to_contain_text("删除保存的材料 2 份")
    assert list(library.iterdir()) == []
    shots.take(agent, "withdrawn", full_page=True)
