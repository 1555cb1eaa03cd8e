"""The hub's logins, county roles and safety headers: approvers decide cases, county admins also
publish catalogs and set stations; lockouts, idle sessions and ended sessions as on the station."""

from __future__ import annotations

import hashlib
import re

import pytest

from sync.hub.database import open_database, runner
from sync.hub.services import users
from tests.fixtures.hub import CLERK_PASSWORD, case_snapshot, login
from tests.fixtures.scans import JPEG, PDF
from tests.station.test_headers import assert_safety_headers

OPEN = {"static", "auth.login", "public.form", "public.progress", "public.rate"}  # the resident's page: no login by design
OPEN |= {"booking.stations", "booking.form", "booking.submit", "booking.find", "booking.show", "booking.cancel"}  # 预约, too
ADMIN_ONLY = ("catalog.", "access_log.", "peers.", "holidays.")


def _url(rule) -> str:  # noqa: ANN001
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)


def _web_routes(app):  # noqa: ANN001, ANN202
    """Every route of the county's web pages (the API is authenticated by station signatures); logout last."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        if rule.endpoint in OPEN or rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _url(rule)


def _send(client, method: str, url: str):  # noqa: ANN001, ANN202
    """A request as a page would make it (GET, or a form POST with the CSRF token)."""
    if method == "GET":
        return client.get(url)
    return client.csrf_post(url, {}, token_page="/cases")


def test_every_page_needs_a_login(hub_client):
    """Anonymous: every page and every form (posted with the token any visitor gets on the login page) is sent
    to the login page."""
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                      hub_client.get("/login").get_data(as_text=True)).group(1)
    checked = 0
    for endpoint, method, url in _web_routes(hub_client.application):
        response = hub_client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert "/login" in response.headers["Location"], endpoint
        checked += 1
    assert checked >= 9


def test_approver_is_refused_county_admin_work_with_a_chinese_page(hub_app, approver, station_a):
    refused = 0
    for endpoint, method, url in _web_routes(hub_app):
        response = _send(approver, method, url.replace("/stations/x", "/stations/ST-A"))
        admin_only = endpoint.startswith(ADMIN_ONLY) or (
            endpoint in ("clerk.station_detail", "numbers.county_settings_page", "station_pages.device_revoke",
                         "station_pages.device_add")
            and method == "POST")
        if admin_only:
            assert response.status_code == 403, (endpoint, method, response.status_code)
            assert "无权" in response.get_data(as_text=True)
            refused += 1
        else:
            assert response.status_code != 403, (endpoint, method)
    assert refused >= 3


def test_county_admin_reaches_every_page(hub_app, county_admin, station_a):
    for endpoint, method, url in _web_routes(hub_app):
        response = _send(county_admin, method, url.replace("/stations/x", "/stations/ST-A"))
        assert response.status_code != 403, (endpoint, method)


def test_approver_decides_cases_but_cannot_publish_or_set_stations(hub_app, approver, station_a, make_event):
    event = make_event()
    station_a.results([event])
    decided = approver.csrf_post(f"/cases/{event['case_id']}/decide", {"kind": "accepted", "hub_case_no": "X1"},
                              token_page=f"/cases/{event['case_id']}", follow_redirects=True)
    assert "已受理" in decided.get_data(as_text=True)
    assert approver.csrf_post("/catalog", {"catalog": "{}"}, token_page="/cases").status_code == 403
    page = approver.get("/stations/ST-A").get_data(as_text=True)
    assert "保存并下发" not in page and "目录发布" not in page
    refused = approver.csrf_post("/stations/ST-A", {"sync_interval_seconds": "60"})
    assert refused.status_code == 403
    assert [c["kind"] for c in station_a.changes().json["changes"]] == ["case.status"]  # the decision only


def test_every_route_answers_with_the_safety_headers(hub_app, hub_client, county_admin, station_a):
    checked = 0
    for rule in sorted(hub_app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = "/static/hub.css" if rule.endpoint == "static" else _url(rule).replace("/stations/x", "/stations/ST-A")
            for client in (hub_client, county_admin.client):
                assert_safety_headers(rule.endpoint, client.open(url, method=method))
                checked += 1
    assert checked > 30


def test_a_station_setting_that_is_an_address_must_be_http(hub_app, county_admin, station_a):
    bad = {"query_url_base": "javascript:alert(1)"}
    page = county_admin.csrf_post("/stations/ST-A", bad).get_data(as_text=True)
    assert "本站查询页地址（回执二维码）：网址只能以 http:// 或 https:// 开头" in page
    assert "设置 query_url_base" not in page  # the message names the field as the form does
    assert station_a.changes().json["changes"] == []
    good = {"query_url_base": "https://zwfw.example.gov.cn/q"}
    county_admin.csrf_post("/stations/ST-A", good)
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["settings"] == good


def test_a_station_is_never_set_as_its_own_township_centre(hub_app, county_admin, station_a, station_b):
    response = county_admin.csrf_post("/stations/ST-A", {"township": "ST-A"})
    page = response.get_data(as_text=True)
    assert "不能填写本站自己的站点编码 ST-A" in page and "站点设置已保存" not in page
    assert station_a.changes().json["changes"] == []  # nothing sent down
    county_admin.csrf_post("/stations/ST-A", {"township": "ST-B"})
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["settings"] == {"township": "ST-B"}


@pytest.mark.parametrize(("data", "declared_name", "mimetype", "served_name"), [
    (JPEG, "身份证.html", "text/html", "身份证.jpg"),
    (PDF, "申请表.jpg", "image/jpeg", "申请表.pdf"),
    (b"<html><script>alert(1)</script></html>", "scan.jpg", "image/jpeg", "scan.bin"),
])
def test_scans_download_under_the_type_their_bytes_say(hub_app, station_a, make_event, approver,
                                                        data, declared_name, mimetype, served_name):
    from sync import protocol

    sha = hashlib.sha256(data).hexdigest()
    station_a.request("PUT", f"/api/v1/attachments/{sha}", data, headers={
        "Content-Range": protocol.content_range(0, len(data) - 1, len(data)), "Content-Type": mimetype})
    event = make_event(payload=case_snapshot(attachments=[
        {"sha256": sha, "filename": declared_name, "size": len(data), "content_type": mimetype}]))
    station_a.results([event])
    response = approver.get(f"/cases/{event['case_id']}/attachments/{sha}")
    assert response.status_code == 200 and response.data == data
    expected = {"jpg": "image/jpeg", "pdf": "application/pdf", "bin": "application/octet-stream"}
    assert response.mimetype == expected[served_name.rsplit(".", 1)[1]]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and served_name.rsplit(".", 1)[1] in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _try(app, username: str, password: str, address: str = "10.0.0.7"):  # noqa: ANN001, ANN202
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return login(client, username, password)


def test_five_wrong_passwords_lock_the_account(hub_app, approver):
    for _ in range(4):
        assert "用户名或密码错误" in _try(hub_app, "clerk", "wrong-guess-1").get_data(as_text=True)
    assert "账号已锁定 15 分钟" in _try(hub_app, "clerk", "wrong-guess-1").get_data(as_text=True)
    locked = _try(hub_app, "clerk", CLERK_PASSWORD, address="10.0.0.8")
    assert locked.status_code == 429 and "账号已锁定" in locked.get_data(as_text=True)


def test_one_address_trying_many_names_is_refused(hub_app, approver):
    for n in range(20):
        _try(hub_app, f"guess{n}", "wrong-guess-1", address="10.9.9.9")
    page = _try(hub_app, "clerk", CLERK_PASSWORD, address="10.9.9.9")
    assert page.status_code == 429 and "该地址尝试过多，请稍后再试" in page.get_data(as_text=True)
    assert _try(hub_app, "clerk", CLERK_PASSWORD, address="10.9.9.10").status_code == 302


@pytest.mark.parametrize("username", ["clerk", "no-such-user"])
def test_known_and_unknown_names_both_run_the_password_hash(hub_app, approver, monkeypatch, username):
    import websec.logins

    hashed = []
    real = websec.logins.check_password_hash
    monkeypatch.setattr(websec.logins, "check_password_hash", lambda h, p: hashed.append(h) or real(h, p))
    assert "用户名或密码错误" in _try(hub_app, username, "wrong-guess-1").get_data(as_text=True)
    assert len(hashed) == 1 and hashed[0].startswith("scrypt:")


def test_an_idle_session_must_log_in_again(hub_app, approver):
    with approver.client.session_transaction() as session:
        session["_seen"] -= 31 * 60
    response = approver.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert approver.get("/cases").status_code == 302


def test_a_cookie_replayed_after_logout_is_refused(hub_app, approver):
    copied = approver.client.get_cookie("session").value
    approver.csrf_post("/logout", {}, token_page="/cases")
    thief = hub_app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/cases").status_code == 302


@pytest.mark.parametrize("change", [lambda: users.set_password("clerk", "another-long-pw"),
                                    lambda: users.set_role("clerk", "admin")])
def test_a_password_reset_or_role_change_ends_open_sessions(hub_app, approver, change):
    assert approver.get("/cases").status_code == 200
    with hub_app.app_context():
        change()
    assert approver.get("/cases").status_code == 302


def test_users_from_before_the_role_split_become_county_admins(hub_app, tmp_path):
    """An upgrade takes nothing away: existing users keep publishing; new ones start as approvers."""
    database = open_database(None, str(tmp_path / "old-hub.sqlite3"))
    with database.connection_context():
        migrations = runner(database)
        migrations.up("0001_initial")
        database.execute_sql("INSERT INTO hub_user (username, name, password_hash, active, created_at) "
                             "VALUES ('old', 'old', 'x', 1, '2026-01-01 00:00:00')")
        assert "0002_login_security" in migrations.up()
        role, token = database.execute_sql("SELECT role, session_token FROM hub_user").fetchone()
    database.close_all()
    assert role == "admin" and len(token) == 32
    with hub_app.app_context():
        assert users.create_user("newcomer", "long-enough-pw").role == "approver"


def test_behind_a_trusted_proxy_lockouts_count_the_client_not_the_proxy(tmp_path):
    from sync.hub import create_app
    from tests.fixtures.config import hub_test_config

    app = create_app(hub_test_config(TRUSTED_PROXIES=1), tmp_path / "hub-instance")
    for n in range(20):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
        login(client, f"guess{n}", "wrong-guess-1")
    other = app.test_client()
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.6"
    assert "该地址尝试过多" not in login(other, "guess0", "wrong-guess-1").get_data(as_text=True)
    same = app.test_client()
    same.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
    assert "该地址尝试过多" in login(same, "guess0", "wrong-guess-1").get_data(as_text=True)


def test_a_row_number_past_what_the_database_holds_is_not_found_not_an_error(hub_app, county_admin):
    """An edited link (/transfers/99999999999999999999) overflowed SQLite's integer: a 500 on every such page."""
    checked = 0
    for rule in hub_app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(2**64) if m.group(1) == "int" else "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert _send(county_admin, method, url).status_code == 404, (rule.endpoint, method)
            checked += 1
    assert checked >= 5  # the 整改, the transfer and the conflict pages and their forms


def test_a_superscript_digit_in_a_station_setting_is_refused_in_chinese(hub_app, county_admin, station_a):
    page = county_admin.csrf_post("/stations/ST-A", {"sync_interval_seconds": "6²"}).get_data(as_text=True)
    assert "自动同步间隔（秒）应为 10 到 86400 之间的整数" in page  # isdigit() took it and int() raised: a 500
    assert station_a.changes().json["changes"] == []
    county_admin.csrf_post("/stations/ST-A", {"sync_interval_seconds": "６０"})  # full-width, as an IME types it
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["settings"] == {"sync_interval_seconds": 60}
