"""好差评 on the county's public page and from stations, and the 整改 of a 差评: one rating per
visit, a 差评 needs its reason, a code opens only its own cases, a 整改 closes only with a note
after a fix, 追评 once after the fix, overdue flagged, rates per station, the station told."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from rules import events
from sync import protocol
from sync.hub.models import Change, HubEvaluation, HubUser, Remedy
from sync.hub.services import decisions, remedies
from tests.fixtures.hub import ClerkClient, case_snapshot

CODE = "K7P20X1M"


def _submit(station, make_event, code=CODE, **over):
    event = make_event(payload=case_snapshot(query_code=code, **over))
    assert station.results([event])[0]["status"] == "accepted"
    return event["case_id"]


def _complete(app, case_id):
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
        decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved"), clerk="clerk")


def _rate(client, case_id, code=CODE, **form):
    data = {"case_id": case_id, "visit": "case", "kind": "first", "level": "dissatisfied",
            "reason_tag__dissatisfied": "slow", "reason_text": "等了两个星期没人通知", **form}
    if not hasattr(client, "public_token"):  # the session's token, from the page while it still has a form
        client.public_token = ClerkClient(client).token(f"/q/{code}")
    return client.post(f"/q/{code}/rate", data={**data, "csrf_token": client.public_token})


def _count(app, model=HubEvaluation):
    with app.app_context():
        return model.select().count()


def _changes(app, kind):
    with app.app_context():
        return [c.payload for c in Change.select().where(Change.kind == kind).order_by(Change.id)]


def test_a_bad_rating_with_its_reason_opens_a_remedy_and_tells_the_station(hub_app, hub_client, station_a,
                                                                           make_event):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    response = _rate(hub_client, case_id)
    assert response.status_code == 302
    html = hub_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价" in html and "您的评价（办件整体评价）：<strong>不满意</strong>，办理时间长" in html
    with hub_app.app_context():
        rating = HubEvaluation.get()
        assert (rating.level, rating.visit, rating.channel, rating.source, rating.case_id) == (
            "dissatisfied", "case", "qr_code", "hub", case_id)
        remedy = Remedy.get()
        assert remedy.evaluation_id == rating.evaluation_id and remedy.status == "open"
        assert remedy.fix_due > remedy.callback_due > remedy.opened_at.date() - dt.timedelta(days=1)
    [down] = _changes(hub_app, protocol.CHANGE_EVALUATION)
    assert down["level"] == "dissatisfied" and down["reason_text"] == "等了两个星期没人通知"
    assert _changes(hub_app, protocol.CHANGE_REMEDY)[0]["status"] == "open"
    page = station_a.changes().json["changes"]
    assert {c["kind"] for c in page} >= {protocol.CHANGE_EVALUATION, protocol.CHANGE_REMEDY}


def test_one_rating_per_visit(hub_app, hub_client, station_a, make_event):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    assert _rate(hub_client, case_id, level="satisfied", reason_text="").status_code == 302
    again = _rate(hub_client, case_id, level="very_satisfied", reason_text="")
    assert again.status_code == 400
    assert "这次服务已经评价过了（一次一评）" in again.get_data(as_text=True)
    assert _count(hub_app) == 1
    with hub_app.app_context():
        assert HubEvaluation.get().level == "satisfied"


@pytest.mark.parametrize(("form", "message"), [
    ({"reason_tag__dissatisfied": ""}, "选择“不满意”时，请选择不满意的原因。"),
    ({"reason_text": "  "}, "选择“不满意”时，请写下具体情况，以便整改。"),
    ({"level": "very_dissatisfied", "reason_tag__very_dissatisfied": ""}, "选择“非常不满意”时，请选择不满意的原因。"),
    ({"level": "great"}, "请选择满意程度"),
    ({"visit": "intake"}, "该项服务不能在此评价。"),
])
def test_a_bad_rating_without_its_reason_is_refused_and_nothing_stored(hub_app, hub_client, station_a, make_event,
                                                                       form, message):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    response = _rate(hub_client, case_id, **form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(hub_app) == 0 and _count(hub_app, Remedy) == 0
    assert _changes(hub_app, protocol.CHANGE_EVALUATION) == []


def test_a_refused_rating_keeps_what_the_resident_chose_and_typed(hub_app, hub_client, station_a, make_event):
    """A 差评 without its reason came back as an empty form: her account of what happened was wiped."""
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    words = "窗口说<材料>不齐，又跑了一趟"
    page = _rate(hub_client, case_id, level="very_dissatisfied", reason_tag__very_dissatisfied="",
                 reason_text=words).get_data(as_text=True)
    form = page.split('class="rate-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="very_dissatisfied" required checked' in form
    assert "窗口说&lt;材料&gt;不齐，又跑了一趟</textarea>" in form  # kept, and escaped
    fresh = hub_client.get(f"/q/{CODE}").get_data(as_text=True)
    assert words not in fresh and " checked" not in fresh.split('class="rate-form"', 1)[1]


def test_a_code_rates_only_its_own_case(hub_app, hub_client, station_a, station_b, make_event):
    mine = _submit(station_a, make_event)
    other = _submit(station_b, make_event, "0THER001")  # another station's case (another county's: not here at all)
    response = _rate(hub_client, other, visit="intake", level="satisfied", reason_text="")
    assert response.status_code == 404 and "未找到该查询码" in response.get_data(as_text=True)
    response = _rate(hub_client, "01JNOTAHUBCASE000000000000", visit="intake")
    assert response.status_code == 404
    assert _count(hub_app) == 0
    assert _rate(hub_client, mine, visit="intake", level="satisfied", reason_text="").status_code == 302


def test_guessed_codes_for_ratings_are_rate_limited(hub_app, hub_client, station_a, make_event):
    case_id = _submit(station_a, make_event)
    hub_app.config["PUBLIC_LOOKUP_LIMIT"] = 3
    client = ClerkClient(hub_client)
    token = client.token(f"/q/{CODE}")
    for i in range(2):
        hub_client.post(f"/q/GUESS00{i}/rate", data={"csrf_token": token, "case_id": case_id, "visit": "intake",
                                                    "level": "satisfied"})
    refused = hub_client.post(f"/q/{CODE}/rate", data={"csrf_token": token, "case_id": case_id, "visit": "intake",
                                                       "level": "satisfied"})
    assert refused.status_code == 429 and "查询过于频繁" in refused.get_data(as_text=True)
    assert _count(hub_app) == 0


def _station_rating(make_event, case_id, seq=2, **over):
    body = {"evaluation_id": protocol.new_id(), "visit": "intake", "kind": "first", "level": "very_dissatisfied",
            "reason_tag": "attitude", "reason_text": "代办员不耐烦", "channel": "hall_tablet",
            "rated_at": "2026-11-20T10:00:00+08:00", "agent": "agent1", **over}
    return make_event(case_id=case_id, seq=seq, kind=events.EVALUATED, payload=body)


def test_a_station_rating_is_stored_once_and_opens_a_remedy(hub_app, station_a, make_event):
    case_id = _submit(station_a, make_event)
    event = _station_rating(make_event, case_id)
    assert station_a.results([event])[0]["status"] == "accepted"
    assert station_a.results([event])[0]["status"] == "duplicate"
    with hub_app.app_context():
        rating = HubEvaluation.get()
        assert (rating.source, rating.channel, rating.agent, rating.case_no) == (
            "station", "hall_tablet", "agent1", case_snapshot()["case_no"])
        assert rating.created_at == dt.datetime(2026, 11, 20, 2, 0)  # China 10:00 as UTC
        assert Remedy.select().count() == 1
    assert _changes(hub_app, protocol.CHANGE_EVALUATION) == []  # the station has it already


def test_a_station_bad_rating_without_reason_is_rejected(hub_app, station_a, make_event):
    case_id = _submit(station_a, make_event)
    [result] = station_a.results([_station_rating(make_event, case_id, reason_tag="")])
    assert result["status"] == "rejected" and "请选择不满意的原因" in result["reason"]
    assert _count(hub_app) == 0


def test_a_station_copy_of_a_visit_rated_on_the_public_page_is_not_counted_twice(hub_app, hub_client, station_a,
                                                                                  make_event):
    case_id = _submit(station_a, make_event)
    assert _rate(hub_client, case_id, visit="intake", level="satisfied", reason_text="").status_code == 302
    [result] = station_a.results([_station_rating(make_event, case_id)])
    assert result["status"] == "accepted"  # the event is kept; the rating is not counted again
    assert _count(hub_app) == 1 and _count(hub_app, Remedy) == 0


def _remedy_id(app):
    with app.app_context():
        return Remedy.get().id


def test_a_remedy_is_worked_and_closed_only_with_a_note_then_rated_once_more(hub_app, hub_client, station_a,
                                                                              make_event, approver):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    _rate(hub_client, case_id)
    rid = _remedy_id(hub_app)
    page = f"/remedies/{rid}"
    assert "整改中" in approver.get("/remedies").get_data(as_text=True)
    case_page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "办理时间长：等了两个星期没人通知" in case_page and f'href="/remedies/{rid}"' in case_page

    def step(name, **form):
        response = approver.csrf_post(f"{page}/{name}", form, token_page=page)
        assert response.status_code == 302
        return approver.get(page).get_data(as_text=True)

    assert "尚未登记整改结果，不能办结" in step("close", closing_note="结束")
    assert "请先回访群众" in step("fix", fix_text="已改")
    assert "请填写沟通内容" in step("contact", method="phone", said="")
    assert "回访时间不能晚于现在" in step("contact", method="phone", said="已联系", at="2099-01-01T09:00")
    step("assign", owner="clerk")
    assert "不能早于差评提交的时间" in step("contact", method="phone", said="已联系", at="2020-01-01T09:00")
    called = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).replace(second=0, microsecond=0, tzinfo=None)
    html = step("contact", method="phone", said="已致电群众，说明延误原因并致歉", at=called.isoformat())
    assert f"{called:%Y-%m-%d %H:%M} · 电话 · 县级窗口：已致电群众" in html  # the person, not the login
    assert "<dt>责任人</dt><dd>县级窗口</dd>" in html
    assert "138****1234" in html and "13800001234" not in html
    # 追评 is not open before the fix
    follow = _rate(hub_client, case_id, kind="follow_up", level="satisfied", reason_text="")
    assert follow.status_code == 400 and "还没有整改结果" in follow.get_data(as_text=True)
    step("fix", fix_text="约定办结即电话通知，已建立通知台账")
    step("answer", answer="群众表示认可")
    assert "请填写办结说明" in step("close", closing_note="")
    html = step("close", closing_note="已整改，群众认可")
    assert "已办结" in html and "已整改，群众认可" in html and "（县级窗口，" in html
    assert "<td>县级窗口</td>" in approver.get("/remedies?show=all").get_data(as_text=True)  # the list's 责任人
    assert "该整改已办结，不能再修改" in step("contact", method="phone", said="再打一次")
    statuses = [c["status"] for c in _changes(hub_app, protocol.CHANGE_REMEDY)]
    assert statuses[0] == "open" and statuses[-1] == "closed"
    # 追评: once, beside the first
    public = hub_client.get(f"/q/{CODE}").get_data(as_text=True)
    assert "整改后追评" in public
    assert _rate(hub_client, case_id, kind="follow_up", level="satisfied", reason_text="").status_code == 302
    again = _rate(hub_client, case_id, kind="follow_up", level="very_satisfied", reason_text="")
    assert again.status_code == 400 and "已经追评过了" in again.get_data(as_text=True)
    with hub_app.app_context():
        assert sorted((e.kind, e.level) for e in HubEvaluation.select()) == [
            ("first", "dissatisfied"), ("follow_up", "satisfied")]


def test_overdue_remedies_are_flagged_and_rates_counted_per_station(hub_app, hub_client, station_a, make_event,
                                                                    approver):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    _rate(hub_client, case_id)
    rid = _remedy_id(hub_app)
    with hub_app.app_context():
        Remedy.update(callback_due=dt.date(2026, 1, 5), fix_due=dt.date(2026, 1, 23)).where(Remedy.id == rid).execute()
        remedy = Remedy.get_by_id(rid)
        assert remedies.overdue(remedy, dt.date(2026, 1, 6)) == ["callback"]
        assert remedies.overdue(remedy, dt.date(2026, 1, 26)) == ["callback", "fix"]
        [rates] = remedies.rates_by_station(dt.date(2026, 1, 26))
        assert (rates.callback_rate, rates.fix_rate, rates.overdue) == ("0%", "0%", 1)
    html = approver.get("/remedies").get_data(as_text=True)
    assert "回访超期" in html and "整改超期" in html
    assert re.search(r"甲村便民服务站</td><td>1</td><td>0%", html)


def test_remedy_pages_need_a_county_login(hub_client, hub_app):
    assert hub_client.get("/remedies").status_code in (302, 401)


def test_ratings_on_the_public_page_show_nothing_personal_in_any_state(hub_app, hub_client, station_a, make_event):
    from sync.hub.models import HubCase
    from tests.hub.test_public_progress import _nothing_personal, _states

    for state, (code, _words) in _states(hub_app, station_a, make_event).items():
        with hub_app.app_context():
            case = HubCase.get(HubCase.query_code == code)
        page = hub_client.get(f"/q/{code}").get_data(as_text=True)
        if state == "not_collected":
            assert "评价本次服务" not in page
            continue
        assert "评价本次服务" in page, state
        _rate(hub_client, case.case_id, code, visit="case" if state in ("approved", "denied", "delivered") else "intake",
              reason_text="请打我电话13800001234或查110105194912310021")
        page = hub_client.get(f"/q/{code}").get_data(as_text=True)
        assert "您的评价" in page, state
        _nothing_personal(page)
    with hub_app.app_context():
        assert {e.reason_text for e in HubEvaluation.select()} == {"请打我电话138****1234或查110105********0021"}


def test_a_remedy_is_assigned_only_to_an_active_county_user(hub_app, hub_client, station_a, make_event, approver):
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    _rate(hub_client, case_id)
    rid = _remedy_id(hub_app)
    page = f"/remedies/{rid}"
    with hub_app.app_context():
        HubUser.create(username="gone", name="已调离", role="approver", password_hash="x", active=False)
    before = len(_changes(hub_app, protocol.CHANGE_REMEDY))
    for owner in ("nobody", "gone"):  # a name typed into the form, a user who left
        html = approver.csrf_post(f"{page}/assign", {"owner": owner}, token_page=page,
                                  follow_redirects=True).get_data(as_text=True)
        assert "请选择整改责任人" in html and "已指定责任人" not in html
    with hub_app.app_context():
        assert Remedy.get_by_id(rid).owner in ("", None)
    assert len(_changes(hub_app, protocol.CHANGE_REMEDY)) == before  # nothing told to the station


def test_a_remedy_deadline_counted_past_the_known_holidays_is_marked_provisional(hub_app, hub_client, station_a,
                                                                                make_event, approver):
    """A 15-working-day 整改 opened in late December runs into a year chinese_calendar does not know
    (元旦 counted as a working day): the clerk sees the date is only provisional, as the station shows it."""
    hub_app.config["REMEDY_FIX_WORKING_DAYS"] = 400  # well past any year the holiday table can know
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    _rate(hub_client, case_id)
    rid = _remedy_id(hub_app)
    with hub_app.app_context():
        fix_due = Remedy.get_by_id(rid).fix_due
    mark = r'<span class="provisional" title="\d{4}[^"]*年节假日数据尚未更新，期限按周一至周五暂算，仅供参考">（暂定）</span>'
    assert re.search(rf"整改 {fix_due}{mark} 前", approver.get(f"/remedies/{rid}").get_data(as_text=True))
    assert re.search(rf"<td>{fix_due}{mark}</td>", approver.get("/remedies").get_data(as_text=True))


def test_the_case_page_marks_a_due_date_in_a_year_without_holiday_data(approver, station_a, make_event):
    event = make_event(payload=case_snapshot(statutory_due="2099-01-05", committed_due="2026-11-27"))
    assert station_a.results([event])[0]["status"] == "accepted"
    html = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    lines = html.split('id="four-lines"', 1)[1].split("</dd>", 1)[0]
    assert re.search(r"法定时限 2099-01-05<span class=\"provisional\" title=\"[^\"]*2099年节假日数据尚未更新[^\"]*\">（暂定）</span>",
                     lines)
    assert "承诺时限 2026-11-27（" in lines  # a year the table knows: no mark


def test_numbers_typed_into_a_rating_a_decision_or_a_call_are_masked_on_the_county_pages(
        hub_app, hub_client, station_a, make_event, approver):
    """The resident's phone is masked on the 整改 page, with its full number on the case page only after a
    reason: the same phone written into the rating, a 回访 note or a clerk's reason is masked there too."""
    case_id = _submit(station_a, make_event)
    with hub_app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
        decisions.decide(case_id, decisions.DecisionInput(
            kind="completed", result="approved", result_text="结果已电话告知13800001234",
            certificate_no="11010519491231002121"), clerk="clerk")
    _rate(hub_client, case_id, reason_text="没人通知，我的电话13800001234")
    page = f"/remedies/{_remedy_id(hub_app)}"
    approver.csrf_post(f"{page}/contact", {"method": "phone", "said": "已拨打13800001234说明情况"}, token_page=page)
    remedy = approver.get(page).get_data(as_text=True)
    assert "没人通知，我的电话138****1234" in remedy and "已拨打138****1234说明情况" in remedy
    case_page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "没人通知，我的电话138****1234" in case_page and "结果已电话告知138****1234" in case_page
    assert "证书编号：110105**********2121" in case_page
    for html in (remedy, case_page):
        assert "13800001234" not in html and "110105194912310021" not in html


