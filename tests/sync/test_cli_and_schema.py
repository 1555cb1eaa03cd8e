"""The command line, the app factory's configuration, and migrations matching the models."""

from __future__ import annotations

import re

import pytest

from sync.hub import create_app
from sync.hub.__main__ import main
from sync.hub.database import migrate
from sync.hub.extensions import db
from sync.hub.models import MODELS, HubUser, Station


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Point the CLI at a fresh instance folder, whatever the developer's environment says."""
    for name in ("DATABASE_URL", "SECRET_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "inst"))
    yield tmp_path / "inst"
    if not db.is_closed():
        db.close()


def test_add_station_prints_credentials_once(cli_env, capsys):
    assert main(["add-station", "ST01", "甲村便民服务站"]) == 0
    out = capsys.readouterr().out
    secret = re.search(r"station_secret = (\S+)", out).group(1)
    assert "ST01" in out and len(secret) >= 40
    app = create_app()
    with app.app_context():
        assert Station.by_code("ST01").secret == secret
    assert main(["add-station", "ST01", "again"]) == 1
    assert "已存在" in capsys.readouterr().err


def test_rotate_secret(cli_env, capsys):
    main(["add-station", "ST01", "甲村"])
    old = re.search(r"station_secret = (\S+)", capsys.readouterr().out).group(1)
    assert main(["rotate-secret", "ST01"]) == 0
    new = re.search(r"station_secret = (\S+)", capsys.readouterr().out).group(1)
    assert new != old


def test_create_user_with_password_flag_and_prompt(cli_env, monkeypatch, capsys):
    assert main(["create-user", "clerk1", "--password", "long-enough-pw"]) == 0
    answers = iter(["another-password", "another-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["create-user", "clerk2"]) == 0
    assert main(["create-user", "clerk3", "--password", "short"]) == 1
    app = create_app()
    with app.app_context():
        assert {u.username for u in HubUser.select()} == {"clerk1", "clerk2"}
        assert "long-enough-pw" not in HubUser.get(HubUser.username == "clerk1").password_hash


def test_create_user_role_option(cli_env, capsys):
    """New users are approvers; --role admin makes a county admin; --role on an existing name changes it."""
    assert main(["create-user", "judge", "--password", "long-enough-pw"]) == 0
    assert main(["create-user", "boss", "--password", "long-enough-pw", "--role", "admin"]) == 0
    assert "县级管理员" in capsys.readouterr().out
    assert main(["create-user", "judge", "--password", "long-enough-pw", "--role", "admin"]) == 0
    with pytest.raises(SystemExit):
        main(["create-user", "x", "--password", "long-enough-pw", "--role", "root"])
    with create_app().app_context():
        assert {u.username: u.role for u in HubUser.select()} == {"judge": "admin", "boss": "admin"}
    assert main(["create-user", "judge", "--password", "long-enough-pw", "--role", "approver"]) == 0
    with create_app().app_context():
        assert HubUser.get(HubUser.username == "judge").role == "approver"


def test_init_generates_secret_key_once(cli_env):
    assert main(["init"]) == 0
    key = (cli_env / "secret_key").read_text()
    assert len(key) == 64
    assert create_app().config["SECRET_KEY"] == key


def test_migrations_match_models(hub_app):
    """The frozen 0001 migration creates exactly the columns the models expect."""
    database = hub_app.extensions["hub_db"]
    with database.connection_context():
        for model in MODELS:
            table = model._meta.table_name
            columns = {c.name for c in database.get_columns(table)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, table
        assert migrate(database) == []  # idempotent on restart


@pytest.mark.postgres
def test_migrations_on_postgres(pg_hub_app):
    database = pg_hub_app.extensions["hub_db"]
    with database.connection_context():
        for model in MODELS:
            columns = {c.name for c in database.get_columns(model._meta.table_name)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}
        assert migrate(database) == []


def test_openapi_lists_every_api_route(hub_app):
    """docs/hub-openapi.yaml documents every route of the API blueprint."""
    from pathlib import Path

    spec = (Path(__file__).resolve().parents[2] / "docs" / "hub-openapi.yaml").read_text(encoding="utf-8")
    for rule in hub_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
            assert f"\n  {path}:" in spec, path
