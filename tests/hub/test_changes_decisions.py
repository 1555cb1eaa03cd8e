"""Decisions become changes; the changes feed pages by cursor and shows each station its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync import protocol
from sync.hub.models import Change, Decision, HubCase
from sync.hub.services import catalog, decisions, stations
from sync.hub.services.errors import InvalidTransition, ValidationError
from tests.fixtures.hub import hukou_supplied, valid_catalog


@pytest.fixture
def submitted_case(hub_app, station_a, make_event):
    """A case submitted by station A; returns its case_id."""
    event = make_event()
    assert station_a.results([event])[0]["status"] == "accepted"
    return event["case_id"]


def _decide(app, case_id, **kw):
    with app.app_context():
        return decisions.decide(case_id, decisions.DecisionInput(**kw), clerk="clerk")


def _pull_all(station, cursor=0, limit=100):
    response = station.changes(cursor, limit)
    assert response.status_code == 200 and station.last_verified
    return response.json


def test_accept_flows_back(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted", hub_case_no="HUB-2026-0001")
    feed = _pull_all(station_a)
    [change] = feed["changes"]
    assert change["kind"] == "case.status" and change["case_id"] == submitted_case
    payload = change["payload"]
    assert payload["status"] == "accepted" and payload["hub_case_no"] == "HUB-2026-0001"
    assert payload["case_no"] == "140000001001202611200001" and payload["clerk"] == "clerk"
    assert payload["decided_at"].endswith("Z")
    assert feed["next_cursor"] == change["change_id"] and feed["has_more"] is False


def test_accept_mints_hub_case_no_when_blank(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    payload = _pull_all(station_a)["changes"][0]["payload"]
    assert payload["hub_case_no"].startswith("XJ")


def test_supplement_lists_materials(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="supplement", supplement_keys=("hukou_book",), reason="户口簿页不清晰")
    payload = _pull_all(station_a)["changes"][0]["payload"]
    assert payload["status"] == "supplement"
    assert payload["supplement_items"] == [{"key": "hukou_book", "name": "居民户口簿"}]
    assert payload["reason"] == "户口簿页不清晰"


def test_reject_carries_reason(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="rejected", reason="不属于本部门职权范围")
    payload = _pull_all(station_a)["changes"][0]["payload"]
    assert (payload["status"], payload["reason"]) == ("rejected", "不属于本部门职权范围")


def test_complete_carries_result(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    _decide(hub_app, submitted_case, kind="completed", result="approved", result_text="准予参保，次月生效")
    changes = _pull_all(station_a)["changes"]
    assert [c["payload"]["status"] for c in changes] == ["accepted", "completed"]
    assert changes[1]["payload"]["result"] == "approved"
    assert changes[1]["payload"]["result_text"] == "准予参保，次月生效"


def test_a_certificate_number_goes_with_an_approval_only(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    with pytest.raises(ValidationError, match="没有证书编号"):
        _decide(hub_app, submitted_case, kind="completed", result="denied", result_text="不符合条件",
                certificate_no="X-1")
    _decide(hub_app, submitted_case, kind="completed", result="approved", certificate_no=" GLJT-2026-0042 ")
    changes = _pull_all(station_a)["changes"]
    assert [c["payload"]["certificate_no"] for c in changes] == [None, "GLJT-2026-0042"]


@pytest.mark.parametrize(
    ("steps", "kind", "extra", "message"),
    [
        ([], "completed", {"result": "approved"}, "不能办结"),
        ([("rejected", {"reason": "x"})], "accepted", {}, "不能受理"),
        ([("accepted", {}), ("completed", {"result": "approved"})], "supplement", {"reason": "x"}, "不能补正"),
        ([("accepted", {})], "rejected", {"reason": "x"}, "不能不予受理"),
    ],
)
def test_invalid_transitions_refused(hub_app, submitted_case, steps, kind, extra, message):
    for step_kind, step_extra in steps:
        _decide(hub_app, submitted_case, kind=step_kind, **step_extra)
    with pytest.raises(InvalidTransition) as info:
        _decide(hub_app, submitted_case, kind=kind, **extra)
    assert message in info.value.message
    with hub_app.app_context():
        assert Decision.select().count() == len(steps)
        assert Change.select().count() == len(steps)


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("rejected", {"reason": "  "}, "须填写理由"),
        ("supplement", {}, "须勾选"),
        ("supplement", {"supplement_keys": ("no_such",)}, "不在该办件的材料清单中"),
        ("accepted", {"hub_case_no": "有中文"}, "办件编号"),
    ],
)
def test_decision_validation(hub_app, submitted_case, kind, extra, message):
    with pytest.raises(ValidationError) as info:
        _decide(hub_app, submitted_case, kind=kind, **extra)
    assert message in info.value.message


def test_a_result_text_too_long_for_the_paper_is_refused(hub_app, station_a, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    with pytest.raises(ValidationError) as info:
        _decide(hub_app, submitted_case, kind="completed", result="denied", result_text="理" * 501)
    assert "结果说明最多 500 个字" in info.value.message
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == submitted_case).status == "accepted"


def test_a_peer_countys_long_reason_is_recorded_as_it_came(hub_app, station_a, submitted_case):
    """跨域办: what the handling county decided is a fact here, whatever its length."""
    with hub_app.app_context():
        decisions.decide(submitted_case, decisions.DecisionInput(kind="rejected", reason="理" * 800),
                         clerk="邻县·clerk", from_peer=True)
    payload = _pull_all(station_a)["changes"][0]["payload"]
    assert payload["status"] == "rejected" and payload["reason"] == "理" * 800


def test_a_case_another_county_handles_is_not_decided_here_before_the_two_are_linked(hub_app, station_a, make_event):
    """跨域办 with no peer link yet: decided here, the case would be decided by the handling county too once
    the link is added (two decisions for one application). The county's own cases are decided as ever."""
    from tests.fixtures.hub import case_snapshot

    hub_app.config["AREA_CODE"] = "141081"
    theirs = make_event(payload=case_snapshot(handling_area="141082"))
    ours = make_event(payload=case_snapshot(handling_area="141081"))
    assert [r["status"] for r in station_a.results([theirs, ours])] == ["accepted", "accepted"]
    with pytest.raises(InvalidTransition) as info:
        _decide(hub_app, theirs["case_id"], kind="accepted")
    assert "办理地为 141082" in info.value.message and "添加互联" in info.value.message
    _decide(hub_app, ours["case_id"], kind="accepted")
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == theirs["case_id"]).status == "submitted"
        assert HubCase.get(HubCase.case_id == ours["case_id"]).status == "accepted"


