"""好差评 at the station's kiosk, the county's ratings and 整改 shown on the case, and telling the
resident (issue 18): one rating per visit, a 差评 needs its reason, only a link the agent opened
rates, the rating leaves through the outbox once; the phone is full only for the case's agent
(logged), and an SMS with no gateway is never claimed sent."""

from __future__ import annotations

import datetime as dt
import re

from rules import events
from station.extensions import db
from station.models import (
    AccessLog,
    Case,
    CaseMaterial,
    Evaluation,
    Remedy,
    ResidentNotice,
    TimelineEntry,
    User,
)
from station.services import cases, county_changes, evaluations, follow_up, intake
from sync import protocol
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

ITEM = "高龄津贴申领"
PHONE = "13912345678"


def _in_app(app, fn):  # noqa: ANN001, ANN202
    with app.app_context(), db.connection_context():
        return fn()


def _take() -> Case:
    item = item_named(ITEM)
    draft = intake.check_input([item], form_for([item]), dt.date.today())
    [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
    return cases.get_case(case.id)


def _kiosk(agent, case_id: str) -> str:
    response = agent.post(f"/cases/{case_id}/kiosk")
    assert response.status_code == 302 and "/kiosk/" in response.headers["Location"]
    return response.headers["Location"]


def _state(app, case_id):
    return _in_app(app, lambda: (
        Evaluation.select().where(Evaluation.case == case_id).count(),
        OutboxEvent.select().where((OutboxEvent.case_id == case_id) & (OutboxEvent.kind == events.EVALUATED)).count(),
        TimelineEntry.select().where(TimelineEntry.case == case_id).count()))


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_the_kiosk_takes_one_rating_per_visit_and_queues_it_once(app, agent):
    case = _in_app(app, _take)
    url = _kiosk(agent, case.id)
    tablet = app.test_client()  # the turned screen: no login of its own is needed…
    tablet.set_cookie("session", agent.client.get_cookie("session").value)  # …it is the agent's browser
    page = tablet.get(url).get_data(as_text=True)
    assert "收件服务" in page and "高龄津贴申领" in page
    assert "13912345678" not in page and "11010519491231002X" not in page
    token = _token(page)
    before = _state(app, case.id)
    refused = tablet.post(url, data={"csrf_token": token, "level": "dissatisfied", "reason_text": "排队太久"})
    assert refused.status_code == 400 and "请选择不满意的原因" in refused.get_data(as_text=True)
    assert _state(app, case.id) == before
    done = tablet.post(url, data={"csrf_token": token, "level": "dissatisfied", "reason_tag__dissatisfied": "slow",
                                  "reason_text": "排队太久，电话13912345678"})
    assert done.status_code == 302
    assert "谢谢您的评价" in tablet.get(done.headers["Location"]).get_data(as_text=True)
    again = tablet.post(url, data={"csrf_token": token, "level": "very_satisfied"})
    assert again.status_code == 400 and "一次一评" in again.get_data(as_text=True)
    rows, queued, _ = _state(app, case.id)
    assert (rows, queued) == (1, 1)
    body = _in_app(app, lambda: OutboxEvent.get(OutboxEvent.kind == events.EVALUATED).payload)
    assert body["visit"] == "intake" and body["level"] == "dissatisfied" and body["channel"] == "hall_tablet"
    assert events.body_problem(events.EVALUATED, body) is None
    assert "13912345678" not in body["reason_text"]  # a number typed into the reason is masked
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "评价（收件服务，首次，大厅平板）：不满意，办理时间长" in page
    # the agent cannot open the kiosk again for a visit already rated
    assert "群众已评价，一次一评" in agent.post(f"/cases/{case.id}/kiosk", follow_redirects=True).get_data(as_text=True)


def test_a_refused_rating_keeps_what_the_resident_chose_and_typed(app, agent):
    """A 差评 sent without its reason came back as an empty form: the resident's typed complaint was gone."""
    case = _in_app(app, _take)
    url = _kiosk(agent, case.id)
    page = agent.get(url).get_data(as_text=True)
    refused = agent.post(url, data={"csrf_token": _token(page), "level": "very_dissatisfied",
                                    "reason_tag__dissatisfied": "slow", "reason_text": "等了两个小时 <没人管>"})
    again = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "请选择不满意的原因" in again
    assert 'value="very_dissatisfied" required checked' in again
    assert again.count(" checked") == 1
    assert '<option value="slow" selected>' in again  # her choice under 不满意 stays where she put it
    assert ">等了两个小时 &lt;没人管&gt;</textarea>" in again
    assert "等了两个小时" not in agent.get(url).get_data(as_text=True)  # a fresh page starts empty


def test_only_a_link_the_agent_opened_rates_a_case(app, agent):
    case = _in_app(app, _take)
    url = _kiosk(agent, case.id)
    stranger = app.test_client()
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert stranger.get(forged).status_code == 403
    assert "评价链接无效" in stranger.get(f"/kiosk/{case.id}").get_data(as_text=True)
    app.config["KIOSK_TOKEN_MINUTES"] = -1  # the link is older than its life
    expired = stranger.get(url)
    assert expired.status_code == 403 and "评价页面已过期" in expired.get_data(as_text=True)
    assert _state(app, case.id)[0] == 0


def test_each_counter_visit_is_a_visit_of_its_own(app):
    def run():
        case = _take()
        assert evaluations.current_visit(case) == "intake"
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "supplement", "supplement_items": [
                {"key": "hukou_book", "name": "居民户口簿"}]})
        case = cases.get_case(case.id)
        follow_up.submit_supplement(case, User.get(User.username == "agent"),
                                    [follow_up.SuppliedMaterial("hukou_book", "copy")])
        return evaluations.current_visit(cases.get_case(case.id))
    assert _in_app(app, run) == "supplement-1"


