"""A second device at one station, as the hub sees it: its own key, revocable, its own numbers."""

from __future__ import annotations

import getpass

from click.testing import CliRunner

from sync.hub.cli import cli
from sync.hub.extensions import db
from sync.hub.models import HubAccessLog
from sync.hub.services import access_log, devices
from tests.fixtures.hub import SignedStation, case_snapshot


def _device(hub_app, station, name: str = "上门笔记本") -> SignedStation:  # noqa: ANN001
    with hub_app.app_context():
        device, secret = devices.add_device(station.code, name)
    signed = SignedStation(hub_app, station.code, secret)
    signed.device = device.number
    return signed


def test_a_device_signs_with_its_own_key_and_gets_answers_signed_with_it(hub_app, station_a):
    laptop = _device(hub_app, station_a)
    response = laptop.changes()
    assert response.status_code == 200 and laptop.last_verified
    laptop.secret = station_a.secret  # the station's key under the device's number
    assert laptop.changes().json["error"] == "bad_signature"


def test_a_device_number_the_station_never_registered_is_refused(hub_app, station_a):
    laptop = _device(hub_app, station_a)
    laptop.device = 7
    response = laptop.changes()
    assert response.status_code == 401 and response.json["error"] == "unknown_device"
    assert "未在县级平台登记" in response.json["message"]


def test_a_device_of_another_station_cannot_sign_for_this_one(hub_app, station_a, station_b):
    laptop = _device(hub_app, station_b)
    laptop.code = station_a.code  # device 1 of B presents itself as device 1 of A
    _device(hub_app, station_a)
    assert laptop.changes().json["error"] == "bad_signature"


def test_a_revoked_device_is_refused_with_the_reason_and_the_station_goes_on(hub_app, station_a, make_event):
    laptop = _device(hub_app, station_a)
    with hub_app.app_context():
        devices.revoke_device(station_a.code, "上门笔记本", "笔记本遗失")
    response = laptop.batch([make_event()])
    assert response.status_code == 401 and response.json["error"] == "device_revoked"
    assert "笔记本遗失" in response.json["message"] and "停用" in response.json["message"]
    assert station_a.results([make_event()])[0]["status"] == "accepted"


def test_restore_on_a_device_learns_only_its_own_case_numbers(hub_app, station_a, make_event):
    laptop = _device(hub_app, station_a)
    day = "20261201"
    station_a.results([make_event(payload=case_snapshot(case_no=f"141081102201{day}0007"))])
    laptop.results([make_event(payload=case_snapshot(case_no=f"141081102201{day}0002-01"))])
    assert laptop.request("GET", "/api/v1/station/state").json["case_numbers"] == {day: 2}
    assert station_a.request("GET", "/api/v1/station/state").json["case_numbers"] == {day: 7}


def test_cases_from_one_device_reach_the_others_but_not_itself(hub_app, station_a, make_event):
    laptop = _device(hub_app, station_a)
    [taken_on_laptop] = laptop.results([make_event(payload=case_snapshot(case_no="1410811022012026120100010-01"))])
    on_pc = [c for c in station_a.changes().json["changes"] if c["kind"] == "case.shared"]
    assert len(on_pc) == 1 and on_pc[0]["payload"]["origin_device"] == 1
    assert on_pc[0]["payload"]["snapshot"]["applicant"]["id_number"]  # whole, over the signed link
    assert taken_on_laptop["status"] == "accepted"
    page = laptop.changes().json
    assert not [c for c in page["changes"] if c["kind"] == "case.shared"]
    assert page["next_cursor"] >= on_pc[0]["change_id"]  # passed over, not waiting


def test_add_device_prints_its_number_and_secret_once_and_revoke_needs_a_reason(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "inst"))
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0  # every other command refuses a folder without a hub
    result = runner.invoke(cli, ["add-station", "ST09", "乙村"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["add-device", "ST09", "上门笔记本"])
    assert result.exit_code == 0, result.output
    assert "device = 1" in result.output and "device_secret = " in result.output
    assert "python -m station link --hub 县级平台地址 --code ST09 --device 1" in result.output  # the command to type
    assert runner.invoke(cli, ["add-device", "ST09", "上门笔记本"]).exit_code == 1  # the name is taken
    result = runner.invoke(cli, ["revoke-device", "ST09", "上门笔记本", "--reason", " "])
    assert result.exit_code == 1 and "停用原因" in result.output
    result = runner.invoke(cli, ["list-devices", "ST09"])
    assert "上门笔记本" in result.output and "在用" in result.output
    if not db.is_closed():
        db.close()


def test_adding_and_revoking_a_device_at_the_command_line_is_in_the_access_log(hub_app, station_a, county_admin,
                                                                               monkeypatch):
    from sync.hub import cli as hub_cli

    monkeypatch.setattr(hub_cli, "_app", lambda: hub_app)
    monkeypatch.setattr(getpass, "getuser", lambda: "zhangsan")
    runner = CliRunner()
    assert runner.invoke(cli, ["add-device", "ST-A", "上门笔记本"]).exit_code == 0
    assert runner.invoke(cli, ["add-device", "ST-A", "上门笔记本"]).exit_code == 1  # refused: nothing to log
    assert runner.invoke(cli, ["revoke-device", "ST-A", "上门笔记本", "--reason", "笔记本遗失"]).exit_code == 0
    with hub_app.app_context(), db.connection_context():
        entries = [(e.action, e.actor_name, e.object, e.detail) for e in HubAccessLog.select().where(
            HubAccessLog.action.in_(("device_add", "device_revoke"))).order_by(HubAccessLog.seq)]
        assert access_log.verify().ok
    assert entries == [
        ("device_add", "命令行（zhangsan）", "ST-A/1", "登记设备“上门笔记本”（第 1 号），密钥已在命令行显示一次"),
        ("device_revoke", "命令行（zhangsan）", "ST-A/1", "停用设备“上门笔记本”：笔记本遗失")]
    page = county_admin.get("/access-log").get_data(as_text=True)
    assert "命令行（zhangsan）" in page and "登记站点设备" in page and "停用站点设备" in page
    assert "device_secret" not in page
