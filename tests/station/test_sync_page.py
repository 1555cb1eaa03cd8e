"""The sync page: what a clerk sees of the queue, "sync now" without waiting, set-aside events."""

from __future__ import annotations

from station.extensions import db
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named


def _queue_one(app, agent) -> str:
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        data = form_for([item])
    location = agent.post(f"/intake/item/{item.id}", data).headers["Location"]
    return location.split("/cases/")[1].split("?")[0]


def test_clerk_sees_queue_length_and_unlinked_state(app, agent, clerk):
    _queue_one(app, agent)
    page = clerk.get("/sync/").get_data(as_text=True)
    assert '<span id="queue-length">1</span>' in page
    progress = clerk.get("/sync/progress.json").get_json()
    assert progress["queue_length"] == 1 and progress["oldest_queued_at"]
    response = clerk.post("/sync/now", follow_redirects=True).get_data(as_text=True)
    assert "尚未连接县级平台" in response


def test_sync_now_only_asks_the_background_runner(app, clerk):
    class Runner:
        triggered = 0

        def trigger(self) -> None:
            Runner.triggered += 1

    app.extensions["sync_runner"] = Runner()
    page = clerk.post("/sync/now", follow_redirects=True).get_data(as_text=True)
    assert "已开始同步" in page and Runner.triggered == 1


def test_set_aside_event_is_shown_with_its_reason_and_can_be_requeued(app, agent, clerk):
    case_id = _queue_one(app, agent)
    with app.app_context(), db.connection_context():
        event = OutboxEvent.get(OutboxEvent.case_id == case_id)
        event.state, event.reason = "set_aside", "事项目录已过期：以下内容需重新采集：缴费档次"
        event.save()
    page = clerk.get("/sync/").get_data(as_text=True)
    assert "需重新采集" in page
    assert "被退回" in agent.get(f"/cases/{case_id}").get_data(as_text=True)
    clerk.post(f"/sync/events/{event.event_id}/requeue")
    with app.app_context(), db.connection_context():
        assert OutboxEvent.get_by_id(event.id).state == "queued"
    again = clerk.post(f"/sync/events/{event.event_id}/requeue", follow_redirects=True).get_data(as_text=True)
    assert "只有被搁置的事件才能重新发送" in again


def test_county_settings_out_of_range_are_refused(database):
    import pytest

    from station.models import Setting
    from station.services.errors import ValidationFailed
    from station.services.station_info import apply_hub_settings
    from sync import state

    with pytest.raises(ValidationFailed):
        apply_hub_settings({"sync_interval_seconds": 1e12})
    assert state.interval_seconds() == ""
    assert apply_hub_settings({"sync_interval_seconds": 300, "notice": "x"}) == ["sync.interval_seconds", "hub.notice"]
    assert state.interval_seconds() == "300"
    assert Setting.get_value("hub.notice") == "x"


def test_the_sync_page_lists_each_queued_case_with_masked_applicant(app, agent, clerk):
    case_id = _queue_one(app, agent)
    with app.app_context(), db.connection_context():
        from station.models import Case

        case = Case.get_by_id(case_id)
    page = clerk.get("/sync/").get_data(as_text=True)
    listed = page.split('id="queued-list"')[1].split("</section>")[0]
    assert case.case_no in listed and "高龄津贴申领" in listed and case.status_name in listed
    assert "赵*" in listed and "110105********002X" in listed
    assert "赵秀英" not in listed and "11010519491231002X" not in page
    assert "分钟" in listed and "收件提交（1 条）" in listed  # the case's one queued event, counted
    home = clerk.get("/").get_data(as_text=True).split('id="sync-queue"')[1].split("</section>")[0]
    assert case.case_no in home and "赵*" in home and "赵秀英" not in home


def test_an_error_older_than_the_last_success_is_not_shown_as_the_current_state(app, clerk):
    from sync import state

    with app.app_context(), db.connection_context():
        state.set_value(state.LAST_ERROR, "县级平台连不上")
        state.set_value(state.LAST_ERROR_AT, "2026-12-01 09:00:00")
        state.set_value(state.LAST_SUCCESS, "2026-12-01 10:00:00")
        state.set_value(state.LINK_STATE, "up")
    page = clerk.get("/sync/").get_data(as_text=True)
    current = page.split('id="last-error">')[1].split("</dd>")[0]
    assert "连不上" not in current and "09:00 的故障已恢复" in current
    assert "2026-12-01 10:00 同步成功" in page
    assert clerk.get("/sync/progress.json").get_json()["last_error"] == ""

    with app.app_context(), db.connection_context():  # the next round fails: that failure is the state now
        state.set_value(state.LAST_ERROR, "县级平台不接受本站的凭据")
        state.set_value(state.LAST_ERROR_AT, "2026-12-01 11:00:00")
        state.set_value(state.LINK_STATE, "credentials_refused")
    page = clerk.get("/sync/").get_data(as_text=True)
    current = page.split('id="last-error">')[1].split("</dd>")[0]
    assert "不接受本站的凭据" in current and "11:00" in current
    assert "自 2026-12-01 11:00 起" in page
    link = page.split('id="link-state"')[1].split("</dd>")[0]
    assert "连通" not in link


