"""Home visits (上门服务): a visit recorded with who, where, when, for whom, what and how it ended; the
cases taken during it carried on its record; the day's visits in the ledger, masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest

from station.extensions import db
from station.models import AccessLog, HomeVisit, HomeVisitCase
from sync.outbox import OutboxEvent
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
    ("resident_phone", "abc", "电话号码只能填写数字和“-”"),  # carried into the case taken at the visit
    ("resident_phone", "87654321", "座机号码请加上区号"),
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


def _export(clerk, fmt: str) -> bytes:  # noqa: ANN001
    today = dt.date.today()
    response = clerk.get(f"/reports/ledger.{fmt}?period=range&start={(today - dt.timedelta(days=3)).isoformat()}"
                         f"&end={today.isoformat()}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def test_the_periods_ledger_files_carry_the_visits_masked_and_the_export_is_logged(app, admin, agent, clerk,
                                                                                  tmp_path):
    admin.post("/admin/villages", {"villages": "141081102201 东关村\n141081102202 西关村"})
    response = agent.post("/visits/new", {**VISIT, "village_code": "141081102201"})
    assert response.status_code == 302
    secret = ("孙福贵", "13700002222", "五组3号")

    sheet = openpyxl.load_workbook(io.BytesIO(_export(clerk, "xlsx")))["上门服务"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) == 1
    visit = dict(zip(header, rows[0], strict=True))
    assert visit["上门人员"] == "王代办、李窗口" and visit["村(社区)"] == "东关村"
    assert visit["服务对象"] == "孙*贵" and visit["联系电话"] == "137****2222" and visit["结果"] == "已办完"
    assert visit["上门日期"].date() == dt.date.today() and visit["时间"] == "09:30–10:40"
    assert not any(s in str(v) for s in secret for v in rows[0])

    text = _export(clerk, "csv").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    section = lines[lines.index(["上门服务"]) + 1:]
    visit = dict(zip(section[0], section[1], strict=True))
    assert visit["服务对象"] == "孙*贵" and visit["村(社区)"] == "东关村" and visit["办理事项"].startswith("代办养老保险")
    assert not any(s in text for s in secret)

    pdf = _pdf_text(_export(clerk, "pdf"), tmp_path).split("上门服务（1 次）", 1)[1]
    assert "东关村" in pdf and "孙*贵" in pdf and "孙福贵" not in pdf

    with app.app_context(), db.connection_context():
        details = [e.detail for e in AccessLog.select().where(AccessLog.action == "ledger").order_by(AccessLog.seq)]
    assert len(details) == 3 and all("上门服务 1 次" in d for d in details)


def test_a_recorded_visit_is_queued_for_the_county_with_it_and_listed_as_a_visit(app, agent, clerk):
    agent.post("/visits/new", {**VISIT, "staff": ""})  # refused: nothing saved, nothing queued
    with app.app_context(), db.connection_context():
        assert OutboxEvent.select().count() == 0
    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), db.connection_context():
        [event] = OutboxEvent.select()
        assert (event.case_id, event.kind, event.seq) == (visit_id, "visit.recorded", 1)
        assert event.payload["resident"]["name"] == "孙福贵" and event.payload["outcome"] == "done"
    page = clerk.get("/sync/").get_data(as_text=True)
    assert f'/visits/{visit_id}">上门服务记录 {dt.date.today().isoformat()}' in page
    # counted as what it is: no case is waiting, one visit record is
    assert '<span id="queued-cases">0</span> 个办件、<span id="queued-visits">1</span> 条上门服务记录' in page


def test_the_countys_decision_on_a_visit_conflict_shows_on_the_visit_page_with_its_note(app, agent):
    """The county settled a conflict over the visit's record: the agent sees on the visit's page which copy
    the county kept and its clerk's note, and the set-aside event is settled; bad decisions change nothing."""
    from station.services import county_changes
    from station.services.errors import DomainError
    from sync import protocol

    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), db.connection_context():
        event = OutboxEvent.get()
        event.state, event.result, event.reason = "set_aside", "conflict", "县级平台已有同一编号但内容不同的事件"
        event.save()
        change = {"event_id": event.event_id, "seq": 1, "resolution": "maybe", "note": "以县级为准",
                  "resolved_by": "county", "resolved_by_name": "县级窗口",  # the login, and the person shown
                  "resolved_at": "2026-12-01T02:00:00Z"}
        with pytest.raises(DomainError, match="未知的冲突处理方式"), db.atomic():
            county_changes.apply_change(protocol.CHANGE_CONFLICT_RESOLVED, visit_id, change)
        assert OutboxEvent.get().state == "set_aside"
        with db.atomic():
            county_changes.apply_change(protocol.CHANGE_CONFLICT_RESOLVED, visit_id,
                                        {**change, "resolution": "keep_county", "note": "已电话核实，以县级记录为准"})
        assert (OutboxEvent.get().state, OutboxEvent.get().result) == ("acked", "resolved")
    history = agent.get(f"/visits/{visit_id}").get_data(as_text=True).split('id="visit-history"', 1)[1]
    history = history.split("</ul>", 1)[0]
    assert ("县级平台（县级窗口）核对了同步冲突：保留县级记录，本站的这份记录不再上传（说明：已电话核实，以县级记录为准）。"
            "此次上门服务暂停的后续记录已恢复上传。") in history
    # dated when the county decided, not when the pull came: a restored station pulling it again shows the same line
    decided = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC).astimezone().replace(tzinfo=None)
    assert f"{decided:%Y-%m-%d %H:%M} 县级平台（县级窗口）核对了同步冲突" in history


