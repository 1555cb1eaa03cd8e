"""The county's licence register (免证办): licences issued by completed cases or imported, and the
stations' signed lookups — answered with the licence, refused with a reason, logged with who and why."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sync.hub.extensions import db
from sync.hub.models import HubAccessLog, Licence
from sync.hub.services import decisions, licences
from tests.fixtures.hub import case_snapshot

HOLDER = "110105194912310021"  # case_snapshot's applicant
CHINESE = re.compile(r"[\u4e00-\u9fff]")
DISABILITY_ITEM = {"item_code": "000116001000", "item_name": "残疾人证办理（新办）"}


def ask(station, **over):  # noqa: ANN001, ANN003, ANN201
    body = {"id_number": HOLDER, "kind": "残疾人证", "asked_by": "王代办", "reason": "收件核验材料：残疾人两项补贴", **over}
    return station.post_json("/api/v1/licences/lookup", body)


def complete(app, case_id: str, certificate_no: str) -> None:  # noqa: ANN001
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")
        decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved",
                                                          certificate_no=certificate_no), clerk="县级张")


def test_a_completed_disability_card_case_answers_a_later_lookup(hub_app, station_a, make_event):
    assert ask(station_a).json["found"] is False
    event = make_event(payload=case_snapshot(**DISABILITY_ITEM))
    assert station_a.results([event])[0]["status"] == "accepted"
    complete(hub_app, event["case_id"], "11010519491231002142")
    response = ask(station_a)
    assert response.status_code == 200 and station_a.last_verified
    [licence] = response.json["licences"]
    assert response.json["found"] is True
    assert (licence["number"], licence["issuer"]) == ("11010519491231002142", "示范县残疾人联合会")
    assert licence["valid_until"] > licence["issued_on"]
    assert ask(station_a, id_number="11010519491231002X").json["found"] is False  # someone else
    assert ask(station_a, kind="结婚证").json["found"] is False
    with hub_app.app_context(), db.connection_context():
        stored = Licence.get()
        assert HOLDER not in stored.holder_id_stored and "1101051949123100214" not in stored.number_stored
        entry = HubAccessLog.select().where(HubAccessLog.action == "licence_lookup").order_by(HubAccessLog.seq.desc()).first()
        assert entry.actor_name == "ST-A 王代办" and "理由：收件核验材料：残疾人两项补贴" in entry.detail
        assert HOLDER not in entry.object


def test_a_completion_of_another_item_issues_nothing(hub_app, station_a, make_event):
    event = make_event()
    station_a.results([event])
    complete(hub_app, event["case_id"], "GLJT-2026-0042")
    with hub_app.app_context(), db.connection_context():
        assert Licence.select().count() == 0


@pytest.mark.parametrize(("over", "words"), [
    ({"id_number": "12345"}, "18位居民身份证号码"),
    ({"id_number": None}, "居民身份证号码"),
    ({"kind": ""}, "证照类型"),
    ({"kind": "证" * 61}, "最长 60"),
    ({"reason": "   "}, "查询理由"),
    ({"asked_by": ["王"]}, "查询人"),
])
def test_a_bad_lookup_is_refused_with_a_reason(hub_app, station_a, over, words):
    response = ask(station_a, **over)
    assert response.status_code == 400 and station_a.last_verified
    assert response.json["error"] == "bad_request" and words in response.json["message"]
    with hub_app.app_context(), db.connection_context():
        assert not HubAccessLog.select().where(HubAccessLog.action == "licence_lookup").exists()


def test_a_lookup_body_that_is_not_an_object_is_refused(station_a):
    response = station_a.post_json("/api/v1/licences/lookup", ["残疾人证"])
    assert response.status_code == 400 and CHINESE.search(response.json["message"])


CSV = ("kind,number,holder_id_number,holder_name,issuer,issued_on,valid_until\n"
       f"残疾人证,{HOLDER}42,{HOLDER},张三,示范县残疾人联合会,2020-05-01,2030-05-01\n"
       "结婚证,J140000-2001-001,11010519491231002X,李四,示范县民政局,2001-10-01,\n")


def test_a_csv_import_is_idempotent_and_answers_lookups(hub_app, station_a):
    with hub_app.app_context():
        assert licences.import_csv(CSV) == (2, 0)
        assert licences.import_csv(CSV) == (0, 2)  # the same file twice adds nothing
    assert ask(station_a).json["licences"][0]["valid_until"] == "2030-05-01"
    married = ask(station_a, id_number="11010519491231002X", kind="结婚证").json["licences"]
    assert married[0]["valid_until"] is None  # no time limit


def test_a_csv_with_a_bad_line_imports_nothing(hub_app):
    bad = CSV + "残疾人证,X1,12345,王五,示范县残疾人联合会,2020-01-01,2030-01-01\n"
    with hub_app.app_context():
        with pytest.raises(licences.LookupRefused, match="第 4 行：holder_id_number"):
            licences.import_csv(bad)
        with db.connection_context():
            assert Licence.select().count() == 0


def test_an_expired_licence_is_not_offered(hub_app, station_a):
    with hub_app.app_context():
        licences.import_csv(CSV.replace("2030-05-01", "2021-05-01"))
    assert ask(station_a).json["found"] is False


def test_a_licence_is_valid_through_its_last_day_in_china_whatever_the_servers_zone(hub_app, station_a,
                                                                                    clock_off_china):
    today = clock_off_china  # China's date; the server's own date is a day off
    yesterday = today - dt.timedelta(days=1)
    with hub_app.app_context():
        licences.import_csv("kind,number,holder_id_number,holder_name,issuer,issued_on,valid_until\n"
                            f"残疾人证,{HOLDER}42,{HOLDER},张三,示范县残联,2020-05-01,{today.isoformat()}\n"
                            f"结婚证,J1,{HOLDER},张三,示范县民政局,2001-10-01,{yesterday.isoformat()}\n")
    assert ask(station_a).json["found"] is True  # its last day is today in China
    assert ask(station_a, kind="结婚证").json["found"] is False  # ended yesterday in China


def test_a_register_excel_saved_in_gbk_is_refused_in_chinese_and_nothing_imported(hub_app, tmp_path, monkeypatch):
    """Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK: the clerk saw a UnicodeDecodeError traceback."""
    from click.testing import CliRunner

    from sync.hub.cli import cli

    register = tmp_path / "证照.csv"
    register.write_bytes(("kind,number,holder_id_number,holder_name,issuer,issued_on,valid_until\n"
                          "残疾人证,14108119490101001X41,14108119490101001X,张三,示范县残疾人联合会,2020-01-01,2030-01-01\n")
                         .encode("gbk"))
    monkeypatch.setattr("sync.hub.cli._app", lambda: hub_app)
    said = CliRunner().invoke(cli, ["import-licences", str(register)])
    assert said.exit_code == 1 and isinstance(said.exception, SystemExit), said.output
    assert "未导入：证照.csv 不是 UTF-8 编码的文本文件" in said.output and "CSV UTF-8" in said.output
    with hub_app.app_context(), db.connection_context():
        assert Licence.select().count() == 0
