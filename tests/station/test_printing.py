"""Print preview from the case page: the right documents for the case's state, reprints recorded."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest

from station.extensions import db
from station.models import Case, TimelineEntry
from tests.fixtures.intake import form_for, item_named, proxy_fields


def _pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("!!! pdftotext (poppler-utils) NOT INSTALLED — printed text was NOT checked !!!")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout.decode()


def _take(app, agent, name: str, **overrides: str) -> Case:
    with app.app_context(), db.connection_context():
        item = item_named(name)
        data = form_for([item], **overrides)
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    case_id = response.headers["Location"].split("/cases/")[1].split("?")[0]
    with app.app_context(), db.connection_context():
        return Case.get_by_id(case_id)


def test_proxy_deferral_case_offers_receipt_deferral_and_authorization(app, agent, tmp_path):
    due_day = dt.date.today() + dt.timedelta(days=1)
    due = due_day.isoformat()
    case = _take(app, agent, "城乡居民基本养老保险参保登记", **proxy_fields(authorization="print"),
                 **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": due})
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    for title in ("代办回执", "容缺受理通知书", "代办委托书"):
        assert f"打印{title}" in page
    assert "一次性告知书" not in page
    response = agent.get(f"/cases/{case.id}/print/deferral")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    text = _pdf_text(response.data, tmp_path)
    assert case.case_no in text and "110105********002X" in text and "11010519491231002X" not in text
    assert f"{due_day.year}年{due_day.month}月{due_day.day}日" in text  # the deferred material's due date


def test_missing_material_case_prints_the_one_time_notice_listing_everything_missing(app, agent, tmp_path):
    case = _take(app, agent, "高龄津贴申领",
                 **{"mat__hukou_book__status": "missing", "mat__bank_card__status": "missing"})
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "打印一次性告知书" in page and "回执" not in page.split("print-buttons")[1].split("</div>")[0]
    text = _pdf_text(agent.get(f"/cases/{case.id}/print/notice_missing").data, tmp_path)
    assert "共2项" in text
    assert re.search(r"^1\s+居民户口簿\s", text, re.M) and re.search(r"^2\s+本人银行账户（银行卡或存折）\s", text, re.M)
    assert agent.get(f"/cases/{case.id}/print/receipt", follow_redirects=True).status_code == 200
    with app.app_context(), db.connection_context():
        assert not TimelineEntry.select().where((TimelineEntry.case == case.id)
                                                & (TimelineEntry.message.contains("回执"))).exists()


def test_reprints_are_recorded_on_the_timeline(app, agent):
    case = _take(app, agent, "高龄津贴申领")
    agent.get(f"/cases/{case.id}/print/receipt")
    agent.get(f"/cases/{case.id}/print/receipt_roll")
    agent.get(f"/cases/{case.id}/print/receipt")
    with app.app_context(), db.connection_context():
        messages = [e.message for e in TimelineEntry.select().where(TimelineEntry.case == case.id)
                    .order_by(TimelineEntry.id)]
    assert messages[-3:] == ["打印《收件回执》", "打印《收件回执（80mm小票）》", "补打《收件回执》"]


def test_unknown_document_is_404(app, agent):
    case = _take(app, agent, "高龄津贴申领")
    assert agent.get(f"/cases/{case.id}/print/passport").status_code == 404


def test_clerk_prints_the_daily_ledger(app, agent, clerk, tmp_path):
    case = _take(app, agent, "高龄津贴申领")
    response = clerk.get(f"/ledger.pdf?day={dt.date.today().isoformat()}")
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    assert case.case_no in text and "11010519491231002X" not in text
    assert "待同步" in text.replace(" ", "")  # each case's own sync state, read for the whole day at once
    assert agent.get("/ledger.pdf").status_code == 403


def test_an_instant_items_receipt_promises_no_forwarding_past_its_legal_limit(app, agent, tmp_path):
    case = _take(app, agent, "灵活就业人员参保登记")  # 即办件 the county accepts; 法定时限 1个工作日
    assert case.decision == "collected"
    text = re.sub(r"\s+", "", _pdf_text(agent.get(f"/cases/{case.id}/print/receipt").data, tmp_path))
    assert "将在1个工作日内报送" in text and "3个工作日内" not in text
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "即将到期" not in page and "deadline-soon" not in page  # taken a moment ago


def test_an_instant_item_with_no_legal_days_reads_as_done_on_the_spot(app, agent, tmp_path):
    """社会保障卡临时挂失 (法定时限 0): the receipt said 法定办结时限 0个工作日."""
    case = _take(app, agent, "社会保障卡临时挂失")
    text = re.sub(r"\s+", "", _pdf_text(agent.get(f"/cases/{case.id}/print/receipt").data, tmp_path))
    today = dt.date.today()
    assert f"法定办结时限即时办结，至{today.year}年{today.month}月{today.day}日" in text and "0个工作日" not in text


def test_a_committed_case_still_promises_three_working_days(app, agent, tmp_path):
    case = _take(app, agent, "高龄津贴申领")
    text = re.sub(r"\s+", "", _pdf_text(agent.get(f"/cases/{case.id}/print/receipt").data, tmp_path))
    assert "将在3个工作日内报送" in text


def test_the_receipt_says_an_original_id_card_was_checked_and_returned(app, agent, tmp_path):
    case = _take(app, agent, "高龄津贴申领")
    text = _pdf_text(agent.get(f"/cases/{case.id}/print/receipt").data, tmp_path)
    id_line = next(line for line in text.splitlines() if "居民身份证" in line and "原件" in line)
    assert "原件已核验并退还" in id_line and "已提交" not in id_line and "已收" not in id_line


def test_a_turned_away_case_says_told_only_once_the_notice_is_printed(app, agent):
    """The heading said 已一次性告知 the moment the case was saved, before any notice was printed."""
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        data = form_for([item], mat__bank_card__status="missing")
    case_url = agent.post(f"/intake/item/{item.id}", data).headers["Location"].split("?")[0]
    heading = agent.get(case_url).get_data(as_text=True).split('id="decision"')[1].split("</h2>")[0]
    assert "不予收件，请打印下方的告知书交申请人" in heading and "已一次性告知" not in heading
    assert agent.get(f"{case_url}/print/notice_missing").status_code == 200
    heading = agent.get(case_url).get_data(as_text=True).split('id="decision"')[1].split("</h2>")[0]
    assert "不予收件，已一次性告知" in heading


def test_an_item_of_a_bundle_is_told_by_the_bundle_receipt(app, agent):
    from station.services.catalog import get_bundle

    with app.app_context(), db.connection_context():
        _bundle, items = get_bundle("B005")
        data = form_for(items, mat__bank_card__status="missing")
    first_url = agent.post("/intake/bundle/B005", data).headers["Location"].split("?")[0]
    with app.app_context(), db.connection_context():
        [turned_away] = [c.id for c in Case.select().where(Case.decision == "not_collected")]
    assert "请打印下方的告知书" in agent.get(f"/cases/{turned_away}").get_data(as_text=True)
    assert agent.get(f"{first_url}/print/bundle_receipt").status_code == 200
    assert "不予收件，已一次性告知" in agent.get(f"/cases/{turned_away}").get_data(as_text=True)


def test_a_turned_away_case_gets_the_one_time_notice_and_no_paper_saying_it_was_taken_in(app, agent, tmp_path):
    """An essential material missing beside a deferred one: the case page offered a 容缺受理通知书 ("主要申请材料
    齐全，现予容缺收件") and a 告知承诺书 next to the 一次性告知书 saying the materials were not complete."""
    due = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    case = _take(app, agent, "农村危房改造申请", **proxy_fields(authorization="print"),
                 **{"mat__house_safety_appraisal__status": "missing", "mat__bank_card__status": "deferred",
                    "mat__bank_card__due": due, "mat__income_statement__status": "commitment"})
    assert case.decision == "not_collected"
    buttons = agent.get(f"/cases/{case.id}").get_data(as_text=True).split("print-buttons")[1].split("</div>")[0]
    assert "打印一次性告知书" in buttons and "打印代办委托书" in buttons
    assert "容缺受理通知书" not in buttons and "告知承诺书" not in buttons
    for key in ("deferral", "commitment"):
        assert agent.get(f"/cases/{case.id}/print/{key}").mimetype != "application/pdf"
    text = re.sub(r"\s+", "", _pdf_text(agent.get(f"/cases/{case.id}/print/notice_missing").data, tmp_path))
    assert "一次性告知如下（共1项）" in text and "农村住房安全性鉴定报告" in text