def test_the_thanks_promise_a_call_back_only_after_a_bad_rating(hub_app, hub_client, station_a, make_event):
    """"如是差评，县级部门将…与您联系" was said to every resident, the satisfied ones too."""
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    good = _rate(hub_client, case_id, level="very_satisfied", reason_tag__very_satisfied="fast", reason_text="")
    thanks = hub_client.get(good.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价！</p>" in thanks and "与您联系" not in thanks
    other = _submit(station_a, make_event, code="B4DRAT1N")
    _complete(hub_app, other)
    bad = _rate(hub_client, other, code="B4DRAT1N")
    thanks = hub_client.get(bad.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价！对您的不满意评价，县级部门将在1个工作日内与您联系，了解情况并整改。" in thanks


def test_a_cross_area_case_from_a_peer_county_is_rated_where_she_applied(hub_app, hub_client, station_a,
                                                                         make_event):
    """At the handling county, a 差评 of the village's 收件 (forwarded with the case) opened a second 整改
    — the county where she applied had opened one already; and its public page took ratings that
    reached neither her station nor that county."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station

    peer = _make_station(hub_app, "HUB141081", "示范县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == peer.code).execute()
    cross = {"received_area": "141081102201", "received_station_name": "东关村便民服务站",
             "handling_area": "141082", "handling_area_name": "邻县民政局"}
    case_id = _submit(peer, make_event, "K7P20X2N", **cross)
    assert peer.results([_station_rating(make_event, case_id)])[0]["status"] == "accepted"
    _submit(station_a, make_event)  # a case of this county's own station, whose page has a form (its token)
    hub_client.public_token = ClerkClient(hub_client).token(f"/q/{CODE}")
    with hub_app.app_context():
        assert [(e.case_id, e.level) for e in HubEvaluation.select()] == [(case_id, "very_dissatisfied")]
        assert Remedy.select().count() == 0  # kept, for B's clerks to read; the 整改 is A's
    page = hub_client.get("/q/K7P20X2N").get_data(as_text=True)
    assert "本件在东关村便民服务站收件（跨域办），请扫描回执上的二维码，在收件地评价。" in page
    assert 'class="rate-form"' not in page
    refused = _rate(hub_client, case_id, code="K7P20X2N", visit="intake", level="satisfied", reason_text="")
    assert refused.status_code == 400 and "在收件地评价" in refused.get_data(as_text=True)
    with hub_app.app_context():
        assert HubEvaluation.select().count() == 1


def test_the_station_is_told_which_remedy_dates_are_provisional(hub_app, hub_client, station_a, make_event):
    """The 整改 dates go down to the station with why each is 暂定, so its pages mark them as the county's do."""
    hub_app.config["REMEDY_FIX_WORKING_DAYS"] = 400  # past any year the holiday table can know
    case_id = _submit(station_a, make_event)
    _complete(hub_app, case_id)
    _rate(hub_client, case_id)
    [sent] = _changes(hub_app, protocol.CHANGE_REMEDY)
    assert "年节假日数据尚未更新" in sent["fix_due_warning"]
    assert isinstance(sent["callback_due_warning"], str)
