"""`python -m station bundle …` as an operator types it: export at the village, import at the township."""

from __future__ import annotations

import base64
import getpass

import pytest

from station.cli import cli
from station.extensions import db
from station.models import AccessLog
from tests.station.test_cli import runner  # noqa: F401 - the fixture without the developer's variables


def init(runner, folder, code, area, level):  # noqa: ANN001, ANN201, F811
    args = ["--instance", str(folder)]
    assert runner.invoke(cli, [*args, "init", "--code", code, "--name", "站", "--area-code", area,
                               "--level", level]).exit_code == 0
    assert runner.invoke(cli, [*args, "link", "--hub", "http://127.0.0.1:9/", "--code", code,
                               "--secret", code + "-secret-0123456789"]).exit_code == 0
    return args


def _logged(action: str) -> list[str]:
    """Who the access log of the station the last command ran at names for ``action``."""
    with db.connection_context():
        return [e.actor_name for e in AccessLog.select().where(AccessLog.action == action)]


def test_export_then_import_at_the_township_and_a_second_import_is_refused(runner, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(getpass, "getuser", lambda: "lishi")  # the OS account at the PC
    village = init(runner, tmp_path / "village", "ST141081102201", "141081102201", "village")
    township = init(runner, tmp_path / "township", "ST141081102000", "141081102000", "township")
    stick = tmp_path / "stick.bmz"
    made = runner.invoke(cli, [*village, "bundle", "export", str(stick)])
    assert made.exit_code == 0, made.output
    assert "已导出第 1 号离线包" in made.output and stick.read_bytes().startswith(b"BMZUSB1\n")
    assert _logged("usb_export") == ["命令行（lishi）"]
    taken = runner.invoke(cli, [*township, "bundle", "import", str(stick)])
    assert taken.exit_code == 0 and "已导入 ST141081102201 的第 1 号离线包" in taken.output
    assert _logged("usb_import") == ["命令行（lishi）"]
    again = runner.invoke(cli, [*township, "bundle", "import", str(stick)])
    assert again.exit_code == 1 and "未导入：" in again.output and "已于" in again.output
    back = runner.invoke(cli, [*township, "bundle", "export-return", "ST141081102201", str(tmp_path / "r.bmz")])
    assert back.exit_code == 1 and "还没有" in back.output and not (tmp_path / "r.bmz").exists()


def test_the_townships_sync_says_what_became_of_each_villages_bundle(runner, tmp_path, monkeypatch):  # noqa: F811
    from sync.summary import SyncSummary

    township = init(runner, tmp_path / "township", "ST141081102000", "141081102000", "township")
    told = ["离线包 ST141081102201 第 1 号已转发县级，回执包可以导出了", "离线包 ST141081102202 第 3 号县级拒收：密钥不对"]
    monkeypatch.setattr("station.cli.sync_round", lambda app, hooks: SyncSummary(details=list(told)))
    result = runner.invoke(cli, [*township, "sync", "--once"])
    assert result.exit_code == 0, result.output
    assert [line.strip() for line in result.output.splitlines()[1:]] == told


def test_export_onto_a_stick_that_is_not_there_says_so_and_takes_no_bundle_number(runner, tmp_path):  # noqa: F811
    village = init(runner, tmp_path / "village", "ST141081102201", "141081102201", "village")
    missing = tmp_path / "F盘" / "离线包.bmz"
    result = runner.invoke(cli, [*village, "bundle", "export", str(missing)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "未导出：无法写入" in result.output and "U盘或移动硬盘未插好" in result.output
    assert not missing.parent.exists()
    again = runner.invoke(cli, [*village, "bundle", "export", str(tmp_path / "离线包.bmz")])
    assert "已导出第 1 号离线包" in again.output  # the failed try took no number


def test_a_return_bundle_onto_a_stick_that_is_not_there_says_so_and_can_be_exported_again(runner, tmp_path):  # noqa: F811
    from station import create_app
    from sync.relay import forward_waiting
    from tests.station.test_usb_bundles import CountyAnswers, county_answer

    village = init(runner, tmp_path / "village", "ST141081102201", "141081102201", "village")
    township = init(runner, tmp_path / "township", "ST141081102000", "141081102000", "township")
    stick = tmp_path / "stick.bmz"
    assert runner.invoke(cli, [*village, "bundle", "export", str(stick)]).exit_code == 0
    assert runner.invoke(cli, [*township, "bundle", "import", str(stick)]).exit_code == 0
    village_app = create_app(instance_path=str(tmp_path / "village"))
    answer = county_answer(village_app, 1, secret="ST141081102201-secret-0123456789")
    county = CountyAnswers((200, {"counts": {"accepted": 1}, "results": [],
                                  "return_bundle": base64.b64encode(answer).decode("ascii")}))
    with create_app(instance_path=str(tmp_path / "township")).app_context(), db.connection_context():
        forward_waiting(county)
    missing = tmp_path / "F盘" / "r.bmz"
    result = runner.invoke(cli, [*township, "bundle", "export-return", "ST141081102201", str(missing)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "未导出：无法写入" in result.output and "可以再次导出" in result.output
    assert _return_state(tmp_path / "township") == "回执包待导出"  # the page does not claim it went out
    back = runner.invoke(cli, [*township, "bundle", "export-return", "ST141081102201", str(tmp_path / "r.bmz")])
    assert back.exit_code == 0 and (tmp_path / "r.bmz").read_bytes() == answer
    assert _return_state(tmp_path / "township") == "回执包已导出"


def _return_state(folder) -> str:  # noqa: ANN001
    from station import create_app
    from sync.relay import DOWN, RelayBundle

    with create_app(instance_path=str(folder)).app_context(), db.connection_context():
        return RelayBundle.get(RelayBundle.direction == DOWN).state_label


def test_the_instance_folder_may_follow_the_word_bundle_too(runner, tmp_path):  # noqa: F811
    init(runner, tmp_path / "village", "ST141081102201", "141081102201", "village")
    stick = tmp_path / "stick.bmz"
    made = runner.invoke(cli, ["bundle", "--instance", str(tmp_path / "village"), "export", str(stick)])
    assert made.exit_code == 0, made.output
    assert "已导出第 1 号离线包" in made.output and stick.exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_set_aside_reason_printed_by_sync_has_its_numbers_masked(runner, tmp_path, monkeypatch, as_json):  # noqa: F811
    from sync.summary import SyncSummary

    village = init(runner, tmp_path / "village", "ST141081102201", "141081102201", "village")
    reason = "01M8VHPMQ7YVDXVQXR3BDET2SC #2: 申请人身份证号 11010519491231002X 与姓名不符，电话 13912345678"
    monkeypatch.setattr("station.cli.sync_round", lambda app, hooks: SyncSummary(rejected=1, details=[reason]))
    result = runner.invoke(cli, [*village, "sync", "--once", *(["--json"] if as_json else [])])
    assert "110105********002X" in result.output and "139****5678" in result.output
    assert "11010519491231002X" not in result.output and "13912345678" not in result.output