def test_county_ratings_and_remedies_come_down_and_show(app, agent):
    case = _in_app(app, _take)
    rating = {"evaluation_id": protocol.new_id(), "visit": "case", "kind": "first", "level": "very_dissatisfied",
              "reason_tag": "runs", "reason_text": "跑了三次", "channel": "qr_code", "rated_at": "2026-11-30T02:00:00Z"}
    remedy = {"remedy_id": 7, "evaluation_id": rating["evaluation_id"], "status": "open", "owner": "county1",
              "callback_due": "2026-12-01", "fix_due": "2026-12-21", "contacts": [], "overdue": ["callback"]}

    def apply():
        with db.atomic():
            county_changes.apply_change(protocol.CHANGE_EVALUATION, case.id, rating)
            county_changes.apply_change(protocol.CHANGE_EVALUATION, case.id, rating)  # the feed repeats: once
            county_changes.apply_change(protocol.CHANGE_REMEDY, case.id, remedy)
    _in_app(app, apply)
    assert _in_app(app, lambda: Evaluation.select().count()) == 1
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "评价（办件整体评价，首次，二维码）：非常不满意，多次跑腿仍未办成：跑了三次" in page
    assert "县级差评整改 7：整改中" in page and "回访超期" in page
    assert "县级差评整改（1）" in agent.get("/").get_data(as_text=True)
    closed = {**remedy, "status": "closed", "closing_note": "已整改，群众认可", "overdue": [],
              "contacts": [{"at": "2026-12-01T01:00:00Z", "method": "phone", "said": "已致歉"}]}
    _in_app(app, lambda: county_changes.apply_change(protocol.CHANGE_REMEDY, case.id, closed))
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "县级差评整改 7：已办结" in page and "办结说明：已整改，群众认可" in page and "已致歉" in page
    assert _in_app(app, lambda: Remedy.get().status) == "closed"
    assert "县级差评整改（" not in agent.get("/").get_data(as_text=True)


def _completed(app):
    def run():
        case = _take()
        with db.atomic():
            cases.apply_county_status(case.id, {"status": "accepted"})
            cases.apply_county_status(case.id, {"status": "completed", "result": "approved"})
        return cases.get_case(case.id)
    return _in_app(app, run)


def test_the_to_do_says_whom_to_tell_with_the_phone_masked(app, agent):
    case = _completed(app)
    home = agent.get("/").get_data(as_text=True)
    assert f"/cases/{case.id}/notify" in home
    assert "需通知群众（1）" in home and "139****5678" in home and PHONE not in home and "领取办理结果" in home
    assert "<strong>未通知</strong>" in home


def test_the_full_phone_is_for_the_cases_agent_and_each_read_is_logged(app, agent, clerk):
    case = _completed(app)
    reads = lambda: AccessLog.select().where((AccessLog.action == "reveal") & (AccessLog.case_id == case.id)).count()  # noqa: E731
    page = agent.get(f"/cases/{case.id}/notify").get_data(as_text=True)
    assert f'href="tel:{PHONE}"' in page
    assert _in_app(app, reads) == 1
    page = clerk.get(f"/cases/{case.id}/notify").get_data(as_text=True)
    assert PHONE not in page and "139****5678" in page
    assert _in_app(app, reads) == 1
    assert f"/cases/{case.id}/print/completion" in page  # the printed notice


