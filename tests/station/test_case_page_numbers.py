"""Personal numbers inside the case page's free text — a form's field, a staff note, a material's note — are
masked in the page itself; one of them is shown in full on a reason, logged, in that answer only; bad input
shows nothing; 再次受理 still fills the form with the full values (the agent's own intake)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from station.extensions import db
from station.models import AccessLog, CaseMaterial, User
from station.services import cases, commitments, county_changes, intake, masked_texts
from station.services.errors import DomainError
from sync import protocol
from tests.fixtures.intake import GOOD_ID, SECOND_ID, form_for, item_named
from tests.fixtures.station import StationClient

ITEM = "最低生活保障申请"
SON_PHONE, DAUGHTER_ID = "13911113333", "110105199001010033"
REASON = f"儿子电话{SON_PHONE}，女儿身份证{DAUGHTER_ID}，家庭困难"
CARD = "6222021234567890123"


def _take(app, agent: StationClient, item_name: str = ITEM, applicant: str = GOOD_ID,  # noqa: ANN001
          **fields: str) -> str:
    with app.app_context(), db.connection_context():
        item = item_named(item_name)
        data = form_for([item], applicant_id_number=applicant,
                        **{f"field__{k}": v for k, v in (fields or {"apply_reason": REASON}).items()})
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"].split("/cases/")[1].split("?")[0]


def _reveals(app) -> list[AccessLog]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return list(AccessLog.select().where(AccessLog.action == "reveal").order_by(AccessLog.seq))


def _paths(page: str) -> list[str]:
    """The numbers the page offers to reveal, in page order."""
    return re.findall(r'name="path" value="([^"]+)"', page)


def _read(page: str) -> str:
    """The page's words as a person reads them, the 显示 controls beside each masked number set aside."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<details class=\"reveal-number\">.*?</details>", "", page, flags=re.S))


@pytest.fixture
def case_id(app, agent) -> str:  # noqa: ANN001
    return _take(app, agent)


@pytest.mark.parametrize(("item", "fields", "full", "masked"), [
    (ITEM, {"apply_reason": REASON}, [SON_PHONE, DAUGHTER_ID], ["儿子电话139****3333，女儿身份证110105********0033，家庭困难"]),
    ("耕地地力保护补贴申报", {"subsidy_account": CARD}, [CARD], ["622202*********0123"]),
])
def test_numbers_in_the_form_are_masked_in_the_page_source(app, agent, item, fields, full, masked):
    """Not hidden by style: the full number is nowhere in the HTML, each masked one has its own reveal."""
    case_id = _take(app, agent, item, **fields)
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    for number in full:
        assert number not in page
    for shown in masked:
        assert shown in _read(page)
    [field] = fields
    assert _paths(page) == [f"form_values/{field}/{n}" for n in range(len(full))]


