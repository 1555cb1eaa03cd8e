"""好差评 for the provincial platform: the county hands over every rating of a period, coded as the standard says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from rules import events
from sync import protocol
from sync.hub.china_time import CHINA_TZ
from sync.hub.models import HubAccessLog
from sync.hub.services import decisions
from tests.fixtures.hub import case_snapshot, logged_in

NOVEMBER = "period=range&start=2026-11-01&end=2026-11-30"
ID_NUMBER = "110105194912310021"


def _case(station, make_event, case_no: str) -> str:
    event = make_event(payload=case_snapshot(case_no=case_no, query_code=case_no[-8:]))
    assert station.results([event])[0]["status"] == "accepted"
    return event["case_id"]


def _rating(station, make_event, case_id: str, rated_at: str, seq: int = 2, **over) -> dict:
    body = {"evaluation_id": protocol.new_id(), "visit": "intake", "kind": "first", "level": "very_dissatisfied",
            "reason_tag": "attitude", "reason_text": f"代办员不耐烦，还把我的身份证号{ID_NUMBER}念出来",
            "channel": "hall_tablet", "rated_at": rated_at, "agent": "agent1", **over}
    assert station.results([make_event(case_id=case_id, seq=seq, kind=events.EVALUATED,
                                       payload=body)])[0]["status"] == "accepted"
    return body


def test_ratings_leave_with_the_standards_codes_in_china_time_and_masked(hub_app, station_a, make_event) -> None:
    case_id = _case(station_a, make_event, "EV-0001")
    bad = _rating(station_a, make_event, case_id, "2026-11-20T10:00:00+08:00")
    good = _rating(station_a, make_event, _case(station_a, make_event, "EV-0002"), "2026-11-21T09:15:00+08:00",
                   level="very_satisfied", reason_tag="fast", reason_text="", channel="qr_code")
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    data = json.loads(clerk.get(f"/numbers/export/evaluations.json?{NOVEMBER}").data)
    assert data["standard"] == "GB/T 39046-2020" and data["count"] == 2
    by_id = {r["ASSESSNUMBER"]: r for r in data["records"]}
    first, second = by_id[bad["evaluation_id"]], by_id[good["evaluation_id"]]
    # GB/T 39046 A.8 numbers 非常满意 1 … 非常不满意 5 (other systems the other way round)
    assert (first["ALTERNATE"], first["ALTERNATENAME"]) == ("5", "非常不满意")
    assert (second["ALTERNATE"], second["ALTERNATENAME"]) == ("1", "非常满意")
    assert (first["PF"], second["PF"]) == ("4", "3")  # 大厅平板, 二维码
    assert first["ASSESSTYPE"] == "1" and first["PROSTATUS"] == "1"  # rated at intake, not yet accepted
    assert first["ASSESSTIME"] == "20261120T100000"  # China time, not the UTC it is stored in
    assert first["REASONTAG"] == "服务态度恶劣" and first["ASSESSVISIT"] == "收件服务"
    assert ID_NUMBER not in json.dumps(data, ensure_ascii=False) and "代办员不耐烦" in first["WRITINGASSESS"]
    assert first["DEPTCODE"] == "ST-A" and first["SBLSH"] == "EV-0001" and first["HANDLEUSERNAME"] == "agent1"
    assert first["RECTIFYSTATE"] == "整改中" and second["RECTIFYSTATE"] == ""  # a 差评 opens a 整改
    exported = clerk.get(f"/numbers/export/evaluations.csv?{NOVEMBER}")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert exported.data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert {r["ASSESSNUMBER"] for r in rows} == set(by_id) and ID_NUMBER not in exported.data.decode("utf-8-sig")
    with hub_app.app_context():
        assert HubAccessLog.select().where(HubAccessLog.action == "evaluations_export").count() == 2


def test_the_state_of_the_case_is_the_one_it_had_when_she_rated(hub_app, station_a, make_event) -> None:
    case_id = _case(station_a, make_event, "EV-0003")
    before = _rating(station_a, make_event, case_id, "2026-11-20T10:00:00+08:00", level="satisfied",
                     reason_tag="", reason_text="")
    with hub_app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
    now = (dt.datetime.now(CHINA_TZ) + dt.timedelta(seconds=1)).replace(microsecond=0)  # after the 受理, to the second
    after = _rating(station_a, make_event, case_id, now.isoformat(), seq=3, visit="supplement", level="satisfied",
                    reason_tag="", reason_text="")
    with hub_app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved"), clerk="clerk")
    done = _rating(station_a, make_event, case_id, now.isoformat(), seq=4, visit="handover", level="satisfied",
                   reason_tag="", reason_text="")
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    span = f"period=range&start=2026-11-01&end={now.date().isoformat()}"
    states = {r["ASSESSNUMBER"]: r["PROSTATUS"] for r in
              json.loads(clerk.get(f"/numbers/export/evaluations.json?{span}").data)["records"]}
    assert states == {before["evaluation_id"]: "1", after["evaluation_id"]: "2", done["evaluation_id"]: "3"}


def test_a_period_is_china_days_and_a_bad_format_changes_nothing(hub_app, station_a, make_event) -> None:
    late_october = _rating(station_a, make_event, _case(station_a, make_event, "EV-0004"),
                           "2026-10-31T23:30:00+08:00")  # 15:30 UTC on the 31st: October
    early_november = _rating(station_a, make_event, _case(station_a, make_event, "EV-0005"),
                             "2026-11-01T07:00:00+08:00")  # 23:00 UTC on 31 October: November in China
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    listed = {r["ASSESSNUMBER"] for r in
              json.loads(clerk.get(f"/numbers/export/evaluations.json?{NOVEMBER}").data)["records"]}
    assert listed == {early_november["evaluation_id"]}
    assert late_october["evaluation_id"] not in listed
    refused = clerk.get(f"/numbers/export/evaluations.xml?{NOVEMBER}", follow_redirects=True).get_data(as_text=True)
    assert "好差评导出格式只能是 JSON、CSV 或 Excel" in refused
    with hub_app.app_context():
        assert HubAccessLog.select().where(HubAccessLog.action == "evaluations_export").count() == 1
