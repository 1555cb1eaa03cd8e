"""Home visits (上门服务): a visit recorded with who, where, when, for whom, what and how it ended; the
cases taken during it carried on its record; the day's visits in the ledger, masked."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from station.extensions import db
from station.models import HomeVisit, HomeVisitCase
from tests.fixtures.intake import form_for, item_named

ITEM = "城乡居民基本养老保险参保登记"
VISIT = {"visited_on": dt.date.today().isoformat(), "started_at": "09:30", "ended_at": "10:40",
         "staff": "王代办、李窗口", "resident_name": "孙福贵", "resident_phone": "13700002222",
         "address": "示范县东关镇东关村五组3号", "purpose": "代办养老保险参保登记，核对户口簿", "outcome": "done"}


def _pdf_text(data: bytes, tmp_path) -> str:  # noqa: ANN001
    if shutil.which("pdftotext") is None:
        pytest.skip("!!! pdftotext (poppler-utils) NOT INSTALLED — printed text was NOT checked !!!")
    path = tmp_path / "ledger.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout.decode()


def _count(app) -> int:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return HomeVisit.select().count()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("staff", "", "请填写上门人员"),
    ("address", " ", "请填写上门地址"),
    ("started_at", "9点半", "请填写开始时间"),
    ("ended_at", "09:00", "结束时间须晚于开始时间"),
    ("visited_on", (dt.date.today() + dt.timedelta(days=2)).isoformat(), "不能晚于今天"),
    ("outcome", "maybe", "请选择上门结果"),
])
def test_a_visit_with_a_wrong_field_is_refused_and_nothing_is_stored(app, agent, field, value, words):
    response = agent.post("/visits/new", {**VISIT, field: value})
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert _count(app) == 0


def test_a_visit_carries_the_cases_taken_during_it_and_is_in_the_ledger(app, agent, clerk, tmp_path):
    response = agent.post("/visits/new", VISIT)
    assert response.status_code == 302
    visit_url = response.headers["Location"]
    visit_id = visit_url.rsplit("/", 1)[-1]
    with app.app_context(), db.connection_context():
        visit = HomeVisit.get_by_id(visit_id)
        assert "孙福贵" not in visit.resident_name_stored and "东关村" not in visit.address_stored
        item = item_named(ITEM)
    listing = agent.get("/visits/").get_data(as_text=True)
    assert "孙*贵" in listing and "137****2222" in listing and "东关村五组***" in listing and "孙福贵" not in listing

    response = agent.get(f"/visits/{visit_id}/case?item_code={item.item_code}")
    form = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="孙福贵"' in form and "示范县东关镇东关村五组3号" in form and "上门服务中收件" in form
    with app.app_context(), db.connection_context():
        data = form_for([item], applicant_name="孙福贵", applicant_phone="13700002222",
                        applicant_address="示范县东关镇东关村五组3号", home_visit=visit_id)
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context(), db.connection_context():
        [link] = HomeVisitCase.select()
        from station.models import Case

        case_no = Case.get_by_id(link.case_id).case_no
    assert case_no in agent.get(visit_url).get_data(as_text=True)

    text = _pdf_text(clerk.get(f"/ledger.pdf?day={dt.date.today().isoformat()}").data, tmp_path)
    visits = text.split("上门服务（1 次）", 1)[1]  # the case's own row above names the applicant as cases do
    assert "王代办" in visits and "孙*贵" in visits and case_no in visits.replace(" ", "")
    assert "孙福贵" not in visits and "3号" not in visits and "已办完" in visits
