"""A barcode scanner in the case search box: scanning a receipt's QR code opens its case."""

from __future__ import annotations

import pytest

from station.extensions import db
from station.models import Case
from station.services.scanned import from_scan
from tests.station.test_rare_characters_page import _case_for


@pytest.mark.parametrize("address", ["https://zwfw.example.gov.cn/q/{code}", "http://station.local/q?q={code}"])
def test_scanning_a_receipt_qr_into_the_case_search_opens_the_case(app, agent, address):
    case_id = _case_for(app, "王秀兰")
    with app.app_context(), db.connection_context():
        code = Case.get_by_id(case_id).query_code
    answer = agent.get("/cases/", query_string={"q": address.format(code=code)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{case_id}")


def test_a_typed_query_code_still_lists_and_a_stranger_address_finds_nothing(app, agent):
    case_id = _case_for(app, "王秀兰")
    with app.app_context(), db.connection_context():
        code = Case.get_by_id(case_id).query_code
    listed = agent.get("/cases/", query_string={"q": code})
    assert listed.status_code == 200 and code in listed.get_data(as_text=True)
    assert from_scan("https://evil.example/other/path") == ("https://evil.example/other/path", False)
    assert agent.get("/cases/", query_string={"q": "https://evil.example/q/NOSUCH-1"}).status_code == 200


def test_a_receipt_scanned_into_the_item_search_opens_its_case(app, agent):
    case_id = _case_for(app, "王秀兰")
    with app.app_context(), db.connection_context():
        code = Case.get_by_id(case_id).query_code
    first = agent.get("/catalog/", query_string={"q": f"https://zwfw.example.gov.cn/q/{code}"})
    assert first.status_code == 302
    opened = agent.get(first.headers["Location"])
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{case_id}")
    assert agent.get("/catalog/", query_string={"q": "高龄津贴"}).status_code == 200  # typing still searches
