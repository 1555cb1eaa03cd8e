"""The export for the provincial platform as the province reads it: where each case was received,
accepted and concluded (跨域办 included), and each time limit as a number with its unit, from the
catalog version the case was taken under — checked against what the test itself published and sent."""

from __future__ import annotations

import copy
import json

from rules import events
from rules.labels import LIMIT_UNITS
from sync.hub.services import catalog, decisions
from sync.hub.services.provincial_export import LIMIT_UNITS as UNIT_CODES
from tests.fixtures.hub import case_snapshot, logged_in, valid_catalog

COUNTY, OTHER_COUNTY, STATION_AREA = "141081", "141082", "141081102201"
RANGE = "period=range&start=2026-11-01&end=2026-11-30"


def _decide(app, case_id: str, kind: str, *, from_peer: bool = False, **kw) -> None:  # noqa: ANN001
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind=kind, **kw), clerk="clerk", from_peer=from_peer)


def test_each_case_carries_its_three_places_and_its_limits_with_their_units(any_hub_app, make_station,
                                                                            make_event) -> None:
    any_hub_app.config["AREA_CODE"] = COUNTY
    old = valid_catalog("2026.10")
    new = copy.deepcopy(valid_catalog("2026.11"))
    new["items"][0]["statutory_limit"] = {"value": 30, "unit": "natural_days"}
    new["items"][0]["committed_limit"] = {"value": 48, "unit": "hours"}
    with any_hub_app.app_context():
        catalog.publish(old, clerk="countyadmin")
        catalog.publish(new, clerk="countyadmin")
    station = make_station(any_hub_app, "ST-P", "东关村便民服务站")
    sent = {
        "own-old": make_event(catalog_version="2026.10", payload=case_snapshot(case_no="P-1", query_code="PPPP01")),
        "own-new": make_event(catalog_version="2026.11", payload=case_snapshot(case_no="P-2", query_code="PPPP02")),
        "cross": make_event(catalog_version="2026.11", payload=case_snapshot(
            case_no="P-3", query_code="PPPP03", received_area=STATION_AREA, handling_area=OTHER_COUNTY)),
    }
    told = make_event(catalog_version="2026.11", payload=case_snapshot(  # 一次性告知: materials missing
        case_no="P-4", query_code="PPPP04", decision="not_collected"))
    withdrawn = make_event(catalog_version="2026.11", payload=case_snapshot(case_no="P-5", query_code="PPPP05"))
    withdrawal = make_event(case_id=withdrawn["case_id"], seq=2, kind=events.WITHDRAWN,
                            payload={"reason": "不再需要", "requested_by": "applicant"})
    assert [r["status"] for r in station.results([*sent.values(), told, withdrawn, withdrawal])] == ["accepted"] * 6
    _decide(any_hub_app, sent["own-old"]["case_id"], "accepted")
    _decide(any_hub_app, sent["own-old"]["case_id"], "completed", result="approved")
    # the county that handles the 跨域办 case decided it; recorded here as services/peers.py does
    _decide(any_hub_app, sent["cross"]["case_id"], "accepted", from_peer=True)
    _decide(any_hub_app, sent["cross"]["case_id"], "completed", result="approved", from_peer=True)

    clerk = logged_in(any_hub_app, "approver1", "approver", "县审批员")
    body = json.loads(clerk.get(f"/numbers/export/cases.json?{RANGE}").data)
    by_no = {r["SBLSH"]: r for r in body["records"]}
    # the application never collected is no 办件: the case taken when the resident comes back is. One the
    # applicant withdrew is not sent either: 办件状态 has no code for it, and 待受理 would stay pending for good
    assert set(by_no) == {e["payload"]["case_no"] for e in sent.values()} and body["count"] == len(sent)
    published = {c["catalog_version"]: c["items"][0] for c in (old, new)}
    closed = {"P-1", "P-3"}
    for key, event in sent.items():
        payload, record = event["payload"], by_no[event["payload"]["case_no"]]
        item = published[event["catalog_version"]]
        accepted_in = payload.get("handling_area") or COUNTY
        assert record["APPLYAREACODE"] == (payload.get("received_area") or payload["applicant"]["area_code"]), key
        assert record["ACCEPTAREACODE"] == accepted_in, key
        assert record["TRANSACTAREACODE"] == (accepted_in if payload["case_no"] in closed else ""), key
        for field, limit in (("ANTICIPATE", item["statutory_limit"]), ("PROMISE", item["committed_limit"])):
            assert record[f"{field}DAY"] == str(limit["value"]), key
            assert record[f"{field}TYPE"] == UNIT_CODES[limit["unit"]], key
    assert by_no["P-3"]["ACCEPTAREACODE"] == OTHER_COUNTY and by_no["P-3"]["TRANSACTAREACODE"] == OTHER_COUNTY
    assert by_no["P-1"]["PROMISETYPE"] != by_no["P-2"]["PROMISETYPE"]  # the limit the case was taken under
    assert set(UNIT_CODES) == set(LIMIT_UNITS)  # every unit a catalog may use has its code
    assert "单位" in body["fields"]["PROMISETYPE"] and "受理地" in body["fields"]["ACCEPTAREACODE"]


def test_a_case_a_peer_county_forwarded_names_the_station_that_took_it_by_its_own_code(hub_app, station_a,
                                                                                      make_event) -> None:
    """At the handling county, a 跨域办 case is filed under the forwarding county's platform: the export
    named that platform (HUB141083) as 受理服务站编码, beside the village station's name. The station's own
    code comes with the case now; an older station's case, without it, keeps the platform's code."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station

    hub_app.config["AREA_CODE"] = COUNTY
    peer = _make_station(hub_app, "HUB141083", "另一县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == peer.code).execute()
    cross = {"received_at": "2026-11-20T09:30:00+08:00", "received_area": "141083100201",
             "received_station_name": "某村便民服务站", "handling_area": COUNTY, "handling_area_name": "示范县民政局"}
    new = make_event(payload=case_snapshot(case_no="FROM-NEW", query_code="FROM01", received_station_code="ST-C-07",
                                           **cross))
    old = make_event(payload=case_snapshot(case_no="FROM-OLD", query_code="FROM02", **cross))  # an older station
    garbled = make_event(payload=case_snapshot(case_no="FROM-BAD", query_code="FROM03",
                                               received_station_code="某村 站/../", **cross))
    own = make_event(payload=case_snapshot(case_no="OWN-1", query_code="OWN001", received_station_code="ST-ELSE",
                                           received_at=cross["received_at"]))
    assert [r["status"] for r in peer.results([new, old, garbled]) + station_a.results([own])] == ["accepted"] * 4
    clerk = logged_in(hub_app, "approver1", "approver", "县审批员")
    records = json.loads(clerk.get(f"/numbers/export/cases.json?{RANGE}").data)["records"]
    taken_at = {r["SBLSH"]: (r["RECEIVEDEPTCODE"], r["RECEIVEDEPTNAME"]) for r in records}
    assert taken_at == {"FROM-NEW": ("ST-C-07", "某村便民服务站"), "FROM-OLD": ("HUB141083", "某村便民服务站"),
                        "FROM-BAD": ("HUB141083", "某村便民服务站"),
                        "OWN-1": ("ST-A", "甲村便民服务站")}  # its own station is known here: no word of the body