def test_a_visit_conflict_settled_before_the_note_was_kept_shows_the_decision_not_the_old_conflict_reason(app, agent):
    """A station upgraded in place: a visit's event the county settled under the previous release kept only the
    decision; the page names it and says the note was not kept, rather than the conflict's stale reason."""
    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), db.connection_context():
        OutboxEvent.update(state="acked", result="resolved", result_code="take_station",
                           reason="同一事件编号的内容与平台已收到的不一致，已转人工核对。").execute()
    history = agent.get(f"/visits/{visit_id}").get_data(as_text=True).split('id="visit-history"', 1)[1]
    history = history.split("</ul>", 1)[0]
    assert "县级平台核对了同步冲突：采用本站记录（县级的处理说明未在本站保存）。" in history
    assert "已转人工核对" not in history


def test_the_ledger_hint_is_shown_only_to_those_who_can_print_the_ledger(agent, clerk):
    assert "打印当日台账" in clerk.get("/visits/").get_data(as_text=True)
    assert "打印当日台账" not in agent.get("/visits/").get_data(as_text=True)  # the agent has no such button
    assert agent.get("/ledger.pdf").status_code == 403


def test_a_number_typed_into_what_was_done_is_masked_in_lists_and_on_paper(app, agent, clerk, tmp_path):
    typed = {**VISIT, "purpose": "代办高龄津贴，其子电话13887654321", "outcome": "partly",
             "outcome_note": "身份证141081197005120039原件下次带来"}
    response = agent.post("/visits/new", typed)
    assert response.status_code == 302
    secrets = ("13887654321", "141081197005120039")
    listed = agent.get("/visits/").get_data(as_text=True)
    shown = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "其子电话138****4321" in listed and "其子电话138****4321" in shown and "141081********0039" in shown
    pdf = _pdf_text(clerk.get(f"/ledger.pdf?day={dt.date.today().isoformat()}").data, tmp_path)
    assert "138****4321" in pdf.replace("\n", "")
    text = _export(clerk, "csv").decode("utf-8-sig")
    for page in (listed, shown, pdf, text):
        assert not any(s in page for s in secrets)


