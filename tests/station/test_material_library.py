"""只提交一次 at the station: a resident's verified materials kept with her consent and reused at her next intake."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from rules.periods import add_months
from station.extensions import db
from station.models import AccessLog, Attachment, Case, CaseMaterial, KeptMaterial, ResidentConsent
from station.services import material_library
from tests.fixtures.intake import GOOD_ID, SECOND_ID, form_for
from tests.fixtures.material_library import (
    FIRST_ITEM,
    HUKOU_SCAN,
    ID_SCAN,
    SECOND_ITEM,
    first_visit,
    items_named,
    kept_ids,
    lookup,
    scan,
    take,
)


def library_files(app) -> list[Path]:  # noqa: ANN001
    folder = Path(app.config["ATTACHMENT_DIR"]) / "library"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_second_intake_reuses_id_card_and_hukou_without_a_new_scan(app, agent):
    first = first_visit(app, agent)
    assert len(library_files(app)) == 2

    page = lookup(app, agent, SECOND_ITEM)
    today = dt.date.today().strftime("%Y-%m-%d")
    assert page.count('value="reused"') == 2 and "已核验，可复用" in page
    assert f'id="reuse-id_card">{today}' in page and "有效期至 2036-05-01" in page
    offered = kept_ids(page)
    assert set(offered) == {"id_card", "hukou_book"}
    with app.app_context(), db.connection_context():
        cases_before = Case.select().count()
    assert cases_before == 1  # a lookup saves nothing

    second = take(app, agent, SECOND_ITEM, mat__id_card__status="reused", mat__id_card__kept=offered["id_card"],
                  mat__hukou_book__status="reused", mat__hukou_book__kept=offered["hukou_book"],
                  mat__hukou_book__recheck="1")
    with app.app_context(), db.connection_context():
        case = Case.get_by_id(second)
        materials = {m.key: m for m in CaseMaterial.select().where(CaseMaterial.case == case)}
        assert case.decision in ("collected", "accepted")  # every material counted as handed in
        assert materials["id_card"].reused_from == offered["id_card"]
        assert materials["id_card"].status == "provided"
        reused = materials["hukou_book"].origin["reused"]
        assert reused["case_no"] == Case.get_by_id(first).case_no and reused["verified_by"] == "王代办"
        assert reused["rechecked"] is True
        first_files = {a.sha256 for a in Attachment.select().where(Attachment.case == first)}
        assert {a.sha256 for a in Attachment.select().where(Attachment.case == second)} == first_files
    detail = agent.get(f"/cases/{second}").get_data(as_text=True)
    assert f"复用 {today} 示范县东关镇东关村便民服务站 核验" in detail
    assert len(library_files(app)) == 2  # nothing kept twice


def test_withdrawing_consent_deletes_the_kept_files_and_is_logged(app, agent):
    first_visit(app, agent)
    files = library_files(app)
    assert len(files) == 2 and all(f.read_bytes().startswith(b"BMZS1") for f in files)  # sealed at rest
    page = agent.post("/library/", {"id_number": GOOD_ID}).get_data(as_text=True)
    assert "居民身份证" in page and "110105********002X" in page and GOOD_ID not in page
    resident = re.search(r'name="resident" value="(\w+)"', page).group(1)
    refused = agent.post("/library/withdraw", {"resident": resident}, follow_redirects=True).get_data(as_text=True)
    assert "请勾选“申请人要求撤回同意”" in refused and len(library_files(app)) == 2
    page = agent.post("/library/withdraw", {"resident": resident, "confirm": "1"},
                      follow_redirects=True).get_data(as_text=True)
    assert "已撤回，删除保存的材料 2 份" in page
    assert library_files(app) == [] and not any(f.exists() for f in files)
    with app.app_context(), db.connection_context():
        assert KeptMaterial.select().count() == 0
        assert ResidentConsent.get().withdrawn_at is not None
        entry = AccessLog.get(AccessLog.action == "library_withdraw")
        assert "已删除保存的材料 2 份" in entry.detail and GOOD_ID not in entry.object
    assert "已核验，可复用" not in lookup(app, agent, SECOND_ITEM)


def _refused(app, agent, name: str, **overrides: str) -> str:  # noqa: ANN001
    [item] = items_named(app, name)
    with app.app_context(), db.connection_context():
        data = form_for([item], **overrides)
        before = (Case.select().count(), Attachment.select().count())
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 200
    with app.app_context(), db.connection_context():
        assert (Case.select().count(), Attachment.select().count()) == before  # nothing changed
    return response.get_data(as_text=True)


def test_reuse_past_its_validity_is_refused(app, agent):
    first_visit(app, agent)
    with app.app_context(), db.connection_context():
        kept = KeptMaterial.get(KeptMaterial.key == "hukou_book")
        kept.valid_until = dt.date.today() - dt.timedelta(days=1)
        kept.save()
    page = _refused(app, agent, SECOND_ITEM, mat__hukou_book__status="reused", mat__hukou_book__kept=kept.id)
    assert "已核验的“居民户口簿”已过有效期" in page and "请重新核验原件" in page
    assert "材料库中的居民户口簿已过有效期" in lookup(app, agent, SECOND_ITEM)


def test_reusing_another_residents_material_is_refused(app, agent):
    first_visit(app, agent, id_number=SECOND_ID)
    with app.app_context(), db.connection_context():
        theirs = KeptMaterial.get(KeptMaterial.key == "id_card").id
    page = _refused(app, agent, SECOND_ITEM, library_consent="1", mat__id_card__valid_until="2036-01-01",
                    mat__id_card__status="reused", mat__id_card__kept=theirs)
    assert "所选的已核验“居民身份证”不属于本申请人，不能复用。" in page


def test_consent_asks_for_the_id_card_expiry_typed_at_verification(app, agent):
    page = _refused(app, agent, FIRST_ITEM, library_consent="1")
    assert "请填写“居民身份证”的有效期截止日期" in page


def test_without_consent_nothing_is_kept(app, agent):
    case_id = take(app, agent, FIRST_ITEM)
    assert "已存入申请人材料库" not in scan(agent, case_id, ID_SCAN, "id_card")
    assert "已存入申请人材料库" not in scan(agent, case_id, HUKOU_SCAN, "hukou_book")  # kept by months, were it kept
    assert library_files(app) == []
    assert "尚未同意保存材料" in lookup(app, agent, SECOND_ITEM)


def test_a_bundle_asks_each_shared_material_once_and_one_scan_serves_every_item(app, agent):
    with app.app_context(), db.connection_context():
        from station.services.catalog import get_bundle, merge_materials

        _bundle, items = get_bundle("B005")
        data = form_for(items, library_consent="1", mat__id_card__valid_until="2036-05-01")
        shared = [m.key for m in merge_materials(items) if len(m.items) > 1]
    page = agent.get("/intake/bundle/B005").get_data(as_text=True)
    assert "id_card" in shared and page.count('name="mat__id_card__status" value="provided"') == 1
    response = agent.post("/intake/bundle/B005", data)
    case_id = response.headers["Location"].split("/cases/")[1].split("?")[0]
    page = scan(agent, case_id, ID_SCAN, "id_card")
    assert "也已使用这份材料" in page
    with app.app_context(), db.connection_context():
        group = Case.get_by_id(case_id).bundle_group
        holders = {a.case_id for a in Attachment.select().join(Case).where(Case.bundle_group == group)}
        assert len(holders) == len(items)  # every item of the bundle asks for the ID card
        assert KeptMaterial.select().count() == 1


@pytest.mark.parametrize("rule,expected", [("typed", material_library.TYPED), ("3", 3), ("x", 6)])
def test_validity_is_a_per_material_setting(database, rule, expected):
    from station.models import Setting

    Setting.set_value("library_validity:hukou_book", rule)
    assert material_library.validity_rule("hukou_book") == expected


def test_the_admin_sets_how_long_a_materials_verification_may_be_reused(app, admin, agent):
    page = admin.get("/library/validity").get_data(as_text=True)
    assert "居民户口簿" in page and "6 个月" in page
    assert ">hukou_book<" not in page.replace("</span>", "<")  # the admin reads names, not the code's keys
    admin.post("/library/validity", {"key": "hukou_book", "rule": "3"})
    refused = admin.post("/library/validity", {"key": "hukou_book", "rule": "0"}, follow_redirects=True)
    assert "有效期须为 1–600 个月" in refused.get_data(as_text=True)
    assert "目录中没有这项材料" in admin.post("/library/validity", {"key": "nothing", "rule": "3"},
                                        follow_redirects=True).get_data(as_text=True)
    assert agent.get("/library/validity").status_code == 403
    with app.app_context(), db.connection_context():
        assert material_library.validity_rule("hukou_book") == 3
        assert AccessLog.get(AccessLog.action == "settings_library").detail == "材料「居民户口簿」的复用有效期设为3 个月"
    first_visit(app, agent)
    with app.app_context(), db.connection_context():
        hukou = KeptMaterial.get(KeptMaterial.key == "hukou_book")
        assert hukou.valid_until == add_months(hukou.verified_at.date(), 3)


def test_the_receipt_says_a_reused_material_was_verified_before_not_checked_today(app, agent):
    """The receipt said 原件已核验并退还 for an ID card she never brought: it was reused from her library."""
    from tests.fixtures.pdf import flat, pdftotext

    first_visit(app, agent)
    offered = kept_ids(lookup(app, agent, SECOND_ITEM))
    second = take(app, agent, SECOND_ITEM, mat__id_card__status="reused", mat__id_card__kept=offered["id_card"],
                  mat__hukou_book__status="reused", mat__hukou_book__kept=offered["hukou_book"],
                  mat__hukou_book__recheck="1")
    today = dt.date.today()
    verified = f"{today.year}年{today.month}月{today.day}日示范县东关镇东关村便民服务站"
    for doc in ("receipt", "receipt_roll"):
        text = flat(pdftotext(agent.get(f"/cases/{second}/print/{doc}").data))
        assert text.count(flat(f"复用{verified}核验的材料")) == 2, doc  # the ID card and the 户口簿
        assert text.count(flat(f"复用{verified}核验的材料，本次再次核对原件")) == 1, doc  # the 户口簿, looked at again
        assert "原件已核验并退还" not in text, doc
