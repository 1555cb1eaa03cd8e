"""The hub's access log: its own users' accesses recorded and chained, a removed or altered entry
found, and a station's entries taken once each over the signed API."""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import HubAccessLog, HubUser, StationAccessLog
from sync.hub.services import access_log
from tests.fixtures.hub import CLERK_PASSWORD, ClerkClient, case_snapshot, login, valid_catalog
from tests.fixtures.scans import JPEG
from websec import audit


def _entries(app, action: str | None = None) -> list[HubAccessLog]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        query = HubAccessLog.select().order_by(HubAccessLog.seq)
        return list(query.where(HubAccessLog.action == action) if action else query)


@pytest.fixture
def received_case(station_a, make_event) -> dict:  # noqa: ANN001
    event = make_event()
    assert station_a.results([event])[0]["status"] == "accepted"
    return event


@dataclass
class Step:
    action: str
    do: Callable[[ClerkClient, dict, object], object]
    on_case: bool = False


STEPS = [
    Step("case_view", lambda u, e, s: u.get(f"/cases/{e['case_id']}"), on_case=True),
    Step("decision", lambda u, e, s: u.csrf_post(f"/cases/{e['case_id']}/decide", {
        "kind": "accepted", "hub_case_no": "XJ1"}, token_page=f"/cases/{e['case_id']}"), on_case=True),
    Step("conflict_view", lambda u, e, s: u.get("/conflicts")),
    Step("catalog_publish", lambda u, e, s: u.csrf_post("/catalog", {
        "catalog": json.dumps(valid_catalog("2026.12-t"), ensure_ascii=False)})),
    Step("holiday_publish", lambda u, e, s: u.csrf_post("/holidays/publish", {
        "csv": "day,kind,name\n2027-01-01,放假,元旦\n", "current_version": ""}, token_page="/holidays")),
    Step("station_settings", lambda u, e, s: u.csrf_post("/stations/ST-A", {
        "sync_interval_seconds": "60"})),
    Step("logout", lambda u, e, s: u.csrf_post("/logout", {}, token_page="/cases")),
    Step("log_verify", lambda u, e, s: u.csrf_post("/access-log", {})),
]


@pytest.mark.parametrize("step", STEPS, ids=[s.action for s in STEPS])
def test_each_county_access_leaves_an_entry_naming_who(hub_app, county_admin, received_case, station_a, step):
    before = len(_entries(hub_app, step.action))
    response = step.do(county_admin, received_case, station_a)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    entries = _entries(hub_app, step.action)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert (entry.actor_name, entry.role, entry.address) == ("县级管理员", "admin", "127.0.0.1")
    assert entry.detail
    if step.on_case:
        assert entry.case_id == received_case["case_id"]


def test_a_scan_download_is_recorded(hub_app, approver, station_a, make_event):
    sha = hashlib.sha256(JPEG).hexdigest()
    station_a.request("PUT", f"/api/v1/attachments/{sha}", JPEG, headers={
        "Content-Range": protocol.content_range(0, len(JPEG) - 1, len(JPEG)), "Content-Type": "image/jpeg"})
    event = make_event(payload=case_snapshot(attachments=[
        {"sha256": sha, "filename": "身份证.jpg", "size": len(JPEG), "content_type": "image/jpeg"}]))
    station_a.results([event])
    assert approver.get(f"/cases/{event['case_id']}/attachments/{sha}").status_code == 200
    [entry] = _entries(hub_app, "scan_download")
    assert entry.case_id == event["case_id"] and entry.actor_name == "县级窗口" and entry.role == "approver"


def test_logins_failures_and_lockouts_are_recorded(hub_app, approver):
    client = hub_app.test_client()
    for _ in range(5):
        login(client, "clerk", "wrong-password")
    login(client, "clerk", CLERK_PASSWORD)
    actions = [e.action for e in _entries(hub_app) if e.action in ("login", "login_failed", "lockout")]
    assert actions == ["login"] + ["login_failed"] * 5 + ["lockout", "lockout"]
    assert {e.actor_name for e in _entries(hub_app, "login_failed")} == {"clerk"}


def test_user_changes_at_the_command_line_are_recorded(hub_app, tmp_path, monkeypatch):
    from sync.hub import cli

    monkeypatch.setattr(cli, "_app", lambda: hub_app)
    monkeypatch.setattr(getpass, "getuser", lambda: "zhangsan")  # the OS account that ran the command
    runner = CliRunner()
    assert runner.invoke(cli.cli, ["create-user", "newone", "--password", "long-enough-1"]).exit_code == 0
    assert runner.invoke(cli.cli, ["create-user", "newone", "--password", "long-enough-2",
                                   "--role", "admin"]).exit_code == 0
    actions = [(e.action, e.actor_name, e.object) for e in _entries(hub_app)]
    assert actions == [("user_create", "命令行（zhangsan）", "newone"), ("password_reset", "命令行（zhangsan）", "newone"),
                       ("user_role", "命令行（zhangsan）", "newone")]


def _verify(admin: ClerkClient, station: str = "") -> str:
    return admin.csrf_post(f"/access-log?station={station}", {}, token_page="/access-log").get_data(as_text=True)


def test_an_entry_removed_or_altered_in_the_hub_database_is_found(hub_app, county_admin, received_case):
    for _ in range(3):
        county_admin.get(f"/cases/{received_case['case_id']}")
    assert "日志完整" in _verify(county_admin)
    seqs = [e.seq for e in _entries(hub_app)]
    with hub_app.app_context(), db.connection_context():
        HubAccessLog.update(detail="改过").where(HubAccessLog.seq == seqs[1]).execute()
    assert f"第 {seqs[1]} 条记录的内容已被改动" in _verify(county_admin)
    with hub_app.app_context(), db.connection_context():
        HubAccessLog.delete().where(HubAccessLog.seq == seqs[1]).execute()
    assert f"第 {seqs[1]} 条记录已被删除" in _verify(county_admin)