def test_a_visit_saved_twice_stands_once_in_the_ledger_and_goes_to_the_county_once(app, agent, clerk, tmp_path):
    """A second click on 保存 recorded the same visit twice: two lines in the ledger, two records at the county."""
    assert agent.post("/visits/new", VISIT).status_code == 302
    again = clerk.post("/visits/new", {**VISIT, "staff": "李窗口、王代办"})  # the other who went saves it too
    assert again.status_code == 400
    assert f"{VISIT['visited_on']} 09:30 对孙*贵的上门服务已登记，请勿重复保存" in again.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert HomeVisit.select().count() == 1 and OutboxEvent.select().count() == 1
    ledger = _pdf_text(clerk.get(f"/ledger.pdf?day={VISIT['visited_on']}").data, tmp_path)
    assert ledger.count("09:30–10:40") == 1
    later = agent.post("/visits/new", {**VISIT, "started_at": "14:00", "ended_at": "15:00"})
    assert later.status_code == 302  # the same resident visited again that afternoon is a visit of its own


def test_a_visit_recorded_from_its_booking_days_later_is_dated_the_booked_day(app, agent):
    """The form took the booking's start time but today's date: a visit recorded on Monday for Friday's
    booking went into the ledger on Monday unless the agent noticed."""
    from station.services import appointments
    from sync import protocol

    booked_day = dt.date.today() - dt.timedelta(days=3)
    booking = protocol.new_id()
    with app.app_context(), db.connection_context(), db.atomic():
        appointments.apply_from_hub({"appointment_id": booking, "code": "K7P2X9MA", "slot_date": booked_day.isoformat(),
                                     "slot_start": "14:30", "slot_end": "15:30", "item_code": "", "item_name": "上门咨询",
                                     "name": "李秀兰", "phone": "13700003333", "address": "示范县东关镇东关村二组8号",
                                     "home_visit": True, "status": "booked", "source": "public"})
    page = agent.get(f"/visits/new?appointment={booking}").get_data(as_text=True)
    assert f'value="{booked_day.isoformat()}"' in page and 'value="14:30"' in page
    assert f'value="{dt.date.today().isoformat()}"' not in page


def test_a_booking_whose_visit_was_recorded_cannot_be_marked_a_no_show(app, agent):
    """After the visit the plan still offered 未到 and 取消 for the booking: the county would hear the resident
    never came while the agent had been to her home."""
    from station.services import appointments
    from sync import protocol

    day = dt.date.today() - dt.timedelta(days=1)
    booking = protocol.new_id()
    with app.app_context(), db.connection_context(), db.atomic():
        appointments.apply_from_hub({"appointment_id": booking, "code": "K7P2X9MB", "slot_date": day.isoformat(),
                                     "slot_start": "14:30", "slot_end": "15:30", "item_code": "", "item_name": "上门咨询",
                                     "name": "孙福贵", "phone": "13700002222", "address": VISIT["address"],
                                     "home_visit": True, "status": "booked", "source": "public"})
    plan = agent.get(f"/appointments/?day={day.isoformat()}").get_data(as_text=True)
    assert 'value="no_show"' in plan and f"/visits/new?appointment={booking}" in plan
    visit = agent.post("/visits/new", {**VISIT, "visited_on": day.isoformat(), "started_at": "14:30",
                                       "ended_at": "15:20", "appointment_id": booking})
    visit_id = visit.headers["Location"].rsplit("/", 1)[-1]
    plan = agent.get(f"/appointments/?day={day.isoformat()}").get_data(as_text=True)
    assert f'<a href="/visits/{visit_id}" class="visit-recorded">已登记上门服务</a>' in plan
    assert 'value="no_show"' not in plan and f"/visits/new?appointment={booking}" not in plan
    refused = agent.post(f"/appointments/{booking}/status", {"status": "no_show", "day": day.isoformat()},
                         follow_redirects=True).get_data(as_text=True)
    assert "这个预约已登记上门服务，不能再登记为“未到”或“取消”" in refused
    with app.app_context(), db.connection_context():
        from station.models import Appointment

        assert Appointment.get_by_id(booking).status == "booked"
