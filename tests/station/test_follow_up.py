"""A case followed to its end at the station (issue 19): 补正 answered, 容缺 arrivals, the handover.

Services first, then the same actions through HTTP as the agent clicks them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rules import events
from station.extensions import db
from station.models import Case, CaseMaterial, TimelineEntry, User
from station.services import cases, follow_up, intake, paper, personal
from station.services.calendar import load_calendar
from station.services.errors import DomainError, ValidationFailed
from sync.outbox import OutboxEvent
from tests.fixtures.intake import AGENT_ID, BAD_CHECKSUM_ID, GOOD_ID, form_for, item_named
from tests.fixtures.pdf import pdftotext

ITEM = "高龄津贴申领"  # id_card, hukou_book, bank_card essential; photo_1inch may be deferred


def _take(taken_by: str = "agent", **overrides: str) -> Case:
    item = item_named(ITEM)
    agent = User.get(User.username == taken_by)
    draft = intake.check_input([item], form_for([item], **overrides), dt.date.today())
    [case] = intake.create_cases([item], draft, agent, allow_duplicate=True)
    return cases.get_case(case.id)


def _deferred_case(due: dt.date | None = None) -> Case:
    return _take(**{"mat__photo_1inch__status": "deferred",
                    "mat__photo_1inch__due": (due or dt.date.today()).isoformat()})


def _county(case: Case, status: str, **payload: object) -> Case:
    with db.atomic():
        cases.apply_county_status(case.id, {"status": status, **payload})
    return cases.get_case(case.id)


def _asked_for_hukou(case: Case) -> Case:
    return _county(case, "supplement", reason="户口簿复印件不清晰",
                   supplement_items=[{"key": "hukou_book", "name": "居民户口簿"}])


def _events(case: Case, kind: str) -> list[OutboxEvent]:
    return list(OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.kind == kind)))


def _agent() -> User:
    return User.get(User.username == "agent")


def _state(case: Case) -> tuple:
    """Everything a refused action must leave as it was."""
    fresh = Case.get_by_id(case.id)
    mats = [(m.key, m.status, m.supplied_as, m.received_at) for m in cases.materials(fresh)]
    return (fresh.status, fresh.supplemented_at, fresh.delivered_at, fresh.delivery, fresh.collector_id_stored, mats,
            OutboxEvent.select().where(OutboxEvent.case_id == case.id).count(),
            TimelineEntry.select().where(TimelineEntry.case == case.id).count())


# --- 补正 ---------------------------------------------------------------------------------------

def test_the_case_shows_exactly_the_materials_the_county_asked_for(database):
    case = _asked_for_hukou(_take())
    assert [m.key for m in follow_up.requested_materials(case)] == ["hukou_book"]
    assert follow_up.awaiting_supplement(case)


def test_a_supplement_updates_each_material_and_goes_out_as_one_event(database):
    case = _asked_for_hukou(_take())
    before = len(OutboxEvent.select().where(OutboxEvent.case_id == case.id))
    follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "copy")], "重新复印")
    case = cases.get_case(case.id)
    hukou = next(m for m in cases.materials(case) if m.key == "hukou_book")
    assert (hukou.status, hukou.supplied_as) == ("provided", "copy") and hukou.received_at is not None
    assert case.supplemented_at is not None and not follow_up.awaiting_supplement(case)
    [event] = _events(case, events.SUPPLEMENTED)
    assert OutboxEvent.select().where(OutboxEvent.case_id == case.id).count() == before + 1
    assert events.body_problem(events.SUPPLEMENTED, event.payload) is None
    assert event.payload["supplied"] == [{"key": "hukou_book", "name": "居民户口簿", "supplied_as": "copy", "note": None}]
    assert event.payload["note"] == "重新复印"
    assert {m["key"]: m["status"] for m in event.payload["materials"]}["hukou_book"] == "provided"


def test_not_applicable_needs_a_reason_and_is_then_the_materials_state(database):
    case = _asked_for_hukou(_take())
    before = _state(case)
    with pytest.raises(ValidationFailed) as refused:
        follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "not_applicable")])
    assert "请填写理由" in refused.value.errors["supplied__hukou_book__note"]
    assert _state(case) == before
    follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "not_applicable", "集体户口")])
    hukou = next(m for m in cases.materials(cases.get_case(case.id)) if m.key == "hukou_book")
    assert (hukou.status, hukou.supplied_note) == ("not_applicable", "集体户口")


@pytest.mark.parametrize("answers", [[], [("hukou_book", "brought")], [("hukou_book", "scan")]])
def test_an_incomplete_supplement_changes_nothing(database, answers):
    case = _asked_for_hukou(_take())
    before = _state(case)
    with pytest.raises(ValidationFailed) as refused:
        follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial(k, v) for k, v in answers])
    assert "居民户口簿" in refused.value.errors["supplied__hukou_book"]
    assert _state(case) == before


def test_a_supplement_for_a_case_no_longer_waiting_is_refused_and_changes_nothing(database):
    case = _take()
    before = _state(case)
    with pytest.raises(DomainError, match="不在待补正状态"):
        follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "copy")])
    assert _state(case) == before
    case = _asked_for_hukou(case)
    follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "copy")])
    case = cases.get_case(case.id)
    before = _state(case)
    with pytest.raises(DomainError, match="不能重复提交"):
        follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "original_seen")])
    assert _state(case) == before
    # a second 补正 from the county asks again, and may be answered again
    case = _asked_for_hukou(case)
    assert follow_up.awaiting_supplement(case)


def test_the_supplement_receipt_lists_what_was_brought(database):
    case = _asked_for_hukou(_take())
    follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "original_seen")])
    case = cases.get_case(case.id)
    doc = paper.case_doc(case)
    assert [(s.name, s.supplied_as) for s in doc.supplied] == [("居民户口簿", "original_seen")]
    assert "supplement_receipt" in [d.key for d in paper.applicable_documents(case)]
    pdf, title = paper.render(case, "supplement_receipt", _agent())
    assert pdf.startswith(b"%PDF") and title == "补正材料收取凭证"


def test_the_supplement_notice_says_when_the_department_asked_and_warns_of_no_deadline_it_never_set(database):
    """The 补正通知 printed no date for the county's request and warned 逾期不补正的，视为放弃申请 with no date
    anywhere on the paper to be late for."""
    case = _county(_take(), "supplement", reason="户口簿复印件不清晰", decided_at="2026-11-27T02:30:00Z",
                   supplement_items=[{"key": "hukou_book", "name": "居民户口簿"}])
    asked = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC).astimezone()
    pdf, title = paper.render(case, "supplement", _agent())
    text = "".join(pdftotext(pdf).split())
    assert title == "补正材料通知书" and "居民户口簿" in text and "户口簿复印件不清晰" in text
    assert f"审查（{asked.year}年{asked.month}月{asked.day}日）" in text
    assert "逾期" not in text and "请尽快携带本通知" in text


def test_a_case_the_county_refused_prints_a_refusal_notice_with_its_reason_and_date(database):
    """A 不予受理 reached the resident on no paper: the case page offered only the old 收件回执."""
    case = _county(_take(), "rejected", reason="申请人未满80周岁，不符合高龄津贴申领条件", decided_at="2026-11-27T02:30:00Z")
    decided = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC).astimezone()
    assert "不予受理告知书" in [d.title for d in paper.applicable_documents(case)]
    pdf, title = paper.render(case, "rejection", _agent())
    text = "".join(pdftotext(pdf).split())
    assert title == "不予受理告知书"
    assert f"于{decided.year}年{decided.month}月{decided.day}日决定不予受理" in text
    assert "申请人未满80周岁，不符合高龄津贴申领条件" in text
    assert "rejection" not in [d.key for d in paper.applicable_documents(_take())]


# --- 容缺 ---------------------------------------------------------------------------------------

def test_deferred_materials_due_within_three_working_days_and_overdue_are_listed(database):
    calendar = load_calendar()
    today = dt.date.today()
    due_today = _deferred_case(today)
    later = _deferred_case(today)
    # a material due in 5 working days is not yet on the list; one overdue is, first
    CaseMaterial.update(due_date=calendar.add_working_days(today, 5).due).where(
        CaseMaterial.case == later.id, CaseMaterial.key == "photo_1inch").execute()
    overdue = _deferred_case(today)
    CaseMaterial.update(due_date=today - dt.timedelta(days=3)).where(
        CaseMaterial.case == overdue.id, CaseMaterial.key == "photo_1inch").execute()
    rows = follow_up.deferred_due(today, calendar)
    assert [(r.case.id, r.overdue) for r in rows] == [(overdue.id, True), (due_today.id, False)]
    assert follow_up.deferred_due(today, calendar, User.get(User.username == "clerk")) == []


def test_an_arrival_updates_the_material_and_goes_out_as_a_materials_update(database):
    case = _deferred_case()
    assert case.status == "deferred"
    photo = next(m for m in cases.materials(case) if m.key == "photo_1inch")
    follow_up.record_arrival(case, _agent(), photo.id, "original_seen")
    case = cases.get_case(case.id)
    photo = CaseMaterial.get_by_id(photo.id)
    assert (photo.status, photo.supplied_as) == ("provided", "original_seen")
    assert case.status == "collected"  # nothing deferred any more
    [event] = _events(case, events.MATERIALS_UPDATED)
    assert events.body_problem(events.MATERIALS_UPDATED, event.payload) is None
    assert event.payload["arrived"] == ["photo_1inch"]
    assert follow_up.deferred_due(dt.date.today(), load_calendar()) == []


def test_a_reprinted_receipt_shows_the_day_a_deferred_material_was_brought(database):
    """She brought the 容缺 photo in time, and no paper said so: the 容缺 notice no longer applied and the receipt
    listed the photo as a plain 已提交, though the notice threatens 终止办理 for a late one."""
    due = dt.date.today() + dt.timedelta(days=3)
    case = _deferred_case(due)
    photo = next(m for m in cases.materials(case) if m.key == "photo_1inch")
    brought = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(10, 5))
    follow_up.record_arrival(case, _agent(), photo.id, "original_seen", at=brought)
    pdf, _title = paper.render(cases.get_case(case.id), "receipt", _agent())
    text = "".join(pdftotext(pdf, None, None, "-raw").split())
    assert f"{photo.name}原件1容缺后补，{brought.year}年{brought.month}月{brought.day}日已补交" in text


def test_an_arrival_recorded_twice_or_for_a_closed_case_changes_nothing(database):
    case = _deferred_case()
    photo = next(m for m in cases.materials(case) if m.key == "photo_1inch")
    hukou = next(m for m in cases.materials(case) if m.key == "hukou_book")
    before = _state(case)
    with pytest.raises(DomainError, match="不是待补交的容缺材料"):
        follow_up.record_arrival(case, _agent(), hukou.id)
    assert _state(case) == before
    case = _county(case, "rejected", reason="不符合条件")
    before = _state(case)
    with pytest.raises(DomainError, match="已不能登记补交"):
        follow_up.record_arrival(case, _agent(), photo.id)
    assert _state(case) == before


# --- 送达 ---------------------------------------------------------------------------------------

def _completed(**payload: object) -> Case:
    case = _county(_take(), "accepted")
    return _county(case, "completed", result="approved", result_text="自2026年12月起发放", **payload)


def test_the_applicant_collects_at_the_window_with_her_id_checked(database):
    case = _completed(certificate_no="GLJT-2026-0042")
    assert case.result_certificate_no == "GLJT-2026-0042"
    follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
        method="window", collector_kind="applicant", collector_id_number=GOOD_ID))
    case = cases.get_case(case.id)
    assert case.status == "delivered" and case.delivered_at is not None
    assert GOOD_ID not in str(case.delivery)  # the number is only in its own, sealed column
    [event] = _events(case, events.DELIVERED)
    assert events.body_problem(events.DELIVERED, event.payload) is None
    assert event.payload["method"] == "window" and event.payload["collector"]["name"] == "赵秀英"
    assert GOOD_ID not in str(event.payload) and event.payload["collector"]["id_masked"].startswith("1101")
    assert "delivery_slip" in [d.key for d in paper.applicable_documents(case)]
    pdf, _title = paper.render(case, "delivery_slip", _agent())
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"collector_kind": "applicant", "collector_id_number": BAD_CHECKSUM_ID}, "collector_id_number", "领取人证件"),
    ({"collector_kind": "applicant", "collector_id_number": AGENT_ID}, "collector_id_number", "与申请人不一致"),
    ({"collector_kind": "authorised", "collector_name": "王小二", "collector_id_number": AGENT_ID,
      "collector_relation": "儿子"}, "authorization_checked", "委托书"),
    ({"collector_kind": "", "collector_id_number": GOOD_ID}, "collector_kind", "请选择领取人"),
])
def test_a_collector_who_fails_the_checks_changes_nothing(database, data, field, words):
    case = _completed()
    before = _state(case)
    with pytest.raises(ValidationFailed) as refused:
        follow_up.record_handover(case, _agent(), follow_up.HandoverInput(method="window", **data))
    assert words in refused.value.errors[field]
    assert _state(case) == before


def test_an_authorised_person_collects_with_the_letter_checked(database):
    case = _completed()
    follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
        method="window", collector_kind="authorised", collector_name="王小二", collector_id_number=AGENT_ID,
        collector_relation="儿子", authorization_checked=True))
    case = cases.get_case(case.id)
    assert case.status == "delivered"
    from station.services import personal
    assert personal.collector_id_number(case) == AGENT_ID
    assert "受委托人王小二（儿子）" in follow_up.handover_summary(case)


def test_free_post_and_hand_delivery(database):
    posted = _completed()
    with pytest.raises(ValidationFailed) as refused:
        follow_up.record_handover(posted, _agent(), follow_up.HandoverInput(method="post", ems_no="12345",
                                                                            date=dt.date.today().isoformat()))
    assert "EMS" in refused.value.errors["ems_no"]
    follow_up.record_handover(posted, _agent(), follow_up.HandoverInput(
        method="post", ems_no="ea123456789cn", date=dt.date.today().isoformat()))
    [event] = _events(posted, events.DELIVERED)
    applicant_address = personal.applicant_address(posted)  # none typed: the applicant's, as she gave it
    assert applicant_address and "enc1:" not in applicant_address
    assert (event.payload["ems_no"], event.payload["address"]) == ("EA123456789CN", applicant_address)
    assert cases.get_case(posted.id).delivery["address"] == applicant_address
    handed = _completed()
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationFailed) as refused:
        follow_up.record_handover(handed, _agent(), follow_up.HandoverInput(method="hand", receiver="赵秀英",
                                                                            date=tomorrow))
    assert "不能晚于今天" in refused.value.errors["date"]
    follow_up.record_handover(handed, _agent(), follow_up.HandoverInput(
        method="hand", receiver="赵秀英", date=dt.date.today().isoformat()))
    assert cases.get_case(handed.id).status == "delivered"


def test_a_handover_recorded_twice_or_before_the_result_changes_nothing(database):
    case = _take()
    before = _state(case)
    with pytest.raises(DomainError, match="尚无办理结果"):
        follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
            method="window", collector_kind="applicant", collector_id_number=GOOD_ID))
    assert _state(case) == before
    case = _completed()
    other_desk = cases.get_case(case.id)  # the same case, open at a second desk before the pickup
    follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
        method="window", collector_kind="applicant", collector_id_number=GOOD_ID))
    case = cases.get_case(case.id)
    before = _state(case)
    with pytest.raises(DomainError, match="不能重复登记"):
        follow_up.record_handover(other_desk, _agent(), follow_up.HandoverInput(
            method="hand", receiver="赵秀英", date=dt.date.today().isoformat()))
    assert _state(case) == before
    with pytest.raises(DomainError, match="不能重复登记"):
        follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
            method="hand", receiver="赵秀英", date=dt.date.today().isoformat()))
    assert _state(case) == before


# --- through HTTP --------------------------------------------------------------------------------

def _in_app(app, fn):  # noqa: ANN001, ANN202
    with app.app_context(), db.connection_context():
        return fn()


def test_the_agent_answers_a_supplement_on_the_case_page(app, agent):
    case = _in_app(app, lambda: _asked_for_hukou(_take()))
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="supplement-form"' in page and 'name="supplied__hukou_book"' in page
    assert 'name="supplied__id_card"' not in page  # only what the county asked for
    assert "县级要求补正</strong>（原为已提交）" in page  # the table shows what is asked now
    response = agent.post(f"/cases/{case.id}/supplement", {"supplied__hukou_book": "copy"})
    assert response.status_code == 302
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "补正材料已登记" in page and 'id="supplement-form"' not in page
    assert "已于" in page and "补交：复印件" in page  # the materials table shows the current state
    assert "补正材料收取凭证" in page
    response = agent.post(f"/cases/{case.id}/supplement", {"supplied__hukou_book": "copy"}, follow_redirects=True)
    assert "不能重复提交" in response.get_data(as_text=True)
    assert _in_app(app, lambda: len(_events(case, events.SUPPLEMENTED))) == 1


def test_the_agent_records_an_arrival_with_one_button(app, agent):
    case = _in_app(app, _deferred_case)
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="arrival-photo_1inch"' in page and "前补交" in page
    photo_id = _in_app(app, lambda: CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "photo_1inch").id)
    page = agent.post(f"/cases/{case.id}/materials/{photo_id}/arrival", {"supplied_as": "copy"},
                      follow_redirects=True).get_data(as_text=True)
    assert "已登记补交：一寸" in page or "已登记补交" in page
    assert 'id="arrival-photo_1inch"' not in page
    page = agent.post(f"/cases/{case.id}/materials/{photo_id}/arrival", {"supplied_as": "copy"},
                      follow_redirects=True).get_data(as_text=True)
    assert "不是待补交的容缺材料" in page


def test_the_agent_records_a_pickup_and_a_bad_id_changes_nothing(app, agent):
    case = _in_app(app, _completed)
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="handover-form"' in page and "准予" in page
    page = agent.post(f"/cases/{case.id}/handover", {"method": "window", "collector_kind": "applicant",
                                                      "collector_id_number": BAD_CHECKSUM_ID},
                      follow_redirects=True).get_data(as_text=True)
    assert "领取人证件" in page and _in_app(app, lambda: Case.get_by_id(case.id).status) == "completed"
    page = agent.post(f"/cases/{case.id}/handover", {"method": "window", "collector_kind": "applicant",
                                                      "collector_id_number": GOOD_ID},
                      follow_redirects=True).get_data(as_text=True)
    assert "已送达" in page and 'id="handover-form"' not in page and "送达回证" in page
    page = agent.post(f"/cases/{case.id}/handover", {"method": "hand", "receiver": "赵秀英",
                                                      "date": dt.date.today().isoformat()},
                      follow_redirects=True).get_data(as_text=True)
    assert "不能重复登记" in page
    assert _in_app(app, lambda: len(_events(case, events.DELIVERED))) == 1


def test_after_the_stations_own_handover_the_heading_says_the_station_delivered(app, agent):
    case = _in_app(app, _completed)
    agent.post(f"/cases/{case.id}/handover", {"method": "window", "collector_kind": "applicant",
                                              "collector_id_number": GOOD_ID})
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    heading = page[page.index('id="decision"'):page.index("当前状态")]
    assert "本站：已送达" in heading and "县级平台：已送达" not in heading
    assert "县级平台：已办结" in heading  # what the county did is still told


def test_a_case_turned_away_says_nothing_about_sending_papers_up(app, agent):
    turned_away = _in_app(app, lambda: _take(**{"mat__id_card__status": "missing"}))
    taken = _in_app(app, _take)
    assert turned_away.status == "not_collected"
    page = agent.get(f"/cases/{turned_away.id}").get_data(as_text=True)
    content = page[page.index("<h1>"):]  # the menu's own 物料流转 link is not the case's
    assert "物料流转" not in content and "建立流转批次" not in content and 'id="papers"' not in content
    assert "尚未装入物料流转批次" in agent.get(f"/cases/{taken.id}").get_data(as_text=True)


def test_the_home_page_is_the_agents_to_do(app, agent, clerk):
    supplement = _in_app(app, lambda: _asked_for_hukou(_take()))
    deferred = _in_app(app, _deferred_case)
    result = _in_app(app, _completed)
    page = agent.get("/").get_data(as_text=True)
    assert "我的待办" in page
    for anchor, case in (("todo-supplements", supplement), ("todo-deferred", deferred), ("todo-handovers", result)):
        assert f'id="{anchor}"' in page and case.case_no in page
    assert 'id="sync-queue"' not in page
    page = clerk.get("/").get_data(as_text=True)
    assert "本站待办" in page and 'id="sync-queue"' in page and "收件提交" in page
    assert supplement.case_no in page
    page = agent.get("/deferrals").get_data(as_text=True)
    assert deferred.case_no in page and "今日到期" in page


def test_the_to_do_lists_show_the_resident_masked_as_the_other_lists_do(app, agent, clerk):
    """A home page is read over the counter: its lists name the resident 欧**英, never in full, and a number
    the county wrote into its 补正 reason is masked as on the case page; the case page keeps the full name."""
    name = "欧阳秀英"
    asked = _in_app(app, lambda: _county(_take(applicant_name=name), "supplement", supplement_items=[],
                                         reason="请核对申请人女儿电话13712345678是否本人"))
    _in_app(app, lambda: _take(applicant_name=name, **{"mat__photo_1inch__status": "deferred",
                                                       "mat__photo_1inch__due": dt.date.today().isoformat()}))
    handed = _in_app(app, lambda: _county(_county(_take(applicant_name=name), "accepted"), "completed",
                                          result="approved"))
    held = _in_app(app, lambda: _take(applicant_name=name))
    _in_app(app, lambda: OutboxEvent.update(state="set_aside", reason="县级拒收").where(
        OutboxEvent.case_id == held.id).execute())
    for who in (agent, clerk):
        page = who.get("/").get_data(as_text=True)
        for anchor in ("todo-supplements", "todo-deferred", "todo-handovers", "todo-set-aside", "todo-tell"):
            listed = page[page.index(f'id="{anchor}"'):]
            listed = listed[:min(i for i in (listed.find("<h3", 1), listed.find("</section>")) if i > 0)]
            assert "欧**英" in listed, anchor
        assert name not in page
        assert "137****5678" in page and "13712345678" not in page
    assert "欧**英" in agent.get("/deferrals").get_data(as_text=True)
    assert name not in agent.get("/deferrals").get_data(as_text=True)
    assert name in agent.get(f"/cases/{asked.id}").get_data(as_text=True)  # the case page names her
    assert handed.case_no in page


def test_the_agents_to_do_holds_only_her_own_cases(app, agent, clerk):
    theirs = _in_app(app, lambda: _asked_for_hukou(_take(taken_by="clerk")))
    assert theirs.case_no not in agent.get("/").get_data(as_text=True)
    assert theirs.case_no in clerk.get("/").get_data(as_text=True)


def test_a_case_set_aside_by_sync_is_on_the_to_do(app, agent):
    case = _in_app(app, _take)
    _in_app(app, lambda: OutboxEvent.update(state="set_aside", reason="县级拒收").where(
        OutboxEvent.case_id == case.id).execute())
    page = agent.get("/").get_data(as_text=True)
    assert 'id="todo-set-aside"' in page and case.case_no in page


def test_a_long_to_do_list_shows_the_oldest_few_with_the_full_count_and_a_link(app, agent, monkeypatch):
    monkeypatch.setattr(follow_up, "TODO_SHOWN", 2)
    results = [_in_app(app, _completed) for _ in range(3)]
    page = agent.get("/").get_data(as_text=True)
    assert "待送达的办理结果（3）" in page and "最早的 2 件" in page
    agent_id = _in_app(app, lambda: _agent().id)
    assert f"/cases/?status=completed&amp;agent={agent_id}" in page  # the whole list, one click away
    listed = page[page.index('id="todo-handovers"'):]
    listed = listed[:listed.index("</ul>")]
    assert [c.case_no in listed for c in results] == [True, True, False]  # the oldest results first


def test_a_not_collected_case_is_taken_up_again_from_the_first_visit(app, agent):
    import re as _re

    from station.models import AccessLog
    from tests.fixtures.intake import GOOD_ID, form_for, item_named

    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        data = form_for([item])
        essential = next(m.key for m in item.materials if m.essential)
    data[f"mat__{essential}__status"] = "missing"
    first_id = agent.post(f"/intake/item/{item.id}", data).headers["Location"].split("/cases/")[1].split("?")[0]
    page = agent.get(f"/cases/{first_id}").get_data(as_text=True)
    assert 'id="resume-case"' in page and "再次受理" in page

    form = agent.get(f"/intake/item/{item.id}?resume={first_id}").get_data(as_text=True)
    assert 'value="赵秀英"' in form and f'value="{GOOD_ID}"' in form and 'id="resume-note"' in form
    assert _re.search(rf'name="mat__{essential}__status" value="missing"[^>]*checked', form) is None
    with app.app_context(), db.connection_context():
        assert AccessLog.select().where((AccessLog.action == "resume") & (AccessLog.case_id == first_id)).exists()

    again = dict(form_for([item]), resume=first_id)
    second_id = agent.post(f"/intake/item/{item.id}", again).headers["Location"].split("/cases/")[1].split("?")[0]
    with app.app_context(), db.connection_context():
        first, second = Case.get_by_id(first_id), Case.get_by_id(second_id)
        assert second.decision != "not_collected"
        assert any(first.case_no in e.message for e in TimelineEntry.select().where(TimelineEntry.case == second))
        assert any(second.case_no in e.message for e in TimelineEntry.select().where(TimelineEntry.case == first))
        cases_before = Case.select().count()
    assert 'id="resume-case"' not in agent.get(f"/cases/{first_id}").get_data(as_text=True)
    refused = agent.post(f"/intake/item/{item.id}", again, follow_redirects=True).get_data(as_text=True)
    assert "不能再次受理" in refused
    with app.app_context(), db.connection_context():
        assert Case.select().count() == cases_before


def test_a_refused_handover_form_comes_back_with_what_was_typed(app, agent):
    """Issue 19 F: a mistyped EMS number used to send the agent back to an empty form."""
    case = _in_app(app, _completed)
    response = agent.post(f"/cases/{case.id}/handover", {
        "method": "post", "ems_no": "EA12345", "address": "示范县东关镇东关村三组12号（代收：赵小明）",
        "date": dt.date.today().isoformat()})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "EMS 邮件号应为13位" in page
    assert 'id="method-post" checked' in page
    assert 'value="EA12345"' in page and "代收：赵小明" in page
    assert _in_app(app, lambda: Case.get_by_id(case.id).status) == "completed"


def test_a_refused_supplement_form_comes_back_with_what_was_typed(app, agent):
    case = _in_app(app, lambda: _asked_for_hukou(_take()))
    response = agent.post(f"/cases/{case.id}/supplement", {"supplied__hukou_book": "not_applicable",
                                                           "note": "申请人为集体户口，已电话说明"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "选择不适用时，请填写理由" in page
    assert 'id="supplied__hukou_book__not_applicable" checked' in page
    assert "申请人为集体户口，已电话说明</textarea>" in page
    assert _in_app(app, lambda: Case.get_by_id(case.id).supplemented_at) is None


def test_a_supplement_the_county_only_described_is_printed_for_the_resident(app, agent):
    case = _in_app(app, lambda: _county(_take(), "supplement", reason="请补充近三个月的居住证明", supplement_items=[]))
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/print/supplement" in page  # the resident takes home what the county asks for
    response = agent.get(f"/cases/{case.id}/print/supplement")
    assert response.status_code == 200
    text = "".join(pdftotext(response.data).split())
    assert "补正材料通知书" in text and "请补充近三个月的居住证明" in text


def test_a_supplement_the_county_only_described_is_shown_and_recorded_by_its_description(app, agent):
    case = _in_app(app, lambda: _county(_take(), "supplement", reason="请补充近三个月的居住证明", supplement_items=[]))
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    card = page[page.index('id="decision"'):page.index('<div class="columns">')]
    assert "县级要求补正：请补充近三个月的居住证明" in card  # the card tells what the county asks
    form = page[page.index('id="supplement-form"'):page.index("</form>", page.index('id="supplement-form"'))]
    assert "需补正的材料" not in form  # no empty materials table
    assert "必填" in form and 'name="note"' in form
    response = agent.post(f"/cases/{case.id}/supplement", {"note": ""})
    assert response.status_code == 400 and "请填写补正说明" in response.get_data(as_text=True)
    assert _in_app(app, lambda: Case.get_by_id(case.id).supplemented_at) is None
    agent.post(f"/cases/{case.id}/supplement", {"note": "已带来居住证明原件"})
    assert _in_app(app, lambda: Case.get_by_id(case.id).supplemented_at) is not None
    assert _in_app(app, lambda: _events(case, events.SUPPLEMENTED)[0].payload.get("note")) == "已带来居住证明原件"


def test_a_handover_dated_before_the_county_decided_is_refused_and_the_slip_keeps_the_real_day(app, agent):
    """A mistyped year (2020 for 2026) used to be recorded and sent to the county as the day of delivery."""
    decided = dt.datetime.now().astimezone() - dt.timedelta(days=3)
    case = _in_app(app, lambda: _completed(decided_at=decided.isoformat()))
    too_early = (decided.date() - dt.timedelta(days=1)).isoformat()
    response = agent.post(f"/cases/{case.id}/handover", {"method": "hand", "receiver": "赵秀英", "date": too_early})
    assert response.status_code == 400
    assert f"送达日期不能早于办结日期 {decided.date().isoformat()}" in response.get_data(as_text=True)
    assert _in_app(app, lambda: Case.get_by_id(case.id).status) == "completed"
    assert not _in_app(app, lambda: _events(case, events.DELIVERED))
    response = agent.post(f"/cases/{case.id}/handover", {"method": "hand", "receiver": "赵秀英",
                                                        "date": decided.date().isoformat()})
    assert response.status_code == 302
    slip = "".join(pdftotext(agent.get(f"/cases/{case.id}/print/delivery_slip").data).split())
    assert f"送达日期{decided.year}年{decided.month}月{decided.day}日" in slip


def test_a_receiver_name_too_long_for_the_slip_is_refused_not_cut_short(database):
    case = _completed()
    before = _state(case)
    with pytest.raises(ValidationFailed) as refused:
        follow_up.record_handover(case, _agent(), follow_up.HandoverInput(
            method="hand", receiver="赵" * 41, date=dt.date.today().isoformat()))
    assert refused.value.errors["receiver"] == "签收人姓名最多40字（现有41字）。"
    assert _state(case) == before


def test_once_the_deferred_material_is_in_the_heading_no_longer_asks_for_it(app, agent):
    """After the last 容缺 material arrived the page still headed 容缺收件：请按期补交材料 in large type."""
    from station.services import commitments

    case = _in_app(app, _deferred_case)
    heading = lambda: agent.get(f"/cases/{case.id}").get_data(as_text=True).split('id="decision"')[1].split("</h2>")[0]  # noqa: E731
    assert "容缺收件：请按期补交材料" in heading()
    photo_id = _in_app(app, lambda: CaseMaterial.get(CaseMaterial.case == case.id, CaseMaterial.key == "photo_1inch").id)
    agent.post(f"/cases/{case.id}/materials/{photo_id}/arrival", {"supplied_as": "copy"})
    assert "容缺收件：容缺材料已全部补交" in heading() and "请按期补交" not in heading()

    unkept = _in_app(app, _deferred_case)
    photo = _in_app(app, lambda: CaseMaterial.get(CaseMaterial.case == unkept.id, CaseMaterial.key == "photo_1inch"))
    _in_app(app, lambda: commitments.record_unkept(cases.get_case(unkept.id), _agent(), photo.id, "申请人表示不再补交",
                                                   today=dt.date.today() + dt.timedelta(days=1)))
    page = agent.get(f"/cases/{unkept.id}").get_data(as_text=True).split('id="decision"')[1].split("</h2>")[0]
    assert "容缺收件：容缺材料逾期未补（承诺未履行）" in page


def test_the_timeline_names_the_county_person_who_decided_and_an_older_hubs_login_still_shows(app, agent):
    """The agent reads who at the county decided by name (``clerk_name``); a hub of an older release
    sends only the login, and its decision is still taken and shown with it."""
    named = _in_app(app, lambda: _county(_take(), "accepted", clerk="county-zhang", clerk_name="张三"))
    page = agent.get(f"/cases/{named.id}").get_data(as_text=True)
    assert "<strong>县级平台 张三</strong>" in page and "county-zhang" not in page
    older = _in_app(app, lambda: _county(_take(), "accepted", clerk="county-li"))
    assert older.status == "accepted"
    assert "<strong>县级平台 county-li</strong>" in agent.get(f"/cases/{older.id}").get_data(as_text=True)


# --- 补正 pauses the time limits (DOMAIN.md A.7) ---------------------------------------------------

def test_a_case_waiting_for_its_supplement_is_paused_and_its_dues_move_on_when_it_is_brought(database):
    """Waiting for the resident, no line counts down or goes overdue; once she brings the materials every
    due date is later by the working days waited (the county's 补正 day to hers), the 考核 line too."""
    from station.services import station_info, time_lines

    calendar = load_calendar()
    station_info.apply_hub_settings({"assessed_days": {item_named(ITEM).item_code: 5}})
    taken = _take()
    asked = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=14)
    case = _county(taken, "supplement", reason="户口簿复印件不清晰", decided_at=asked.astimezone().isoformat(),
                   supplement_items=[{"key": "hukou_book", "name": "居民户口簿"}])
    long_after = case.statutory_due + dt.timedelta(days=60)
    waiting = time_lines.lines_of(case, long_after)
    assert waiting.state["committed"] == waiting.state["statutory"] == "paused"
    assert [w.case.id for w in time_lines.warnings(long_after)] == [case.id]
    before = (case.statutory_due, case.committed_due, time_lines.lines_of(case, dt.date.today()).due["assessed"])
    follow_up.submit_supplement(case, _agent(), [follow_up.SuppliedMaterial("hukou_book", "copy")])
    case = cases.get_case(case.id)
    waited = calendar.working_days_between(asked.date(), dt.date.today())
    assert waited > 0
    after = time_lines.lines_of(case, dt.date.today())
    assert (after.due["statutory"], after.due["committed"]) == tuple(
        calendar.add_working_days(d, waited).due for d in before[:2])
    assert before[2] is not None and after.due["assessed"] == calendar.add_working_days(before[2], waited).due
    assert time_lines.lines_of(case, long_after).state["committed"] == "overdue"  # the clocks run again