def test_telling_is_recorded_and_an_sms_without_gateway_is_never_claimed_sent(app, agent):
    case = _completed(app)
    response = agent.post(f"/cases/{case.id}/notify", {"reason": "result_ready", "method": "phone",
                                                       "outcome": "told", "note": "本人接听"},
                          follow_redirects=True)
    assert "已记录：电话通知，已告知" in response.get_data(as_text=True)
    home = agent.get("/").get_data(as_text=True)
    assert "电话，已告知" in home and "<strong>未通知</strong>" not in home
    response = agent.post(f"/cases/{case.id}/notify", {"reason": "result_ready", "method": "sms"},
                          follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "短信未发送" in text and "短信已" not in text.replace("短信已提交网关", "")
    timeline = _in_app(app, lambda: [e.message for e in TimelineEntry.select().where(TimelineEntry.case == case.id)])
    assert any(m.startswith("短信未发送（未配置短信网关）") and "139****5678" in m and PHONE not in m for m in timeline)
    assert _in_app(app, lambda: [n.outcome for n in ResidentNotice.select()]) == ["told", "sms_not_sent"]


def test_bad_notice_input_changes_nothing(app, agent):
    case = _completed(app)
    before = _in_app(app, lambda: (ResidentNotice.select().count(), TimelineEntry.select().count()))
    for form, message in (({"reason": "result_ready", "method": "pigeon"}, "请选择通知方式"),
                          ({"reason": "whatever", "method": "phone"}, "请选择通知事由")):
        page = agent.post(f"/cases/{case.id}/notify", form, follow_redirects=True).get_data(as_text=True)
        assert message in page
    assert _in_app(app, lambda: (ResidentNotice.select().count(), TimelineEntry.select().count())) == before


def test_kiosk_and_notice_routes_check_the_role(app, client):
    case = _in_app(app, _take)
    assert client.post(f"/cases/{case.id}/kiosk").status_code in (302, 400, 401)
    assert client.get(f"/cases/{case.id}/notify").status_code in (302, 401)
    assert _state(app, case.id)[0] == 0


def test_a_notice_note_is_sealed_and_still_opens_after_a_key_rotation(app, agent):
    from station.services import protection

    case = _completed(app)
    agent.post(f"/cases/{case.id}/notify", {"reason": "result_ready", "method": "phone", "outcome": "no_answer",
                                           "note": "改打家属电话13800009999"})
    stored = _in_app(app, lambda: db.execute_sql("SELECT note FROM resident_notice").fetchone()[0])
    assert stored.startswith("enc1:") and "13800009999" not in stored
    timeline = _in_app(app, lambda: db.execute_sql("SELECT message FROM timeline_entry").fetchall())
    assert not any("13800009999" in message for (message,) in timeline)  # not copied out unsealed

    def rotate():
        app.extensions["key_ring"] = protection.rotate_key(app.config["ATTACHMENT_DIR"])
    _in_app(app, rotate)
    assert _in_app(app, lambda: ResidentNotice.get().note) == "改打家属电话13800009999"


def test_a_decided_case_asks_the_resident_for_its_result_not_for_a_deferred_material(app, agent):
    """The to-do asked the agent to call for a 容缺 material of a case the county had already decided."""
    def run():
        item = item_named(ITEM)
        form = form_for([item], **{"mat__photo_1inch__status": "deferred",
                                   "mat__photo_1inch__due": dt.date.today().isoformat()})
        draft = intake.check_input([item], form, dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id
    case_id = _in_app(app, run)
    home = agent.get("/").get_data(as_text=True)
    assert "需通知群众（1）" in home and "补交容缺材料" in home.split("需通知群众")[1]
    def decide():
        with db.atomic():
            cases.apply_county_status(case_id, {"status": "accepted"})
            cases.apply_county_status(case_id, {"status": "completed", "result": "denied"})
    _in_app(app, decide)
    told = agent.get("/").get_data(as_text=True).split("需通知群众")[1].split("</section>")[0]
    assert "领取办理结果" in told and "补交容缺材料" not in told
    page = agent.get(f"/cases/{case_id}/notify").get_data(as_text=True)
    assert "<strong>领取办理结果</strong>" in page and "<strong>补交容缺材料</strong>" not in page


def test_the_words_for_the_resident_say_how_her_result_comes_and_which_material_is_owed(app, agent):
    """Every ready result told the resident to come and collect it, a posted one too; a 容缺 reminder did not
    say which material, nor by when."""
    def take(**fields):
        item = item_named(ITEM)
        draft = intake.check_input([item], form_for([item], **fields), dt.date.today())
        [case] = intake.create_cases([item], draft, User.get(User.username == "agent"), allow_duplicate=True)
        return case.id

    def decide(case_id):
        with db.atomic():
            cases.apply_county_status(case_id, {"status": "accepted"})
            cases.apply_county_status(case_id, {"status": "completed", "result": "approved"})

    posted = _in_app(app, lambda: take(pickup_method="post"))
    _in_app(app, lambda: decide(posted))
    page = agent.get(f"/cases/{posted}/notify").get_data(as_text=True)
    assert "已办结，结果将免费邮寄到您登记的地址" in page and "到服务站领取结果" not in page
    due = dt.date.today() + dt.timedelta(days=1)
    owed = _in_app(app, lambda: take(**{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": due.isoformat()}))
    page = agent.get(f"/cases/{owed}/notify").get_data(as_text=True)
    name = _in_app(app, lambda: CaseMaterial.get(CaseMaterial.case == owed, CaseMaterial.key == "photo_1inch").name)
    assert f"尚需补交容缺材料：{name}（{due:%m月%d日}前）" in page


def test_a_second_click_on_recording_a_notice_records_it_once_and_says_so(app, agent):
    case = _completed(app)
    form = {"reason": "result_ready", "method": "phone", "outcome": "told", "note": "本人接听"}
    agent.post(f"/cases/{case.id}/notify", form, follow_redirects=True)  # its message read
    page = agent.post(f"/cases/{case.id}/notify", form, follow_redirects=True).get_data(as_text=True)
    assert "没有重复记录" in page and "已记录：电话通知" not in page
    told = lambda: (ResidentNotice.select().count(),  # noqa: E731
                    TimelineEntry.select().where(TimelineEntry.action == "resident_notified").count())
    assert _in_app(app, told) == (1, 1)
    assert page.count("本人接听") == 1  # the case's notices list it once
    # what did happen next is recorded: the call later went unanswered
    agent.post(f"/cases/{case.id}/notify", {**form, "outcome": "no_answer", "note": ""})
    assert _in_app(app, told) == (2, 2)


def test_a_second_click_on_saving_a_note_saves_it_once_and_sends_it_once(app, agent):
    case = _in_app(app, _take)
    agent.post(f"/cases/{case.id}/notes", {"text": "申请人下午再来"}, follow_redirects=True)
    page = agent.post(f"/cases/{case.id}/notes", {"text": "申请人下午再来"}, follow_redirects=True).get_data(as_text=True)
    assert "这条备注已于" in page and "没有重复保存" in page and "备注已保存。" not in page
    assert _in_app(app, lambda: (
        TimelineEntry.select().where((TimelineEntry.case == case.id) & (TimelineEntry.action == "note")).count(),
        OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.kind == events.NOTE)).count(),
    )) == (1, 1)
    agent.post(f"/cases/{case.id}/notes", {"text": "申请人明天上午再来"})  # a different note is saved
    assert _in_app(app, lambda: TimelineEntry.select().where(TimelineEntry.action == "note").count()) == 2


def test_a_remedy_date_the_county_counted_without_holiday_data_is_marked_provisional(app, agent):
    case = _in_app(app, _take)
    warning = "2027年节假日数据尚未更新，期限按周一至周五暂算，仅供参考"
    remedy = {"remedy_id": 8, "evaluation_id": protocol.new_id(), "status": "open", "owner": "county1",
              "callback_due": "2026-12-31", "fix_due": "2027-01-15", "callback_due_warning": "",
              "fix_due_warning": warning, "contacts": [], "overdue": []}
    _in_app(app, lambda: county_changes.apply_change(protocol.CHANGE_REMEDY, case.id, remedy))
    mark = f'<span class="provisional" title="{warning}">（暂定）</span>'
    page = agent.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"首次回访 2026-12-31 前 · 整改 2027-01-15{mark} 前" in page
    assert f"整改 2027-01-15{mark} 前" in agent.get("/").get_data(as_text=True)