def test_every_link_state_has_chinese_words():
    import re

    from sync import errors

    states = {cls.link_state for cls in errors.LinkProblem.__subclasses__()} | {errors.LinkProblem.link_state}
    for link_state in states | {"up", "unknown", "unlinked", "something-new"}:
        words = errors.link_state_label(link_state)
        assert re.search(r"[\u4e00-\u9fff]", words) and not re.search(r"[A-Za-z]{3,}", words), link_state


def test_the_page_says_where_the_station_is_linked_and_never_shows_the_secret(app, clerk):
    from sync.transport import HubLink

    secret = "s3cret-" + "x" * 40
    with app.app_context(), db.connection_context():
        HubLink("http://county.example:8090", "ST141081102201", secret).save()
    page = clerk.get("/sync/").get_data(as_text=True)
    assert "http://county.example:8090（本站编码 ST141081102201）" in page
    assert secret not in page


def _county_refuses_everything_queued(app, reason: str, status: str = "rejected") -> None:  # noqa: ANN001
    """The county's answer to a push: every queued event refused for good (or in conflict), as sync records it."""
    from sync import backlog
    from sync.push import record_results
    from sync.summary import SyncSummary

    with app.app_context(), db.connection_context():
        batch = backlog.pending_events()
        record_results(batch, [{"event_id": e.event_id, "status": status, "reason": reason}
                               for e in batch], SyncSummary())


def test_a_set_aside_case_and_home_visit_are_named_as_the_clerk_knows_them_and_open(app, agent, clerk):
    """The set-aside list showed a bare record id; a home visit's linked to a case page that did not exist."""
    from tests.station.test_home_visits import VISIT

    case_id = _queue_one(app, agent)
    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    _county_refuses_everything_queued(app, "事项目录已过期：以下内容需重新采集：缴费档次")
    with app.app_context(), db.connection_context():
        from station.models import Case

        case_no = Case.get_by_id(case_id).case_no
    page = clerk.get("/sync/").get_data(as_text=True)
    assert '<dd id="set-aside-count">2 条</dd>' in page
    listed = page.split("被退回的同步事件")[1].split("</section>")[0]
    assert f'<a href="/cases/{case_id}">{case_no}</a>' in listed
    assert "赵*" in listed and "110105********002X" in listed and "赵秀英" not in listed
    assert f'<a href="/visits/{visit_id}">上门服务记录 {VISIT["visited_on"]}</a>' in listed
    assert listed.count("需重新采集：缴费档次") == 2
    assert clerk.get(f"/visits/{visit_id}").status_code == 200


def test_a_county_update_the_station_could_not_apply_is_named_in_chinese(app, clerk):
    """The table named only three kinds of update: a booking's showed as appointment.changed, linked to a
    case page that does not exist."""
    from station.sync_hooks import station_hooks
    from sync import protocol
    from sync.pull import apply_change

    booking = protocol.new_id()
    with app.app_context(), db.connection_context():
        apply_change(station_hooks(app), {"change_id": 7, "kind": protocol.CHANGE_APPOINTMENT, "case_id": booking,
                                          "payload": {"appointment_id": booking, "slot_date": "12月3日"}})
    table = clerk.get("/sync/").get_data(as_text=True).split('id="pull-problems"')[1].split("</section>")[0]
    assert "<td>预约</td>" in table and "县级平台发来的预约日期不正确" in table
    assert "appointment.changed" not in table and f"/cases/{booking}" not in table


def test_every_kind_of_county_update_has_chinese_words():
    from rules.labels import CHANGE_KINDS
    from sync import protocol

    assert set(protocol.CHANGE_KINDS) == set(CHANGE_KINDS)