def _station_chain(count: int, start: int = 1, prev: str = audit.GENESIS) -> list[dict]:
    rows = []
    for seq in range(start, start + count):
        row = {"seq": seq, "at": f"2026-12-01 09:00:{seq:02d}.000000", "actor_id": 2, "actor_name": "王芳",
               "role": "agent", "address": "192.168.1.20", "action": "case_view", "case_id": "C1",
               "object": "ST-A-0001", "detail": "查看办件详情"}
        row["prev_hash"] = prev
        row["hash"] = prev = audit.entry_hash(row, prev)
        rows.append(row)
    return rows


def test_a_station_log_is_stored_once_per_seq_and_shown_by_station(hub_app, station_a, county_admin):
    first = station_a.post_json("/api/v1/access-log", {"entries": _station_chain(3)})
    assert first.status_code == 200 and station_a.last_verified
    assert (first.json["accepted"], first.json["duplicate"], first.json["last_seq"]) == (3, 0, 3)
    again = station_a.post_json("/api/v1/access-log", {"entries": _station_chain(3)})
    assert (again.json["accepted"], again.json["duplicate"]) == (0, 3)
    with hub_app.app_context(), db.connection_context():
        assert StationAccessLog.select().count() == 3
        assert HubAccessLog.select().where(HubAccessLog.detail == "查看办件详情").count() == 0  # kept apart
    page = county_admin.get("/access-log?station=ST-A").get_data(as_text=True)
    assert "王芳" in page and "192.168.1.20" in page
    assert "王芳" not in county_admin.get("/access-log").get_data(as_text=True)
    assert "日志完整" in _verify(county_admin, "ST-A")
    with hub_app.app_context(), db.connection_context():
        StationAccessLog.delete().where(StationAccessLog.seq == 2).execute()
    assert "第 2 条记录已被删除" in _verify(county_admin, "ST-A")


@pytest.mark.parametrize("body", [{"entries": "x"}, {"entries": [{"seq": "one"}]}, {"entries": [{"seq": 1}]},
                                  {"entries": [{**_station_chain(1)[0], "seq": 0}]},
                                  {"entries": [{**_station_chain(1)[0], "role": "x" * 100}]}])
def test_a_malformed_station_log_is_refused_with_a_reason(hub_app, station_a, body):
    response = station_a.post_json("/api/v1/access-log", body)
    assert response.status_code == 400 and station_a.last_verified
    assert response.json["message"]
    with hub_app.app_context(), db.connection_context():
        assert StationAccessLog.select().count() == 0


def test_an_approver_cannot_open_the_log(hub_app, approver):
    assert approver.get("/access-log").status_code == 403


def test_a_reveal_hook_is_one_line(hub_app):
    with hub_app.app_context(), db.connection_context():
        user = HubUser.create(username="u1", name="审批甲", role="approver", password_hash="x")
        access_log.record(user, "reveal", case_id="C9", detail="理由：核对；显示 110105194912310021")
        [entry] = HubAccessLog.select()
        assert entry.detail == "理由：核对；显示 110105********0021"
        assert access_log.verify().ok



def test_the_hub_chain_holds_on_sqlite_and_postgresql(any_hub_app):
    with any_hub_app.app_context(), db.connection_context():
        for n in range(3):
            access_log.record(None, "login_failed", actor_name=f"名{n}", address="10.0.0.9", detail="用户名或密码错误")
        assert [e.seq for e in HubAccessLog.select().order_by(HubAccessLog.seq)] == [1, 2, 3]
        assert access_log.verify().ok
        HubAccessLog.delete().where(HubAccessLog.seq == 3).execute()
        result = access_log.verify()
        assert not result.ok and "应有 3 条，现只有 2 条" in result.message


def test_a_decision_is_listed_under_its_case_number_not_the_decisions_code_name(hub_app, county_admin, received_case):
    case_id = received_case["case_id"]
    for kind, extra in (("accepted", {}), ("completed", {"result": "approved"})):
        response = county_admin.csrf_post(f"/cases/{case_id}/decide", {"kind": kind, **extra},
                                          token_page=f"/cases/{case_id}")
        assert response.status_code == 302
    rows = county_admin.get("/access-log?action=decision").get_data(as_text=True)
    case_no = received_case["payload"]["case_no"]
    assert rows.count(f">{case_no}</a>") == 2  # the 办件/对象 link reads as the 办件编号
    assert ">accepted<" not in rows and ">completed<" not in rows


def test_the_countys_own_entries_name_their_object_in_chinese(hub_app, county_admin):
    county_admin.csrf_post("/access-log", {})  # 校验日志完整性 of the county's own log
    rows = county_admin.get("/access-log?action=log_verify").get_data(as_text=True)
    assert "<td>县级平台</td>" in rows and "<td>hub</td>" not in rows


def test_a_bad_date_in_the_filter_is_refused_with_todays_date_as_the_example(hub_app, county_admin):
    from sync.hub.china_time import china_today

    page = county_admin.get("/access-log?from=2026-13-45").get_data(as_text=True)
    assert f"日期格式有误，应为 {china_today().isoformat()} 这样的日期。" in page


@pytest.mark.parametrize("page", ["99999999999999999999999", "-5", "abc"])
def test_a_page_number_out_of_range_opens_the_log_not_an_error(hub_app, county_admin, page):
    response = county_admin.get(f"/access-log?page={page}")
    assert response.status_code == 200 and 'id="access-log"' in response.get_data(as_text=True)
