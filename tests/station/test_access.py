"""Every route checks the role; anonymous users are sent to the login page; CSRF is required."""

from __future__ import annotations

import re

import pytest

OPEN_ENDPOINTS = {"auth.login", "static", "main.toggle_large_font", "public.query",  # public by design
                  "kiosk.page", "kiosk.rate"}  # the rating tablet: only a signed link the agent opened (test_ratings_and_notices)
# Who may use each route: every blueprint is named here, and so is every route of it that not all staff may use,
# so that a new blueprint fails test_every_route_is_given_its_roles until someone says who may use it.
ADMIN_ONLY = ("admin.", "villages.village_list", "appointments.offer", "library.validity")
TOWNSHIP_ONLY = ("sync.", "reports.", "printing.ledger_pdf", "usb.export_return")
FRONT_OFFICE_BLUEPRINTS = {"main", "auth", "catalog", "intake", "cases", "follow_up", "library", "printing",
                           "transfers", "kiosk", "notify", "profile", "appointments", "visits", "usb"}


def allowed_roles(endpoint: str) -> set[str]:
    """The roles the table above lets use ``endpoint`` (a blueprint it does not name: none)."""
    if endpoint.startswith(ADMIN_ONLY):
        return {"admin"}
    if endpoint.startswith(TOWNSHIP_ONLY):
        return {"clerk", "admin"}
    return {"agent", "clerk", "admin"} if endpoint.partition(".")[0] in FRONT_OFFICE_BLUEPRINTS else set()


def _url(rule) -> str:  # noqa: ANN001
    def value(match: re.Match) -> str:
        converter, name = match.group(1) or "", match.group(2)
        return "2026" if converter.startswith("int") else ("1" if name.endswith("id") else "x")

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def _routes(app):  # noqa: ANN001, ANN202
    """Every route but the open ones, logout last (it ends the session the others are tried in)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _url(rule)


def test_every_route_sends_anonymous_users_to_login(app, client):
    client.fetch_token("/login")
    checked = 0
    for endpoint, method, url in _routes(app):
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 302, (endpoint, method, url, response.status_code)
        assert "/login" in response.headers["Location"], (endpoint, url)
        checked += 1
    assert checked > 20


def test_every_route_is_given_its_roles(app):
    unnamed = sorted({endpoint for endpoint, _method, _url in _routes(app) if not allowed_roles(endpoint)})
    assert unnamed == [], "say who may use these routes (ADMIN_ONLY, TOWNSHIP_ONLY or FRONT_OFFICE_BLUEPRINTS)"


@pytest.mark.parametrize(("role", "least"), [("agent", 15), ("clerk", 10), ("admin", 0)])
def test_each_role_is_refused_every_route_it_must_not_use_and_only_those(app, role, least, request):
    user = request.getfixturevalue(role)
    forbidden = 0
    for endpoint, method, url in _routes(app):
        response = user.get(url) if method == "GET" else user.post(url)
        if role in allowed_roles(endpoint):
            assert response.status_code != 403, (role, endpoint, method, url)
            continue
        assert response.status_code == 403, (role, endpoint, method, url, response.status_code)
        assert "无权" in response.get_data(as_text=True)
        forbidden += 1
    assert forbidden >= least


def test_every_form_route_refuses_a_post_without_the_csrf_token(app, admin):
    """Logged in with every right, a POST that lacks the token (another site's form) changes nothing: 400."""
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        if "POST" not in rule.methods:
            continue
        response = admin.client.post(_url(rule), data={})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "安全令牌" in response.get_data(as_text=True), rule.endpoint
        checked += 1
    assert checked > 30


def test_admin_reaches_admin_pages(admin):
    for url in ("/admin/users", "/admin/station", "/admin/holidays", "/admin/items", "/admin/catalog",
                "/admin/access-log"):
        assert admin.get(url).status_code == 200, url


def test_login_refused_without_csrf_token(client):
    response = client.client.post("/login", data={"username": "agent", "password": "agent-pass-1"})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)


def test_intake_refused_without_csrf_token_and_nothing_saved(app, agent):
    from station.extensions import db
    from station.models import Case

    response = agent.client.post("/intake/item/1", data={"mode": "assisted"})
    assert response.status_code == 400
    with app.app_context(), db.connection_context():
        assert Case.select().count() == 0


def test_wrong_password_and_disabled_user(app, client, admin):
    client.fetch_token("/login")
    page = client.post("/login", data={"username": "agent", "password": "nope"}).get_data(as_text=True)
    assert "用户名或密码不正确" in page
    from station.extensions import db
    from station.models import User

    with app.app_context(), db.connection_context():
        agent_id = User.get(User.username == "agent").id
    admin.post(f"/admin/users/{agent_id}/active", {"active": "0"})
    client.fetch_token("/login")
    page = client.post("/login", data={"username": "agent", "password": "agent-pass-1"}).get_data(as_text=True)
    assert "已停用" in page


def test_a_forged_active_value_is_refused_and_the_user_stays_active(app, admin):
    from station.extensions import db
    from station.models import AccessLog, User

    def state():  # noqa: ANN202
        with app.app_context(), db.connection_context():
            return User.get(User.username == "agent").active, AccessLog.select().count()

    with app.app_context(), db.connection_context():
        agent_id = User.get(User.username == "agent").id
    before = state()
    for forged in ("x", "", "true"):
        response = admin.post(f"/admin/users/{agent_id}/active", {"active": forged})
        assert response.status_code == 400 and "启用或停用的请求无效，未做任何修改" in response.get_data(as_text=True)
        assert state() == before
    assert admin.post(f"/admin/users/{agent_id}/active", {"active": "0"}).status_code == 302  # the form's own value
    assert state()[0] is False


def test_login_never_redirects_off_site(client):
    client.fetch_token("/login")
    response = client.client.post(
        "/login?next=https://evil.example/x",
        data={"username": "agent", "password": "agent-pass-1", "csrf_token": client.token},
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite(client):
    client.fetch_token("/login")
    response = client.client.post(
        "/login", data={"username": "agent", "password": "agent-pass-1", "csrf_token": client.token}
    )
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_reset_logs_the_account_out_everywhere(app, agent, admin):
    from station.extensions import db
    from station.models import User

    assert agent.get("/").status_code == 200
    with app.app_context(), db.connection_context():
        agent_id = User.get(User.username == "agent").id
    admin.post(f"/admin/users/{agent_id}/password", {"password": "new-pass-77"})
    response = agent.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_large_font_toggle_never_redirects_off_site(client, target):
    client.fetch_token("/login")
    response = client.post("/large-font", {"next": target})
    assert response.headers["Location"] == "/"