def test_without_its_own_area_code_a_county_still_leaves_another_countys_case_alone(hub_app, station_a,
                                                                                     make_event):
    """A hub not given AREA_CODE offered its clerks the decision forms on a 跨域办 case another county
    handles, said "本县办理" on it, and took the decision — which that county would take again once
    the two were linked. The handling county itself (the case came from a peer county's hub) decides."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station, case_snapshot, logged_in

    assert not hub_app.config["AREA_CODE"]
    theirs = make_event(payload=case_snapshot(handling_area="141082", handling_area_name="邻县民政局"))
    assert station_a.results([theirs])[0]["status"] == "accepted"
    peer = _make_station(hub_app, "HUB141083", "另一县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == peer.code).execute()
    forwarded = make_event(payload=case_snapshot(handling_area="141082", handling_area_name="邻县民政局"))
    assert peer.results([forwarded])[0]["status"] == "accepted"
    clerk = logged_in(hub_app, "a-clerk", "approver", "示范县窗口")
    page = clerk.get(f"/cases/{theirs['case_id']}").get_data(as_text=True)
    assert "本县办理" not in page and "待转办理地" in page and "办理地为 141082，不由本县决定" in page
    assert 'name="kind" value="accepted"' not in page
    with pytest.raises(InvalidTransition, match="不由本县决定"):
        _decide(hub_app, theirs["case_id"], kind="accepted")
    page = clerk.get(f"/cases/{forwarded['case_id']}").get_data(as_text=True)
    assert "本县办理" in page and 'name="kind" value="accepted"' in page
    _decide(hub_app, forwarded["case_id"], kind="accepted")
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == theirs["case_id"]).status == "submitted"
        assert HubCase.get(HubCase.case_id == forwarded["case_id"]).status == "accepted"


def test_a_peer_county_forwarding_a_case_this_county_does_not_handle_is_refused(hub_app, make_event):
    """A peer that registered this hub under the wrong area code forwarded another county's cases here,
    where they were taken (and could be decided) by a county that does not handle them."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station, case_snapshot

    hub_app.config["AREA_CODE"] = "141082"
    peer = _make_station(hub_app, "HUB141081", "示范县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == peer.code).execute()
    misrouted = make_event(payload=case_snapshot(handling_area="141083", handling_area_name="另一县民政局"))
    ours = make_event(payload=case_snapshot(handling_area="141082", handling_area_name="邻县民政局"))
    wrong, right = peer.results([misrouted, ours])
    assert (wrong["status"], wrong["retryable"]) == ("rejected", False)
    assert "本件办理地为 141083，不是本县（141082）" in wrong["reason"] and "互联登记" in wrong["reason"]
    assert right["status"] == "accepted"
    with hub_app.app_context():
        assert [c.case_id for c in HubCase.select()] == [ours["case_id"]]


def test_complete_requires_result(hub_app, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    with pytest.raises(ValidationError):
        _decide(hub_app, submitted_case, kind="completed")


def test_stations_see_only_their_changes_plus_broadcasts(hub_app, station_a, station_b, submitted_case):
    _decide(hub_app, submitted_case, kind="accepted")
    with hub_app.app_context():
        catalog.publish(valid_catalog("v9"), clerk="clerk")
        stations.update_settings(station_b.code, {"sync_interval_s": 300}, clerk="clerk")
    kinds_a = [c["kind"] for c in _pull_all(station_a)["changes"]]
    kinds_b = [c["kind"] for c in _pull_all(station_b)["changes"]]
    assert kinds_a == ["case.status", "catalog.published"]
    assert kinds_b == ["catalog.published", "station.settings"]
    catalog_change = _pull_all(station_b)["changes"][0]
    assert catalog_change["payload"]["catalog_version"] == "v9" and catalog_change["case_id"] is None


def test_cursor_paging(hub_app, station_a, make_event):
    case_ids = []
    for _ in range(5):
        event = make_event()
        station_a.results([event])
        case_ids.append(event["case_id"])
    for case_id in case_ids:
        _decide(hub_app, case_id, kind="accepted")
    seen, cursor, pages = [], 0, 0
    while True:
        feed = _pull_all(station_a, cursor, 2)
        seen += [c["case_id"] for c in feed["changes"]]
        cursor = feed["next_cursor"]
        pages += 1
        if not feed["has_more"]:
            break
    assert seen == case_ids and pages == 3
    assert _pull_all(station_a, cursor)["changes"] == []
    assert _pull_all(station_a, cursor)["next_cursor"] == cursor


def test_page_stops_at_byte_budget(hub_app, station_a):
    hub_app.extensions["hub_platform"].page_bytes = 3000
    with hub_app.app_context():
        for n in range(3):
            catalog.publish(valid_catalog(f"v{n}", extra={"legal_basis": "x" * 2000}), clerk="clerk")
    first = _pull_all(station_a)
    assert len(first["changes"]) == 1 and first["has_more"] is True


def test_only_the_answer_to_a_supplement_flags_the_case_for_review(hub_app, station_a, submitted_case, make_event):
    """A 容缺 material arriving while a 补正 is open answers nothing the county asked: the case is not
    已补正待审 and the resident's page does not say 补正材料已交 until case.supplemented comes."""
    _decide(hub_app, submitted_case, kind="supplement", reason="补户口簿")
    arrival = make_event(case_id=submitted_case, seq=2, kind="case.materials_updated",
                         payload={"materials": [{"key": "photo", "name": "照片", "status": "provided"}]})
    assert station_a.results([arrival])[0]["status"] == "accepted"
    with hub_app.app_context():
        case = HubCase.get(HubCase.case_id == submitted_case)
        assert case.supplied_at is None and case.snapshot["materials"][0]["key"] == "photo"
        query_code = case.query_code
    page = hub_app.test_client().get(f"/q/{query_code}").get_data(as_text=True)
    assert "需要补正" in page and "补正材料已交" not in page
    answer = make_event(case_id=submitted_case, seq=3, kind="case.supplemented", payload=hukou_supplied("2026-11-22T10:00:00+08:00"))
    assert station_a.results([answer])[0]["status"] == "accepted"
    with hub_app.app_context():
        case = HubCase.get(HubCase.case_id == submitted_case)
        assert case.supplied_at is not None and case.snapshot["materials"][0]["key"] == "hukou_book"
    _decide(hub_app, submitted_case, kind="accepted")


def test_protocol_change_kinds_are_the_documented_ones():
    assert set(protocol.CHANGE_KINDS) == {"case.status", "catalog.published", "station.settings", "conflict.resolved",
                                          "evaluation.recorded", "remedy.updated", "case.shared",
                                          "appointment.changed", "hub.restored", "transfer.handover",
                                          "transfer.handover_refused", "calendar.holidays",
                                          "case.forward_held", "case.dues"}
    docs = Path(__file__).resolve().parents[2] / "docs"
    spec = (docs / "hub-openapi.yaml").read_text(encoding="utf-8")
    assert f"kind: {{type: string, enum: [{', '.join(protocol.CHANGE_KINDS)}]}}" in spec  # the Change schema
    table = (docs / "sync-protocol.md").read_text(encoding="utf-8")
    assert all(f"| `{kind}` |" in table for kind in protocol.CHANGE_KINDS)


def test_a_material_the_station_marked_not_applicable_cannot_be_asked_for_in_a_supplement(
        hub_app, station_a, make_event):
    """Issue 19: a 不适用 material (with the agent's reason) never reaches a 补正 list as missing."""
    from tests.fixtures.hub import case_snapshot

    snapshot = case_snapshot()
    snapshot["materials"].append({"key": "disability_cert", "name": "残疾人证", "status": "not_applicable",
                                  "supplied_note": "非残疾人", "condition": "仅重度残疾人申请政府代缴时提供"})
    event = make_event(payload=snapshot)
    assert station_a.results([event])[0]["status"] == "accepted"
    with pytest.raises(ValidationError, match="站点已登记为不适用"):
        _decide(hub_app, event["case_id"], kind="supplement", supplement_keys=("disability_cert", "hukou_book"))
    with hub_app.app_context():
        assert Decision.select().count() == 0 and HubCase.get(HubCase.case_id == event["case_id"]).status == "submitted"
    _decide(hub_app, event["case_id"], kind="supplement", supplement_keys=("hukou_book",))