def test_one_form_number_is_shown_on_a_reason_logged_and_only_in_that_answer(app, agent, case_id):
    shown = agent.post(f"/cases/{case_id}/reveal/number", {"path": "form_values/apply_reason/1",
                                                           "reason": "contact_resident"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert f"女儿身份证<strong class=\"mono revealed-number\">{DAUGHTER_ID}</strong>" in text
    assert SON_PHONE not in text and "139****3333" in text  # that one number only
    assert "已显示表单“申请理由”中的第2个号码" in text and "已记入访问日志" in text
    assert shown.headers["Cache-Control"].startswith("no-store")
    [entry] = _reveals(app)
    assert entry.detail == "理由：联系申请人；显示：表单“申请理由”中的第2个号码"
    assert entry.case_id == case_id and entry.role == "agent"
    assert DAUGHTER_ID not in agent.get(f"/cases/{case_id}").get_data(as_text=True)  # the next view is masked


def test_a_clerk_reveals_too_and_the_reason_words_are_logged(app, case_id):
    clerk = StationClient(app.test_client()).login("clerk")
    shown = clerk.post(f"/cases/{case_id}/reveal/number", {"path": "form_values/apply_reason/0", "reason": "other",
                                                           "reason_text": "民政所电话回访"})
    assert shown.status_code == 200 and SON_PHONE in shown.get_data(as_text=True)
    [entry] = _reveals(app)
    assert entry.role == "clerk" and entry.detail == "理由：其他（请说明）：民政所电话回访；显示：表单“申请理由”中的第1个号码"


@pytest.mark.parametrize(("path", "reason", "words", "message"), [
    ("form_values/apply_reason/2", "contact_resident", "", "本办件页面上没有这个号码"),  # the field holds two
    ("form_values/apply_reason/01", "contact_resident", "", "本办件页面上没有这个号码"),
    ("form_values/apply_reason/-1", "contact_resident", "", "本办件页面上没有这个号码"),
    ("form_values/apply_reason", "contact_resident", "", "本办件页面上没有这个号码"),
    ("form_values/nobody/0", "contact_resident", "", "本办件页面上没有这个号码"),
    ("applicant_id/0", "contact_resident", "", "本办件页面上没有这个号码"),
    ("", "contact_resident", "", "本办件页面上没有这个号码"),
    ("form_values/apply_reason/0", "", "", "请选择显示完整号码的理由"),
    ("form_values/apply_reason/0", "other", "  ", "请写明理由"),
    ("form_values/apply_reason/0", "curious", "", "不是有效的选择"),  # not one of the reasons
])
def test_a_bad_path_or_no_reason_shows_nothing_and_logs_no_reveal(app, agent, case_id, path, reason, words, message):
    refused = agent.post(f"/cases/{case_id}/reveal/number", {"path": path, "reason": reason, "reason_text": words})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert message in text and 'id="reveal-number-error"' in text
    assert SON_PHONE not in text and DAUGHTER_ID not in text
    assert _reveals(app) == []


def test_a_number_of_another_cases_note_is_not_revealed_through_this_case(app, agent, case_id):
    other_id = _take(app, agent, applicant=SECOND_ID, apply_reason="无")
    agent.post(f"/cases/{other_id}/notes", {"text": "邻居电话13655556666"})
    [path] = [p for p in _paths(agent.get(f"/cases/{other_id}").get_data(as_text=True)) if p.startswith("timeline/")]
    refused = agent.post(f"/cases/{case_id}/reveal/number", {"path": path, "reason": "contact_resident"})
    assert refused.status_code == 400 and "13655556666" not in refused.get_data(as_text=True)
    assert _reveals(app) == []


def test_a_role_that_may_not_reveal_is_refused_and_nothing_is_logged(app, agent, client, case_id):
    with app.app_context(), db.connection_context():
        User.update(role="visitor").where(User.username == "agent").execute()  # a role outside the front office
    refused = agent.post(f"/cases/{case_id}/reveal/number", {"path": "form_values/apply_reason/1",
                                                             "reason": "contact_resident"})
    assert refused.status_code == 403 and DAUGHTER_ID not in refused.get_data(as_text=True)
    client.fetch_token("/login")
    anonymous = client.post(f"/cases/{case_id}/reveal/number", {"path": "form_values/apply_reason/1",
                                                                "reason": "contact_resident"})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert _reveals(app) == []


def test_a_staff_note_is_masked_on_the_timeline_and_revealed_on_a_reason(app, agent, case_id):
    agent.post(f"/cases/{case_id}/notes", {"text": "申请人女儿电话13722224444，白天联系"})
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "13722224444" not in page and "申请人女儿电话137****4444，白天联系" in _read(page)
    [path] = [p for p in _paths(page) if p.startswith("timeline/")]
    shown = agent.post(f"/cases/{case_id}/reveal/number", {"path": path, "reason": "contact_resident"})
    assert shown.status_code == 200 and "13722224444" in shown.get_data(as_text=True)
    assert "办理过程" in _reveals(app)[0].detail and "13722224444" not in _reveals(app)[0].detail


def test_an_unkept_promise_note_is_masked_and_revealed_on_a_reason(app, agent):
    today = dt.date.today()
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        draft = intake.check_input([item], form_for([item], **{"mat__photo_1inch__status": "deferred",
                                                               "mat__photo_1inch__due": today.isoformat()}), today)
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        photo = CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "photo_1inch")
        name = photo.name
        commitments.record_unkept(cases.get_case(case.id), User.get(User.username == "agent"), photo.id,
                                  "儿子13655556666说不再补交", today=today + dt.timedelta(days=1))
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "13655556666" not in page and "儿子136****6666说不再补交" in _read(page)
    assert "materials/photo_1inch/0" in _paths(page)
    shown = agent.post(f"/cases/{case.id}/reveal/number", {"path": "materials/photo_1inch/0",
                                                           "reason": "contact_resident"})
    assert shown.status_code == 200 and "13655556666" in shown.get_data(as_text=True)
    assert _reveals(app)[0].detail == f"理由：联系申请人；显示：材料“{name}”的说明中的号码"


def test_taking_a_refused_case_up_again_fills_the_form_with_the_full_values(app, agent, case_id):
    """再次受理 is the agent's own intake: the form comes back as typed, numbers whole, while the case page masks them."""
    with app.app_context(), db.connection_context():
        with db.atomic():
            cases.apply_county_status(case_id, {"status": "rejected", "reason": "家庭收入超标"})
        item_id = item_named(ITEM).id
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="resume-case"' in page and DAUGHTER_ID not in page
    form = agent.get(f"/intake/item/{item_id}?resume={case_id}").get_data(as_text=True)
    assert REASON in form


def test_the_reveal_service_is_a_door_that_needs_a_reason(app, case_id):
    """What the view calls to show a free-text number: no reason, nothing read, whoever calls it."""
    with app.app_context(), db.connection_context():
        case = cases.get_case(case_id)
        with pytest.raises(DomainError) as refused:
            masked_texts.reveal(case, "form_values/apply_reason/0", "  ")
        assert refused.value.message == masked_texts.NO_REASON
        assert masked_texts.reveal(case, "form_values/apply_reason/0", "联系申请人").value == SON_PHONE


def test_a_number_in_the_countys_reason_is_masked_where_the_page_shows_it(app, agent, case_id):
    """The county's 补正 reason is shown twice (status line and the 补正 box): masked in both, revealed by one path."""
    with app.app_context(), db.connection_context():
        with db.atomic():
            cases.apply_county_status(case_id, {"status": "supplement", "reason": "请核对其女儿电话13722224444",
                                                "items": ["居民户口簿"]})
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "13722224444" not in page
    for box in ('id="decision"', 'id="supplement"'):
        assert "请核对其女儿电话137****4444" in _read(page.split(box, 1)[1].split("</section>", 1)[0]), box
    assert "status_reason/0" in _paths(page)
    shown = agent.post(f"/cases/{case_id}/reveal/number", {"path": "status_reason/0", "reason": "county_request"})
    assert shown.status_code == 200 and "13722224444" in shown.get_data(as_text=True)
    assert _reveals(app)[0].detail == "理由：县级部门要求核对；显示：县级说明中的号码"


def test_a_number_in_the_countys_result_is_masked_and_revealed_on_a_reason(app, agent, case_id):
    with app.app_context(), db.connection_context():
        with db.atomic():
            cases.apply_county_status(case_id, {"status": "completed", "result": "approved",
                                                "result_text": "低保金打入尾号卡6222021234567890123"})
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert CARD not in page and "低保金打入尾号卡622202*********0123" in _read(page.split('id="case-result"')[1])
    shown = agent.post(f"/cases/{case_id}/reveal/number", {"path": "result_text/0", "reason": "contact_resident"})
    assert shown.status_code == 200 and CARD in shown.get_data(as_text=True)
    assert _reveals(app)[0].detail == "理由：联系申请人；显示：办结结果说明中的号码"


def test_a_number_in_a_remedys_records_is_masked_and_revealed_on_a_reason(app, agent, case_id):
    """A 差评整改 as the county sends it: its 回访 record and its closing note may quote the resident's number."""
    remedy = {"remedy_id": 7, "evaluation_id": protocol.new_id(), "status": "closed", "owner": "county1",
              "callback_due": "2026-12-01", "fix_due": "2026-12-21", "overdue": [],
              "closing_note": f"已回电{DAUGHTER_ID}本人确认",
              "contacts": [{"at": "2026-12-01T01:00:00Z", "method": "phone", "said": "打13722224444未接"},
                           {"at": "2026-12-02T01:00:00Z", "method": "phone", "said": f"改打{SON_PHONE}，已致歉"}]}
    with app.app_context(), db.connection_context(), db.atomic():
        county_changes.apply_change(protocol.CHANGE_REMEDY, case_id, remedy)
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    box = _read(page.split('id="remedy-7"')[1].split("</div>")[0])
    assert "打137****4444未接" in box and "改打139****3333，已致歉" in box and "已回电110105********0033本人确认" in box
    for number in ("13722224444", SON_PHONE, DAUGHTER_ID):
        assert number not in page
    shown = agent.post(f"/cases/{case_id}/reveal/number", {"path": "remedy/7/contact/1/0", "reason": "contact_resident"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and SON_PHONE in text and "13722224444" not in text
    assert _reveals(app)[0].detail == "理由：联系申请人；显示：差评整改 7 第2次回访记录中的号码"
