"""Intake: every decision branch, the identity checks an agent meets, duplicates and deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case, CaseMaterial, TimelineEntry
from station.services import intake, personal
from station.services.errors import ValidationFailed
from station.services.users import create_user
from sync.outbox import OutboxEvent
from tests.fixtures.intake import (
    BAD_CHECKSUM_ID,
    GOOD_ID,
    NANCHUAN_ID,
    SECOND_ID,
    form_for,
    item_named,
    proxy_fields,
)

PENSION = "城乡居民基本养老保险参保登记"  # the station holds the power to accept it (demo catalog)
ELDERLY = "高龄津贴申领"  # collected only: the county accepts
AID = "医疗救助申请"  # income statement may be replaced by a commitment
VETERAN = "退役军人优待证申领"  # must be done in person


def _save(item, data, agent, **kwargs):
    draft = intake.check_input([item], data, dt.date.today())
    return intake.create_cases([item], draft, agent, **kwargs)


@pytest.fixture
def agent_user(database):
    from station.models import User

    return User.get(User.username == "agent")


def test_all_essential_materials_collected_for_an_item_the_county_accepts(agent_user):
    item = item_named(ELDERLY)
    [case] = _save(item, form_for([item]), agent_user)
    assert case.decision == "collected"
    assert case.status == "collected"
    assert case.committed_due is not None and case.statutory_due >= case.committed_due
    assert case.case_no.startswith("141081102201" + dt.date.today().strftime("%Y%m%d"))


def test_station_with_the_power_to_accept_issues_an_acceptance(agent_user):
    item = item_named(PENSION)
    [case] = _save(item, form_for([item]), agent_user)
    assert case.decision == "accepted"


def test_station_power_is_a_per_station_setting(agent_user):
    from station.services.catalog import set_station_power

    item = item_named(PENSION)
    set_station_power(item.impl_code, False)
    [case] = _save(item, form_for([item]), agent_user)
    assert case.decision == "collected"


def test_missing_essential_material_is_not_collected_and_everything_missing_is_kept(agent_user):
    item = item_named(ELDERLY)
    data = form_for([item], **{"mat__hukou_book__status": "missing", "mat__bank_card__status": "missing"})
    [case] = _save(item, data, agent_user)
    assert case.decision == "not_collected"
    assert case.committed_due is None  # the clock does not start without an application
    missing = [m.name for m in CaseMaterial.select().where((CaseMaterial.case == case) & (CaseMaterial.status == "missing"))]
    assert len(missing) == 2


def test_deferred_material_gives_a_deferral_with_its_due_date(agent_user):
    item = item_named(PENSION)
    due = dt.date.today() + dt.timedelta(days=1)
    data = form_for([item], **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": due.isoformat()})
    [case] = _save(item, data, agent_user)
    assert case.decision == "deferred"
    photo = CaseMaterial.get((CaseMaterial.case == case) & (CaseMaterial.key == "photo_1inch"))
    assert photo.due_date == due


def test_commitment_and_e_license_stand_in_for_proofs(agent_user):
    item = item_named(AID)
    data = form_for([item], **{
        "mat__income_statement__status": "commitment",
        "mat__hukou_book__status": "e_license",
        "mat__hukou_book__elicense": "HK-2026-000123",
    })
    [case] = _save(item, data, agent_user)
    assert case.decision == "collected"
    hukou = CaseMaterial.get((CaseMaterial.case == case) & (CaseMaterial.key == "hukou_book"))
    assert hukou.e_license_no == "HK-2026-000123"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mat__photo_1inch__status": "deferred"}, "mat__photo_1inch__due", "补交日期"),
        ({"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": "2000-01-01"}, "mat__photo_1inch__due", "不能早于今天"),
        ({"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": "2099-01-01"}, "mat__photo_1inch__due", "不能晚于承诺办结期限"),
        ({"mat__id_card__status": "deferred", "mat__id_card__due": "2099-01-01"}, "mat__id_card__status", "不在容缺受理范围内"),
        ({"mat__id_card__status": "commitment"}, "mat__id_card__status", "不适用告知承诺"),
        ({"mat__hukou_book__status": "e_license"}, "mat__hukou_book__elicense", "电子证照编号"),
        ({"mat__hukou_book__status": ""}, "mat__hukou_book__status", "请选择"),
        ({"applicant_id_number": BAD_CHECKSUM_ID}, "applicant_id_number", "校验"),
        ({"applicant_id_number": "110105491231002"}, "applicant_id_number", "15位"),
        ({"applicant_id_number": "11010519491331002X"}, "applicant_id_number", "日期"),
        ({"applicant_id_number": "1101051949"}, "applicant_id_number", "18位"),
        ({"applicant_phone": "12345"}, "applicant_phone", "电话"),
        ({"applicant_area_code": "14108110220"}, "applicant_area_code", "12位"),
        ({"applicant_name": ""}, "applicant_name", "姓名"),
        ({"applicant_address": ""}, "applicant_address", "住址"),
        ({"mode": "walk-in"}, "mode", "帮办或代办"),
        ({"field__insured_grade": "999元"}, "field__insured_grade", "请从列表中选择"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_saves_nothing(agent_user, overrides, field, message):
    item = item_named(PENSION)
    before = Case.select().count(), OutboxEvent.select().count()
    with pytest.raises(ValidationFailed) as caught:
        _save(item, form_for([item], **overrides), agent_user)
    assert message in caught.value.errors[field], caught.value.errors
    assert (Case.select().count(), OutboxEvent.select().count()) == before


def test_real_resident_refused_by_stricter_libraries_is_accepted(agent_user):
    from stdnum.cn import ric

    with pytest.raises(Exception):  # noqa: B017 - documents why we do not gate on validate()
        ric.validate(NANCHUAN_ID)
    item = item_named(ELDERLY)
    [case] = _save(item, form_for([item], applicant_id_number=NANCHUAN_ID), agent_user)
    assert personal.applicant_id_number(case) == NANCHUAN_ID


def test_lower_case_x_is_accepted_and_stored_upper_case(agent_user):
    item = item_named(ELDERLY)
    [case] = _save(item, form_for([item], applicant_id_number=GOOD_ID.lower()), agent_user)
    assert personal.applicant_id_number(case) == GOOD_ID


def test_unknown_area_code_in_id_is_a_warning_not_a_refusal(agent_user):
    from stdnum.cn import ric

    body = "99010119800101123"
    number = body + ric.calc_check_digit(body + "0")
    item = item_named(ELDERLY)
    draft = intake.check_input([item], form_for([item], applicant_id_number=number), dt.date.today())
    assert draft.warnings
    [case] = intake.create_cases([item], draft, agent_user)
    assert case.status == "collected"


@pytest.mark.parametrize("code", ["N2141081MA0A1B2C3X", "Y1141081MA0A1B2C3X", "91141081MA0A1B2C3X"])
def test_enterprise_applicants_by_credit_code_including_village_collectives(agent_user, code):
    from stdnum.cn import uscc

    code = code[:17] + uscc.calc_check_digit(code[:17])
    item = item_named(ELDERLY)
    data = form_for([item], applicant_kind="enterprise", applicant_id_number=code, applicant_name="东关村股份经济合作社")
    [case] = _save(item, data, agent_user)
    assert case.applicant_cert_type == "uscc"


def test_proxy_needs_the_agents_identity_and_an_authorization(agent_user):
    item = item_named(PENSION)
    with pytest.raises(ValidationFailed) as caught:
        _save(item, form_for([item], **proxy_fields(proxy_id_number="", authorization="")), agent_user)
    assert "proxy_id_number" in caught.value.errors
    assert "委托书" in caught.value.errors["authorization"]


def test_proxy_application_with_authorization_to_print(agent_user):
    item = item_named(PENSION)
    [case] = _save(item, form_for([item], **proxy_fields(authorization="print")), agent_user)
    assert case.mode == "proxy" and not case.authorization_signed
    actions = [e.action for e in TimelineEntry.select().where(TimelineEntry.case == case)]
    assert "authorization_pending" in actions


def test_proxy_refused_for_items_that_need_the_resident_in_person(agent_user):
    item = item_named(VETERAN)
    with pytest.raises(ValidationFailed) as caught:
        _save(item, form_for([item], **proxy_fields()), agent_user)
    assert "不能代办" in caught.value.errors["mode"]


def test_bundle_makes_one_case_per_item_from_one_merged_list(agent_user):
    from station.services.catalog import get_bundle, merge_materials

    bundle, items = get_bundle("B001")
    merged = merge_materials(items)
    assert len(merged) < sum(len(list(i.materials)) for i in items)
    draft = intake.check_input(items, form_for(items), dt.date.today())
    cases = intake.create_cases(items, draft, agent_user, bundle_code=bundle.code)
    assert len(cases) == len(items)
    assert len({c.bundle_group for c in cases}) == 1
    assert len({c.case_no for c in cases}) == len(items)


def test_open_case_for_same_applicant_and_item_is_flagged_as_duplicate(agent_user):
    item = item_named(ELDERLY)
    [first] = _save(item, form_for([item]), agent_user)
    with pytest.raises(intake.DuplicateSuspected) as caught:
        _save(item, form_for([item]), agent_user)
    assert [c.id for c in caught.value.cases] == [first.id]
    again = _save(item, form_for([item]), agent_user, allow_duplicate=True)
    assert again[0].id != first.id
    other = _save(item, form_for([item], applicant_id_number=SECOND_ID), agent_user)
    assert other


def test_deadline_crossing_into_a_year_without_holiday_data_is_provisional(agent_user):
    item = item_named(ELDERLY)  # 10 working days committed
    draft = intake.check_input([item], form_for([item]), dt.date(2026, 12, 20))
    [case] = intake.create_cases([item], draft, agent_user, received_at=dt.datetime(2026, 12, 20, 9, 30))
    assert case.deadline_provisional
    assert "2027" in case.deadline_warning
    # Mon–Fri fallback: 12-21..12-31 gives 9 working days, 2027-01-01 (a Friday) the 10th.
    assert case.committed_due == dt.date(2027, 1, 1)


def test_deadline_inside_a_known_year_is_not_provisional(agent_user):
    item = item_named(ELDERLY)
    draft = intake.check_input([item], form_for([item]), dt.date(2026, 9, 25))
    [case] = intake.create_cases([item], draft, agent_user, received_at=dt.datetime(2026, 9, 25, 9, 0))
    assert not case.deadline_provisional
    # 2026 National Day: 10-01..10-07 off; 09-28, 09-29, 09-30 then 10-08, 10-09, 10-10 (make-up Saturday) …
    assert case.committed_due == dt.date(2026, 10, 15)


def test_every_save_writes_its_outbox_event_in_the_same_transaction(agent_user):
    item = item_named(ELDERLY)
    [case] = _save(item, form_for([item]), agent_user)
    [event] = OutboxEvent.select().where(OutboxEvent.case_id == case.id)
    assert event.kind == "case.submitted" and event.seq == 1 and event.state == "queued"
    assert event.payload["applicant"]["id_number"] == GOOD_ID
    assert event.payload["case_no"] == case.case_no


def test_a_second_agent_is_recorded_on_the_timeline(database):
    user = create_user("agent2", "刘代办", "agent", "agent2-pass-9")
    item = item_named(ELDERLY)
    [case] = _save(item, form_for([item]), user)
    [entry] = TimelineEntry.select().where(TimelineEntry.case == case)
    assert "刘代办" in entry.actor


def test_no_deferral_for_an_instant_item(agent_user):
    item = item_named("老年人优待证办理")
    data = form_for([item], **{"mat__photo_1inch__status": "deferred",
                               "mat__photo_1inch__due": (dt.date.today() + dt.timedelta(days=1)).isoformat()})
    with pytest.raises(ValidationFailed) as caught:
        _save(item, data, agent_user)
    assert "即办件不适用容缺" in caught.value.errors["mat__photo_1inch__status"]


def test_deferral_limit_comes_from_the_items_that_ask_for_the_material(database):
    from station.services.calendar import load_calendar
    from station.services.catalog import get_bundle, merge_materials

    _bundle, items = get_bundle("B003")  # 残疾人服务一件事: committed items of 15–20 days plus one instant item
    limits = intake.material_deferral_limits(merge_materials(items), dt.date(2026, 11, 23), load_calendar())
    instant = [i for i in items if not i.committed_value]
    assert instant, "the demo bundle has an instant member"
    for key, limit in limits.items():
        askers = [i for i in items if any(m.key == key for m in i.materials)]
        if any(not i.committed_value for i in askers):
            assert limit is None
        else:
            assert limit is not None and limit > dt.date(2026, 11, 24)


def test_instant_item_collected_for_the_county_gets_no_committed_date_to_go_red(agent_user):
    item = item_named("灵活就业人员参保登记")  # instant, the county accepts
    [case] = _save(item, form_for([item]), agent_user)
    assert case.decision == "collected" and case.committed_due is None and case.statutory_due is not None


def test_a_double_click_makes_one_case(app):
    from concurrent.futures import ThreadPoolExecutor

    from station.models import User

    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        agent = User.get(User.username == "agent")
        data = form_for([item])

    def save() -> str:
        with app.app_context(), db.connection_context():
            try:
                return _save(item, data, agent)[0].case_no
            except intake.DuplicateSuspected:
                return "duplicate"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(lambda _n: save(), range(2)))
    assert results[0] != "duplicate" and results[1] == "duplicate"


def test_a_committed_date_inside_a_known_year_is_firm_when_only_the_statutory_date_crosses(app, agent):
    from station.extensions import db
    from station.models import User

    with app.app_context(), db.connection_context():
        item = item_named(ELDERLY)  # 10 working days committed, 20 statutory
        draft = intake.check_input([item], form_for([item]), dt.date(2026, 12, 10))
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"),
                                     received_at=dt.datetime(2026, 12, 10, 9, 30))
    assert case.committed_due.year == 2026 and case.statutory_due.year == 2027
    assert case.statutory_provisional and not case.committed_provisional
    assert case.deadline_provisional  # what the county receives: one of the dates is provisional
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    statutory = page.split("<dt>法定期限</dt>")[1].split("</dd>")[0]
    committed = page.split("<dt>承诺期限</dt>")[1].split("</dd>")[0]
    assert "暂定" in statutory and "暂定" not in committed


def test_the_deferral_limit_on_the_form_is_marked_provisional_when_its_year_has_no_holiday_data(app, agent):
    from station.extensions import db
    from station.models import ServiceItem
    from station.services.calendar import set_year_known

    with app.app_context(), db.connection_context():
        item = next(i for i in ServiceItem.select() if i.committed_value and any(m.deferrable for m in i.materials))
    url = f"/intake/item/{item.id}"
    limit = agent.get(url).get_data(as_text=True).split("最晚 ")[1].split("</span>")[0]
    assert "暂定" not in limit
    with app.app_context(), db.connection_context():
        for year in (dt.date.today().year, dt.date.today().year + 1):
            set_year_known(year, False)
    limit = agent.get(url).get_data(as_text=True).split("最晚 ")[1].split("</label>")[0]
    assert "（暂定）" in limit


def test_a_bad_date_field_is_refused_with_todays_date_as_the_example(database):
    item = item_named("职工退休申请（基本养老保险待遇核定）")
    today = dt.date.today()
    with pytest.raises(ValidationFailed) as caught:
        intake.check_input([item], form_for([item], field__retirement_date="2026-13-45"), today)
    assert caught.value.errors["field__retirement_date"] == f"“申请退休日期”格式有误，应为 {today.isoformat()} 这样的日期。"
