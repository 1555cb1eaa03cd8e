"""一件事一次办 as one thing (issue 19 item 6), with the 新生儿出生 bundle as a parent meets it.

One submit: one bundle with one query code and one combined receipt, each item with its own
case number for the county; the 出生医学证明 its first item issues is not asked of the parents;
the bundle is as far along as its slowest item; the form asks each thing once.
"""

from __future__ import annotations

import datetime as dt
import re

from rules import events
from rules.code_lists import ETHNIC_GROUPS
from station.extensions import db
from station.models import Case, CaseMaterial, User
from station.services import bundles, cases, intake, paper
from station.services.catalog import get_bundle
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named, proxy_fields
from tests.fixtures.pdf import flat, pdftotext

NEWBORN = "B001"  # 出生医学证明首次签发, 生育登记, 出生登记, 新生儿参保登记, 社会保障卡申领


def _agent() -> User:
    return User.get(User.username == "agent")


def _take_newborn(**overrides: str) -> list[Case]:
    bundle, items = get_bundle(NEWBORN)
    draft = intake.check_input(items, form_for(items, **overrides), dt.date.today())
    return [cases.get_case(c.id) for c in intake.create_cases(items, draft, _agent(), bundle_code=bundle.code)]


def test_the_bundle_form_asks_each_thing_once_with_the_national_list_of_ethnic_groups(agent):
    html = agent.get(f"/intake/bundle/{NEWBORN}").get_data(as_text=True)
    for name in ("baby_name", "baby_sex", "baby_birth_date", "father_name", "mother_name", "baby_ethnicity"):
        assert len(re.findall(rf'name="field__{name}"', html)) == 1, name
    ethnicity = re.search(r'<select[^>]*name="field__baby_ethnicity".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option value=\"([^\"]+)\"", ethnicity) == list(ETHNIC_GROUPS)
    sex = re.search(r'<select[^>]*name="field__baby_sex".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option value=\"([^\"]+)\"", sex) == ["男", "女"]


def test_the_birth_certificate_the_bundle_issues_is_not_asked_of_the_parents(agent):
    html = agent.get(f"/intake/bundle/{NEWBORN}").get_data(as_text=True)
    assert "由本件事的“出生医学证明首次签发”出具，无需申请人提交" in html
    assert 'name="mat__birth_medical_cert__status"' not in html


def test_a_bundle_without_the_birth_certificate_is_collected_whole(database):
    """The issue: two items were turned away for lacking the 出生医学证明 the first item issues."""
    taken = _take_newborn(**{"mat__birth_medical_cert__status": "missing"})  # whatever the form sends
    assert [c.status for c in taken] == ["collected"] * 5
    rows = CaseMaterial.select().where(CaseMaterial.key == "birth_medical_cert")
    assert sorted(r.status for r in rows) == ["in_bundle"] * 3
    for case in taken:
        assert "notice_missing" not in {d.key for d in paper.applicable_documents(case)}


def test_the_same_item_alone_still_needs_the_birth_certificate(database):
    item = item_named("出生登记")
    draft = intake.check_input([item], form_for([item], **{"mat__birth_medical_cert__status": "missing"}),
                               dt.date.today())
    [case] = intake.create_cases([item], draft, _agent())
    assert case.status == "not_collected"


def test_one_query_code_and_one_combined_receipt_with_each_items_case_number(database):
    taken = _take_newborn()
    code = taken[0].query_code
    assert {paper.case_doc(c).query_code for c in taken} == {code}
    for case in taken:
        keys = {d.key for d in paper.applicable_documents(case)}
        assert "bundle_receipt" in keys and "receipt" not in keys
    pdf, title = paper.render(taken[2], "bundle_receipt", _agent())
    text = flat(pdftotext(pdf))
    assert title == "一件事收件回执" and "新生儿出生一件事" in text
    for case in taken:
        assert case.case_no in text and flat(case.item.name) in text
    assert code in text
    assert not any(c.query_code in text for c in taken[1:])  # the others' codes are never printed


def test_every_items_event_carries_the_bundle_membership(database):
    taken = _take_newborn()
    bodies = [OutboxEvent.get((OutboxEvent.case_id == c.id) & (OutboxEvent.kind == events.SUBMITTED)).payload
              for c in taken]
    assert [b["bundle"]["position"] for b in bodies] == [1, 2, 3, 4, 5]
    assert {(b["bundle"]["size"], b["bundle"]["query_code"], b["bundle"]["group"], b["bundle"]["name"])
            for b in bodies} == {(5, taken[0].query_code, taken[0].bundle_group, "新生儿出生一件事")}
    assert all(events.body_problem(events.SUBMITTED, b) is None for b in bodies)
    assert len({b["case_no"] for b in bodies}) == 5


def test_the_bundle_is_as_far_along_as_its_slowest_item(database):
    taken = _take_newborn()
    with db.atomic():
        for case in taken:
            cases.apply_county_status(case.id, {"status": "accepted"})
        cases.apply_county_status(taken[3].id, {"status": "supplement", "reason": "照片不清晰",
                                                "supplement_items": [{"key": "photo_1inch", "name": "照片"}]})
    view = bundles.bundle_of(cases.get_case(taken[0].id))
    assert (view.state, view.state_name) == ("supplement", "待补正")


def test_the_case_page_and_the_public_page_show_the_whole_bundle(agent, client):
    taken = _take_newborn()
    html = agent.get(f"/cases/{taken[1].id}").get_data(as_text=True)
    assert re.search(r'id="bundle-query-code">' + taken[0].query_code, html)
    assert all(c.case_no in html for c in taken)
    public = client.get(f"/q?q={taken[0].query_code}").get_data(as_text=True)
    assert "新生儿出生一件事" in public and all(flat(c.item.name) in flat(public) for c in taken)


def test_the_proxy_letter_of_a_bundle_names_every_item_the_agent_applies_for(database):
    # the resident signs one 代办委托书 for the whole 一件事: the agent acts for all five items
    taken = _take_newborn(**proxy_fields(authorization="print"))
    offered = {d.key for d in paper.applicable_documents(taken[0])}
    assert "authorization" in offered
    pdf, _title = paper.render(taken[0], "authorization", _agent())
    text = flat(pdftotext(pdf))
    for case in taken:
        assert case.item.name in text, case.item.name
    assert "新生儿出生一件事" in text and "至各事项办结" in text


def test_an_item_turned_away_is_told_on_the_one_bundle_receipt(app, agent):
    """老年人福利一件事 without the bank card: 高龄津贴 is not collected, the other two are. The page offered
    only the 一件事收件回执, which said 未收件 and not what to bring: she would come back twice."""
    with app.app_context(), db.connection_context():
        _bundle, items = get_bundle("B005")
        data = form_for(items, mat__bank_card__status="missing")
    saved = agent.post("/intake/bundle/B005", data)
    case_id = saved.headers["Location"].split("/cases/")[1].split("?")[0]
    page = agent.get(saved.headers["Location"]).get_data(as_text=True)
    assert "“高龄津贴申领”缺少必要材料，未收件" in page
    text = flat(pdftotext(agent.get(f"/cases/{case_id}/print/bundle_receipt").data))
    assert flat("尚需补齐的材料（一次性告知，共1项）") in text
    assert flat("“高龄津贴申领”因缺少必要材料暂未收件") in text
    assert flat("本人银行账户（银行卡或存折）复印件1份本人开户银行网点") in text  # what, and where to get it


def test_a_bundle_received_whole_has_nothing_to_bring(app, agent):
    with app.app_context(), db.connection_context():
        _bundle, items = get_bundle("B005")
        data = form_for(items)
    saved = agent.post("/intake/bundle/B005", data)
    case_id = saved.headers["Location"].split("/cases/")[1].split("?")[0]
    assert "缺少必要材料，未收件" not in agent.get(saved.headers["Location"]).get_data(as_text=True)
    assert "尚需补齐" not in flat(pdftotext(agent.get(f"/cases/{case_id}/print/bundle_receipt").data))