def test_the_home_pages_set_aside_figure_counts_what_its_list_names(app, agent, clerk):
    """A set-aside home visit was counted in 同步被退回 but listed nowhere on the page; a case with two
    set-aside events counted twice and was listed once."""
    from tests.station.test_home_visits import VISIT

    case_id = _queue_one(app, agent)
    agent.post(f"/cases/{case_id}/notes", {"text": "申请人下午再来"})  # a second event of the same case
    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    _county_refuses_everything_queued(app, "县级拒收")
    page = clerk.get("/").get_data(as_text=True)
    figure = page.split("同步被退回</div>")[0].rsplit('<div class="num">', 1)[1].split("</div>")[0]
    listed = page.split('id="todo-set-aside"')[1].split("</ul>")[0]
    assert figure == "2" and "同步被退回的办件和上门服务记录（2）" in listed
    assert f'href="/cases/{case_id}"' in listed and f'href="/visits/{visit_id}"' in listed
    assert listed.count("<li>") == 2
    assert "孙*贵" in listed and "孙福贵" not in listed  # the visit's resident masked, as in every list


def test_a_set_aside_case_tells_each_reader_what_to_do_next(app, agent, clerk):
    """The case page said only 被退回，需人工处理: the agent, who cannot open the sync page, did not know
    whether to take the application again (a second case) or whom to tell."""
    case_id = _queue_one(app, agent)
    _county_refuses_everything_queued(app, "事项目录已过期：以下内容需重新采集：缴费档次")
    agent_page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    step = agent_page.split('id="sync-next-step">')[1].split("</span>")[0]
    assert "请不要重新收件" in step and "告知窗口人员或站长" in step
    assert 'href="/sync/"' not in agent_page.split('id="sync-state"')[1].split("</dd>")[0]  # a page she may not open
    clerk_state = clerk.get(f"/cases/{case_id}").get_data(as_text=True).split('id="sync-state"')[1].split("</dd>")[0]
    assert "重新发送" in clerk_state and '<a href="/sync/">到同步页面处理</a>' in clerk_state


def test_a_case_in_conflict_says_the_county_settles_it(app, agent, clerk):
    case_id = _queue_one(app, agent)
    _county_refuses_everything_queued(app, "", status="conflict")
    for reader in (agent, clerk):
        state = reader.get(f"/cases/{case_id}").get_data(as_text=True).split('id="sync-state"')[1].split("</dd>")[0]
        assert "需由县级平台核对" in state and "请不要重新收件" in state and "重新发送" not in state


def test_a_case_waiting_to_be_sent_has_no_next_step(app, agent):
    case_id = _queue_one(app, agent)
    assert 'id="sync-next-step"' not in agent.get(f"/cases/{case_id}").get_data(as_text=True)


def _round_with_the_county_unreachable(app) -> None:  # noqa: ANN001
    """One real sync round against a county address where nothing answers (the link is down)."""
    import socket

    from station.sync_hooks import station_hooks
    from sync.round import Syncer
    from sync.transport import HubClient, HubLink

    with socket.socket() as probe:  # a local port just freed: connecting to it is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with app.app_context(), db.connection_context():
        HubLink(f"http://127.0.0.1:{port}", "ST141081102201", "s" * 43).save()
        summary = Syncer(HubClient(HubLink.stored()), station_hooks(app)).run()
    assert summary.error and summary.queue_left


def test_with_the_link_down_the_home_page_says_the_cases_are_kept_and_not_yet_sent(app, agent, clerk):
    """An agent saw 待同步 on every case for days and no reason: she could not tell a resident whether the
    county had her application, nor that taking it again was not needed."""
    _queue_one(app, agent)
    assert 'id="link-down"' not in agent.get("/").get_data(as_text=True)  # no round yet: nothing to say
    _round_with_the_county_unreachable(app)
    home = agent.get("/").get_data(as_text=True)
    notice = home.split('id="link-down"')[1].split("</div>")[0]
    assert "与县级平台的连接中断：县级平台连不上" in notice
    assert "1 件办件已在本站保存，尚未报送县级平台" in notice and "无需重新收件" in notice
    assert "请告知站长" in notice and 'href="/sync/"' not in notice  # the agent may not open the sync page
    clerk_notice = clerk.get("/").get_data(as_text=True).split('id="link-down"')[1].split("</div>")[0]
    assert '<a href="/sync/">同步</a>' in clerk_notice and '<a href="/sync/usb/">离线包</a>' in clerk_notice



def test_a_pc_not_on_china_time_is_told_on_the_sync_page(clerk, clock_off_china):
    said = clerk.get("/sync/").get_data(as_text=True)
    assert 'id="zone-problem"' in said and "不是北京时间（UTC+8）" in said


def test_a_pc_on_china_time_is_told_nothing(clerk, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert 'id="zone-problem"' not in clerk.get("/sync/").get_data(as_text=True)
    finally:
        monkeypatch.undo()
        time.tzset()
