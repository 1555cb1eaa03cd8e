"""The station's access log: every access to a resident's data and every admin change is recorded,
full numbers appear only on a reveal with a reason, and a removed or altered entry is found."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from station.catalog_data import load_demo_catalog
from station.extensions import db
from station.models import AccessLog, AccessLogHead, Attachment, Case, User
from station.services import access_log
from tests.fixtures.intake import AGENT_ID, GOOD_ID, form_for, item_named, proxy_fields
from tests.fixtures.scans import JPEG
from tests.fixtures.station import StationClient

PHONE = "13912345678"


def _take(app, agent: StationClient) -> str:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        item = item_named("城乡居民基本养老保险参保登记")
        data = form_for([item], applicant_phone=PHONE, **proxy_fields(authorization="print"))
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"].split("/cases/")[1].split("?")[0]


def _entries(app, action: str | None = None) -> list[AccessLog]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        query = AccessLog.select().order_by(AccessLog.seq)
        return list(query.where(AccessLog.action == action) if action else query)


@pytest.fixture
def case_id(app, agent) -> str:  # noqa: ANN001
    return _take(app, agent)


@dataclass
class Step:
    """One thing a user does through the app, and the entry it must leave."""

    role: str
    action: str
    do: Callable[[StationClient, str, Callable], object]  # (user, case id, lookup in the database)
    on_case: bool = False


def _upload_and_download(user: StationClient, case_id: str, lookup: Callable) -> object:
    user.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(JPEG), "身份证.jpg", "image/jpeg")},
              content_type="multipart/form-data")
    attachment = lookup(lambda: Attachment.select().where(Attachment.case == case_id).get())
    return user.get(f"/cases/{case_id}/attachments/{attachment.id}")


def _print_receipt(user: StationClient, case_id: str, _lookup: Callable) -> object:
    page = user.get(f"/cases/{case_id}").get_data(as_text=True)
    doc = page.split(f"/cases/{case_id}/print/")[1].split('"')[0]
    return user.get(f"/cases/{case_id}/print/{doc}")


def _new_user(user: StationClient, _case_id: str, _lookup: Callable) -> object:
    return user.post("/admin/users", {"username": "newagent", "name": "新代办员", "role": "agent",
                                      "password": "newagent-pass-1"})


def _user_id(lookup: Callable, name: str) -> int:
    return lookup(lambda: User.get(User.username == name).id)


STEPS = [
    Step("agent", "case_view", lambda u, c, q: u.get(f"/cases/{c}"), on_case=True),
    Step("agent", "case_list", lambda u, c, q: u.get(f"/cases/?q={GOOD_ID}")),
    Step("agent", "reveal", lambda u, c, q: u.post(f"/cases/{c}/reveal", {"reason": "verify_identity"}), on_case=True),
    Step("agent", "print", _print_receipt, on_case=True),
    Step("agent", "scan_download", _upload_and_download, on_case=True),
    Step("clerk", "ledger", lambda u, c, q: u.get(f"/ledger.pdf?day={dt.date.today().isoformat()}")),
    Step("agent", "logout", lambda u, c, q: u.post("/logout")),
    Step("admin", "user_create", _new_user),
    Step("admin", "password_reset", lambda u, c, q: u.post(f"/admin/users/{_user_id(q, 'agent')}/password",
                                                         {"password": "another-pass-2"})),
    Step("admin", "user_deactivate", lambda u, c, q: u.post(f"/admin/users/{_user_id(q, 'agent')}/active", {"active": "0"})),
    Step("admin", "settings_station", lambda u, c, q: u.post("/admin/station", {
        "code": "ST141081102201", "name": "改名后的服务站", "level": "village", "area_code": "141081102201"})),
    Step("admin", "settings_holiday", lambda u, c, q: u.post("/admin/holidays", {
        "day": "2026-10-09", "is_workday": "1", "name": "调休"})),
    Step("admin", "settings_items", lambda u, c, q: u.post("/admin/items", {
        "impl_code": q(lambda: item_named("城乡居民基本养老保险参保登记").impl_code), "can_accept": "0"})),
    Step("admin", "log_verify", lambda u, c, q: u.post("/admin/access-log")),
]


@pytest.mark.parametrize("step", STEPS, ids=[s.action for s in STEPS])
def test_each_access_leaves_an_entry_naming_who_and_what(app, case_id, step):
    user = StationClient(app.test_client()).login(step.role)
    def lookup(query: Callable) -> object:
        with app.app_context(), db.connection_context():
            return query()

    before = len(_entries(app, step.action))
    response = step.do(user, case_id, lookup)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    entries = _entries(app, step.action)
    assert len(entries) == before + 1, step.action
    entry = entries[-1]
    with app.app_context(), db.connection_context():
        who = User.get(User.username == step.role)
    assert (entry.actor_id, entry.actor_name, entry.role) == (who.id, who.name, step.role)
    assert entry.address == "127.0.0.1" and entry.detail
    if step.on_case:
        assert entry.case_id == case_id


def test_logins_failures_and_lockouts_are_recorded_with_the_name_typed(app, client):
    StationClient(app.test_client()).login("clerk")
    client.fetch_token("/login")
    for _ in range(5):
        client.client.post("/login", data={"username": "clerk", "password": "wrong-pass-9",
                                           "csrf_token": client.token})
    client.client.post("/login", data={"username": "clerk", "password": "clerk-pass-1", "csrf_token": client.token})
    actions = [(e.action, e.actor_name) for e in _entries(app) if e.action in ("login", "login_failed", "lockout")]
    assert actions[0][0] == "login"
    assert [a for a, _n in actions[1:]] == ["login_failed"] * 5 + ["lockout", "lockout"]  # locked, then refused
    assert {n for _a, n in actions[1:]} == {"clerk"}


def test_a_catalog_import_is_recorded(app, admin):
    catalog = load_demo_catalog()
    catalog["catalog_version"] = "9" + str(catalog["catalog_version"])
    data = json.dumps(catalog, ensure_ascii=False).encode("utf-8")
    response = admin.post("/admin/catalog", {"file": (io.BytesIO(data), "catalog.json")},
                          content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    [entry] = _entries(app, "catalog_import")
    assert entry.actor_name and entry.object.startswith("9")


def test_the_case_page_masks_numbers_until_a_reveal_with_a_reason(app, agent, case_id):
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert GOOD_ID not in page and PHONE not in page and AGENT_ID not in page
    assert "110105********002X" in page and "显示完整号码" in page

    refused = agent.post(f"/cases/{case_id}/reveal", {"reason": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "请选择显示完整号码的理由" in text and GOOD_ID not in text and PHONE not in text
    other = agent.post(f"/cases/{case_id}/reveal", {"reason": "other", "reason_text": "  "})
    assert other.status_code == 400 and "请写明理由" in other.get_data(as_text=True)
    assert _entries(app, "reveal") == []

    shown = agent.post(f"/cases/{case_id}/reveal", {"reason": "other", "reason_text": "社保局电话核对"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert GOOD_ID in text and PHONE in text and AGENT_ID in text and "已记入访问日志" in text
    assert shown.headers["Cache-Control"].startswith("no-store")
    [entry] = _entries(app, "reveal")
    assert "社保局电话核对" in entry.detail and "110105********002X" in entry.detail

    again = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert GOOD_ID not in again  # for that one page view only


def test_no_full_number_is_written_into_the_log(app, agent, case_id):
    agent.get(f"/cases/?q={GOOD_ID}")
    agent.get(f"/cases/?q={PHONE}")
    agent.post(f"/cases/{case_id}/reveal", {"reason": "contact_resident"})
    text = " ".join(f"{e.object} {e.detail} {e.actor_name}" for e in _entries(app))
    assert "110105********002X" in text and "139****5678" in text
    assert GOOD_ID not in text and PHONE not in text and AGENT_ID not in text


def _verify_page(admin: StationClient) -> str:
    return admin.post("/admin/access-log").get_data(as_text=True)


def test_the_verify_button_says_a_whole_log_is_whole(app, agent, admin, case_id):
    agent.get(f"/cases/{case_id}")
    assert "日志完整" in _verify_page(admin)


def test_an_entry_removed_from_the_database_is_found(app, agent, admin, case_id):
    for _ in range(3):
        agent.get(f"/cases/{case_id}")
    middle = _entries(app)[3].seq
    with app.app_context(), db.connection_context():
        db.execute_sql("DELETE FROM access_log WHERE seq = ?", (middle,))
    assert f"第 {middle} 条记录已被删除" in _verify_page(admin)


def test_an_entry_altered_in_the_database_is_found(app, agent, admin, case_id):
    agent.get(f"/cases/{case_id}")
    target = _entries(app, "case_view")[-1].seq
    with app.app_context(), db.connection_context():
        db.execute_sql("UPDATE access_log SET actor_name = '别人' WHERE seq = ?", (target,))
    assert f"第 {target} 条记录的内容已被改动" in _verify_page(admin)


def test_a_tail_cut_off_in_the_database_is_found(app, agent, admin, case_id):
    agent.get(f"/cases/{case_id}")
    last = _entries(app)[-1].seq
    with app.app_context(), db.connection_context():
        db.execute_sql("DELETE FROM access_log WHERE seq >= ?", (last - 1,))
    assert "日志末尾被删除" in _verify_page(admin)


def test_a_head_reset_to_match_a_cut_tail_is_found(app, agent, admin, case_id):
    agent.get(f"/cases/{case_id}")
    with app.app_context(), db.connection_context():
        keep = _entries(app)[0]
        db.execute_sql("DELETE FROM access_log WHERE seq > ?", (keep.seq,))
        AccessLogHead.update(seq=keep.seq, hash=keep.hash).execute()
    assert "末尾标记已被改动" in _verify_page(admin)


def test_an_entry_rolls_back_with_what_it_records(app, database):
    with pytest.raises(RuntimeError), db.atomic():
        access_log.record("settings_station", actor_name="命令行", detail="改了又撤销")
        raise RuntimeError
    assert AccessLog.select().count() == 0
    assert access_log.verify().ok


def test_the_admin_searches_the_log_by_action_actor_case_and_date(app, agent, admin, case_id):
    agent.get(f"/cases/{case_id}")
    agent.get("/cases/")
    by_case = admin.get(f"/admin/access-log?case={case_id}").get_data(as_text=True)
    assert "查看办件详情" in by_case and "查看办件列表" not in by_case.split('id="access-log"')[1]
    by_action = admin.get("/admin/access-log?action=case_list").get_data(as_text=True).split('id="access-log"')[1]
    assert "查看办件列表" in by_action and "查看办件详情" not in by_action
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert "没有符合条件的记录" in admin.get(f"/admin/access-log?from={tomorrow}").get_data(as_text=True)
    with app.app_context(), db.connection_context():
        agent_name = User.get(User.username == "agent").name
    by_actor = admin.get("/admin/access-log?actor=admin").get_data(as_text=True).split('id="access-log"')[1]
    assert agent_name not in by_actor


def test_an_idle_logout_is_recorded(app, agent):
    from tests.station.test_login_security import _age_session

    _age_session(agent, 31)
    assert agent.get("/cases/").status_code == 302
    [entry] = _entries(app, "logout")
    assert entry.role == "agent" and "长时间未操作" in entry.detail
    assert _entries(app, "case_list") == []  # the refused page was not shown, so not logged as seen


def test_a_print_is_listed_under_its_case_number_not_the_papers_code_name(app, agent, admin, case_id):
    for doc in ("receipt", "receipt_roll"):
        assert agent.get(f"/cases/{case_id}/print/{doc}").status_code == 200
    with app.app_context(), db.connection_context():
        case_no = Case.get_by_id(case_id).case_no
    rows = admin.get("/admin/access-log?action=print").get_data(as_text=True).split('id="access-log"')[1]
    assert rows.count(f">{case_no}</a>") == 2  # the link to the case reads as its 办件编号
    for code_name in ("receipt", "receipt_roll"):
        assert f">{code_name}<" not in rows  # an English code name the admin cannot read


def test_a_settings_change_is_listed_under_a_chinese_name(app, admin):
    admin.post("/admin/station", {"code": "ST141081102201", "name": "改名后的服务站", "level": "village",
                                  "area_code": "141081102201"})
    rows = admin.get("/admin/access-log?action=settings_station").get_data(as_text=True).split('id="access-log"')[1]
    assert "修改站点设置" in rows
    assert "<td>station</td>" not in rows and "<td>settings</td>" not in rows  # no code word in the 对象 column


def test_a_number_typed_into_a_note_is_masked_on_the_case_page_as_at_the_county(app, agent, case_id):
    response = agent.post(f"/cases/{case_id}/notes", {"text": f"申请人女儿电话{PHONE}，下午回电；身份证{GOOD_ID}"})
    assert response.status_code == 302
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "申请人女儿电话" in timeline and "139****5678" in timeline  # the note itself is there …
    assert "，下午回电" in timeline  # (each masked number carries its own 显示 control, in between)
    assert PHONE not in page and GOOD_ID not in page  # … with its numbers masked until a reveal
