"""Logins that resist guessing: lockouts per account and per address, equal work for unknown names,
idle sessions logged out, and logout or a password reset ending every copy of the cookie."""

from __future__ import annotations

from pathlib import Path

import pytest

from station import create_app
from station.extensions import db
from station.models import User
from tests.fixtures.config import station_test_config
from tests.fixtures.station import PASSWORDS, StationClient


def _try(app, username: str, password: str, address: str = "10.0.0.7"):
    client = StationClient(app.test_client())
    client.client.environ_base["REMOTE_ADDR"] = address
    client.fetch_token("/login")
    return client.post("/login", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(app):
    for _ in range(4):
        assert "用户名或密码不正确" in _try(app, "agent", "wrong-guess-1").get_data(as_text=True)
    fifth = _try(app, "agent", "wrong-guess-1").get_data(as_text=True)
    assert "密码错误次数过多，账号已锁定 15 分钟" in fifth
    right = _try(app, "agent", PASSWORDS["agent"], address="10.0.0.8")
    assert right.status_code == 429 and "账号已锁定" in right.get_data(as_text=True)
    # another account from the same PC is not locked by agent's failures
    assert _try(app, "clerk", PASSWORDS["clerk"]).status_code == 302


def test_lockout_is_kept_in_the_database_and_survives_a_restart(app, tmp_path):
    for _ in range(5):
        _try(app, "agent", "wrong-guess-1")
    restarted = create_app(station_test_config(Path(app.config["DATABASE"]).parent), instance_path=app.instance_path)
    assert _try(restarted, "agent", PASSWORDS["agent"]).status_code == 429


def test_an_unknown_name_is_locked_the_same_way(app):
    for _ in range(5):
        _try(app, "nobody-here", "wrong-guess-1")
    assert "账号已锁定" in _try(app, "nobody-here", "x").get_data(as_text=True)


def test_one_address_trying_many_names_is_refused(app):
    for n in range(20):
        _try(app, f"guess{n}", "wrong-guess-1", address="10.9.9.9")
    page = _try(app, "agent", PASSWORDS["agent"], address="10.9.9.9")
    assert page.status_code == 429 and "该地址尝试过多，请稍后再试" in page.get_data(as_text=True)
    assert _try(app, "agent", PASSWORDS["agent"], address="10.9.9.10").status_code == 302


def test_a_right_password_clears_the_account_count(app):
    for _ in range(4):
        _try(app, "agent", "wrong-guess-1")
    assert _try(app, "agent", PASSWORDS["agent"]).status_code == 302
    for _ in range(4):
        _try(app, "agent", "wrong-guess-1")
    assert _try(app, "agent", PASSWORDS["agent"]).status_code == 302


@pytest.mark.parametrize("username", ["agent", "no-such-user"])
def test_known_and_unknown_names_both_run_the_password_hash(app, monkeypatch, username):
    import websec.logins

    hashed = []
    real = websec.logins.check_password_hash
    monkeypatch.setattr(websec.logins, "check_password_hash", lambda h, p: hashed.append(h) or real(h, p))
    assert "用户名或密码不正确" in _try(app, username, "wrong-guess-1").get_data(as_text=True)
    assert len(hashed) == 1 and hashed[0].startswith("scrypt:")


def test_login_page_offers_no_remember_me(client):
    page = client.get("/login").get_data(as_text=True)
    assert "保持登录" not in page and 'name="remember"' not in page


def _age_session(client: StationClient, minutes: int) -> None:
    with client.client.session_transaction() as session:
        session["_seen"] -= minutes * 60


def test_an_idle_session_must_log_in_again(app, agent):
    _age_session(agent, 29)
    assert agent.get("/").status_code == 200  # under the limit: still in, and the clock restarts
    _age_session(agent, 31)
    response = agent.get("/cases/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in agent.get("/login").get_data(as_text=True)
    assert agent.get("/").status_code == 302


def test_idle_timeout_is_a_setting(app, agent):
    app.config["IDLE_TIMEOUT_MINUTES"] = 5
    _age_session(agent, 6)
    assert agent.get("/").status_code == 302


def _cookie(client: StationClient) -> str:
    return client.client.get_cookie("session").value


def test_a_cookie_replayed_after_logout_is_refused(app, agent):
    copied = _cookie(agent)
    agent.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_reset_ends_sessions_on_every_pc(app, agent, admin):
    other_pc = StationClient(app.test_client()).login("agent")
    with app.app_context(), db.connection_context():
        agent_id = User.get(User.username == "agent").id
    admin.post(f"/admin/users/{agent_id}/password", {"password": "new-pass-77"})
    for client in (agent, other_pc):
        assert client.get("/").status_code == 302
