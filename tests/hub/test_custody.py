"""Handovers of a case's paper originals reach the county: validated by the shared rules, shown on the case."""

from __future__ import annotations

import re

import pytest

from rules import events
from sync.hub.models import HubTransfer, HubTransferHandover

TOWNSHIP_NAME = "东关镇便民服务中心"


def handover(case_id: str, seq: int, n: int, receiver: str, **over):  # noqa: ANN003, ANN201
    body = {"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST1-20261201-01", "handover": n,
            "giver": "王代办", "receiver": receiver, "place": "东关镇便民服务中心", "at": "2026-12-01T10:00:00+08:00",
            "items": [{"material_name": "户口簿复印件", "form": "copy", "copies": 1, "state": "present"}],
            "missing": [], "extra": []}
    body.update(over)
    return body


def test_the_countys_case_page_says_who_holds_the_papers(station_a, approver, make_event):
    submitted = make_event()
    case_id = submitted["case_id"]
    first = make_event(case_id=case_id, seq=2, kind=events.ORIGINALS_HANDOVER,
                       payload=handover(case_id, 2, 1, "赵送件"))
    second = make_event(case_id=case_id, seq=3, kind=events.ORIGINALS_HANDOVER,
                        payload=handover(case_id, 3, 2, "李窗口", missing=["户口簿复印件"]))
    assert [r["status"] for r in station_a.results([submitted, first, second])] == ["accepted"] * 3
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    custody = page[page.index('id="custody"'):]
    custody = custody[:custody.index("</section>")]
    assert "在途：由 李窗口 保管" in custody and "缺失：户口簿复印件" in custody and "赵送件" in custody


def test_a_handover_without_its_batch_is_refused_for_good(station_a, make_event):
    submitted = make_event()
    body = handover(submitted["case_id"], 2, 1, "赵送件")
    del body["batch_no"]
    bad = make_event(case_id=submitted["case_id"], seq=2, kind=events.ORIGINALS_HANDOVER, payload=body)
    results = station_a.results([submitted, bad])
    assert results[1]["status"] == "rejected" and "batch_no" in results[1]["reason"]


def township_handover(handover_id: str, **over):  # noqa: ANN003, ANN201
    row = {"handover_id": handover_id, "batch_no": "WL-ST-A-20261201-01", "giver": "赵送件", "receiver": "李窗口",
           "place": "东关镇便民服务中心", "at": "2026-12-01T15:00:00+08:00", "missing": ["户口簿复印件"], "extra": []}
    row.update(over)
    return row


def feed(station, kind: str = "transfer.handover") -> list[dict]:  # noqa: ANN001
    response = station.changes()
    assert response.status_code == 200
    return [c for c in response.json["changes"] if c["kind"] == kind]


@pytest.fixture
def township(hub_app, make_station):  # noqa: ANN001, ANN201
    """The township centre the village's batches go to (ST-T)."""
    return make_station(hub_app, "ST-T", TOWNSHIP_NAME)


def packed_event(make_event, destination: str = TOWNSHIP_NAME) -> list[dict]:  # noqa: ANN001
    """A case submitted at ST-A and packed into batch WL-ST-A-20261201-01, sent to ``destination``."""
    submitted = make_event()
    packed = make_event(case_id=submitted["case_id"], seq=2, kind=events.ORIGINALS_PACKED,
                        payload={"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01",
                                 "destination": destination, "direction": "up",
                                 "items": [{"material_name": "户口簿复印件", "form": "copy", "copies": 1, "state": "present"},
                                           {"material_name": "身份证复印件", "form": "copy", "copies": 1, "state": "present"}]})
    return [submitted, packed]


def batch_page(hub_app, approver) -> str:  # noqa: ANN001
    """The county's page of the batch."""
    from sync.hub.models import HubTransfer

    with hub_app.app_context():
        batch_id = HubTransfer.get(HubTransfer.batch_no == "WL-ST-A-20261201-01").id
    return approver.get(f"/transfers/{batch_id}").get_data(as_text=True)


def now_line(page: str) -> str:
    """The "现在：…" line of the county's batch page."""
    match = re.search(r'id="where-now"><strong>现在：</strong>([^<]*)<', page)
    assert match, page[:2000]
    return match.group(1)


def test_a_townships_handover_is_kept_once_tied_to_the_villages_batch_and_told_to_the_village(
        hub_app, station_a, township, make_event):
    from sync.hub.models import HubTransfer, HubTransferItem

    # the township scanned the village's barcode before the village synced: kept by the number
    sent = township.post_json("/api/v1/transfers/handovers",
                               {"handovers": [township_handover("01JHANDOVER0000000000000001"),
                                              township_handover("01JHANDOVER0000000000000002", giver="")]})
    assert sent.status_code == 200 and township.last_verified
    assert sent.json["stored"] == 1 and [r["handover_id"] for r in sent.json["refused"]] == [
        "01JHANDOVER0000000000000002"]  # the bad one alone
    again = township.post_json("/api/v1/transfers/handovers", {"handovers": [township_handover("01JHANDOVER0000000000000001")]})
    assert again.json["stored"] == 0  # an answer lost on the way: sent again, kept once

    assert [r["status"] for r in station_a.results(packed_event(make_event))] == ["accepted", "accepted"]
    with hub_app.app_context():
        [batch] = list(HubTransfer.select())  # the number the township scanned is the village's batch
        assert batch.transfer_id == "01JTRANSFER000000000000000" and batch.station.code == "ST-A"
        # what the township found missing against the paper sheet holds once the lines are known
        assert {i.material_name: i.state for i in HubTransferItem.select()} == {"户口簿复印件": "missing",
                                                                               "身份证复印件": "present"}
    [told] = feed(station_a)  # the village learns who holds its papers; the township is not told its own
    assert told["payload"]["receiver"] == "李窗口" and told["payload"]["missing"] == ["户口簿复印件"]
    assert feed(township) == []


def test_another_villages_handover_of_a_batch_is_refused_and_nothing_is_recorded(
        hub_app, station_a, station_b, township, approver, make_event):
    from sync.hub.models import HubTransferHandover

    assert [r["status"] for r in station_a.results(packed_event(make_event))] == ["accepted", "accepted"]
    sent = station_b.post_json("/api/v1/transfers/handovers", {"handovers": [
        township_handover("01JHANDOVER0000000000000009", receiver="钱冒领", missing=["身份证复印件"], arrived=True)]})
    assert sent.status_code == 200 and sent.json["stored"] == 0
    [refused] = sent.json["refused"]
    assert refused["handover_id"] == "01JHANDOVER0000000000000009" and "不经过本站" in refused["reason"]
    with hub_app.app_context():
        assert HubTransferHandover.select().count() == 0
    page = batch_page(hub_app, approver)
    assert now_line(page).startswith("在途：由 送出站点 保管（甲村便民服务站") and "钱冒领" not in page and "缺失：身份证复印件" not in page
    assert feed(station_a) == []  # the village is told nothing of it


def test_the_packing_station_and_its_township_relay_record_handovers_of_a_batch_sent_on_to_the_county(
        hub_app, station_a, station_b, township, approver, make_event):
    from sync.hub.services import stations

    with hub_app.app_context():  # the county says which township centre carries ST-A's papers up
        stations.update_settings("ST-A", {stations.TOWNSHIP_SETTING: "ST-T"}, clerk="县管理员")
    assert [r["status"] for r in station_a.results(packed_event(make_event, "县政务服务中心"))] == ["accepted"] * 2
    by_village = station_a.post_json("/api/v1/transfers/handovers", {"handovers": [
        township_handover("01JHANDOVER0000000000000001", giver="王代办", receiver="赵送件", place="甲村便民服务站",
                          at="2026-12-01T09:00:00+08:00", missing=[])]})
    assert by_village.json == {**by_village.json, "stored": 1, "refused": []}
    by_township = township.post_json("/api/v1/transfers/handovers",
                                     {"handovers": [township_handover("01JHANDOVER0000000000000002")]})
    assert by_township.json == {**by_township.json, "stored": 1, "refused": []}
    stranger = station_b.post_json("/api/v1/transfers/handovers",
                                   {"handovers": [township_handover("01JHANDOVER0000000000000003", receiver="钱冒领")]})
    assert stranger.json["stored"] == 0 and len(stranger.json["refused"]) == 1
    page = batch_page(hub_app, approver)
    assert now_line(page).startswith("在途：由 李窗口 保管") and "赵送件" in page and "钱冒领" not in page
    assert [c["payload"]["receiver"] for c in feed(station_a)] == ["李窗口"]  # the township's, told to the village


def test_a_pending_handover_from_a_station_off_the_route_is_refused_when_the_batch_arrives(
        hub_app, station_a, station_b, township, approver, make_event, caplog):
    from sync.hub.models import HubTransferHandover, HubTransferItem

    # before the village synced, a stranger and the township both scan its barcode: both kept pending
    early = station_b.post_json("/api/v1/transfers/handovers", {"handovers": [
        township_handover("01JHANDOVER0000000000000009", receiver="钱冒领", missing=["身份证复印件"],
                          extra=["冒领的纸"], arrived=True, at="2026-12-01T16:00:00+08:00")]})
    assert early.json["stored"] == 1
    assert township.post_json("/api/v1/transfers/handovers",
                              {"handovers": [township_handover("01JHANDOVER0000000000000001")]}).json["stored"] == 1

    with caplog.at_level("WARNING", logger="sync.hub.services.transfers"):
        assert [r["status"] for r in station_a.results(packed_event(make_event))] == ["accepted", "accepted"]
    assert "ST-B:01JHANDOVER0000000000000009" in caplog.text and "refused" in caplog.text
    with hub_app.app_context():
        assert [h.receiver for h in HubTransferHandover.select()] == ["李窗口"]
        assert {i.material_name: i.state for i in HubTransferItem.select()} == {"户口簿复印件": "missing",
                                                                               "身份证复印件": "present"}
    page = batch_page(hub_app, approver)
    assert now_line(page).startswith("在途：由 李窗口 保管") and "钱冒领" not in page and "冒领的纸" not in page
    assert [c["payload"]["receiver"] for c in feed(station_a)] == ["李窗口"]
    # the stranger was answered "stored": it is told now, by the id it gave, with the reason; no one else is
    [told] = feed(station_b, "transfer.handover_refused")
    assert told["payload"] == {"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01",
                               "handover_id": "01JHANDOVER0000000000000009", "reason": told["payload"]["reason"]}
    assert "不经过本站" in told["payload"]["reason"] and "填写所属乡镇中心" in told["payload"]["reason"]
    assert feed(township, "transfer.handover_refused") == feed(station_a, "transfer.handover_refused") == []


def test_the_county_scan_box_says_what_it_found_or_why_not(hub_app, approver):
    answer = approver.csrf_post("/transfers/scan", {"code": "wl-st-a-20261201-09\r\n"}, token_page="/transfers/",
                                follow_redirects=True).get_data(as_text=True)
    assert "没有找到批次 WL-ST-A-20261201-09" in answer and "尚未同步到县级" in answer
    answer = approver.csrf_post("/transfers/scan", {"code": "6901234567892"}, token_page="/transfers/",
                                follow_redirects=True).get_data(as_text=True)
    assert "是否扫了别的条码" in answer


def test_the_county_admin_sets_the_township_that_carries_a_villages_papers(hub_app, county_admin, station_a,
                                                                          township):
    from sync.hub.models import Station

    page = "/stations/ST-A"
    html = county_admin.csrf_post(page, {"township": "ST-X"}).get_data(as_text=True)
    assert "站点 ST-X 未在县级登记" in html
    with hub_app.app_context():
        assert "township" not in (Station.by_code("ST-A").settings or {})  # nothing saved for the typo
    county_admin.csrf_post(page, {"township": "ST-T"})
    shown = county_admin.get(page).get_data(as_text=True)
    assert 'name="township" type="text"' in shown and 'value="ST-T"' in shown


@pytest.mark.parametrize(("batch_no", "transfer_id"), [
    ("WL-ST-A-20261201-01", "01JTRANSFER000000000000000"),  # its number and its id
    ("WL-ST-A-20261201-01", "01JFORGED00000000000000000"),  # its number, under another id
    ("WL-ST-Z-20261201-01", "01JTRANSFER000000000000000"),  # its id, under a number of no station
])
def test_another_villages_case_event_naming_a_batch_does_not_write_on_it(hub_app, station_a, station_b, approver,
                                                                          make_event, batch_no, transfer_id):
    from sync.hub.models import HubTransfer, HubTransferHandover

    assert [r["status"] for r in station_a.results(packed_event(make_event))] == ["accepted", "accepted"]
    theirs = make_event()
    forged = make_event(case_id=theirs["case_id"], seq=2, kind=events.ORIGINALS_HANDOVER,
                        payload={**handover(theirs["case_id"], 2, 1, "钱冒领"), "batch_no": batch_no,
                                 "transfer_id": transfer_id})
    station_b.results([theirs, forged])
    with hub_app.app_context():
        assert HubTransferHandover.select().count() == 0 and HubTransfer.select().count() == 1
    page = batch_page(hub_app, approver)
    assert now_line(page).startswith("在途：由 送出站点 保管（甲村便民服务站") and "钱冒领" not in page
    assert feed(station_a) == []


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_upgraded_hub_takes_each_villages_township_from_the_handovers_it_already_holds(
        request, database, make_station, make_event):
    """Townships relayed papers before the ``township`` setting existed: the upgrade fills it in where
    the history names exactly one relay, so their next scans are not refused; it guesses nothing else."""
    from sync.hub.database import runner
    from sync.hub.extensions import db
    from sync.hub.models import Station
    from sync.hub.services import stations

    app = request.getfixturevalue("hub_app" if database == "sqlite" else "pg_hub_app")
    village, relay = make_station(app, "ST-A", "甲村便民服务站"), make_station(app, "ST-T", TOWNSHIP_NAME)
    other, relay_2 = make_station(app, "ST-B", "乙村便民服务站"), make_station(app, "ST-U", "西关镇便民服务中心")
    county = make_station(app, "ST-C", "县政务服务中心")
    with app.app_context():  # as the hub stood: each relay recorded a handover of the village's batch
        stations.update_settings("ST-A", {stations.TOWNSHIP_SETTING: "ST-T"}, clerk="县管理员")
        stations.update_settings("ST-B", {stations.TOWNSHIP_SETTING: "ST-T"}, clerk="县管理员")
    assert [r["status"] for r in village.results(packed_event(make_event, "县政务服务中心"))] == ["accepted"] * 2
    for station, handover_id in ((relay, "01JHANDOVER0000000000000001"), (county, "01JHANDOVER0000000000000002")):
        assert station.post_json("/api/v1/transfers/handovers",
                                 {"handovers": [township_handover(handover_id)]}).json["stored"] == 1
    b_batch = dict(batch_no="WL-ST-B-20261201-01")
    packed_b = packed_event(make_event, "县政务服务中心")
    packed_b[1]["payload"].update(b_batch, transfer_id="01JTRANSFER000000000000001")
    assert [r["status"] for r in other.results(packed_b)] == ["accepted"] * 2
    for station, handover_id, township_then in ((relay, "01JHANDOVER0000000000000003", "ST-T"),
                                                (relay_2, "01JHANDOVER0000000000000004", "ST-U")):
        with app.app_context():  # ST-B's papers went by two townships over time
            stations.update_settings("ST-B", {stations.TOWNSHIP_SETTING: township_then}, clerk="县管理员")
        assert station.post_json("/api/v1/transfers/handovers",
                                 {"handovers": [township_handover(handover_id, **b_batch)]}).json["stored"] == 1
    with app.app_context():
        for code in ("ST-A", "ST-B"):  # the release before the setting: none is set
            row = Station.get(Station.code == code)
            Station.update(settings={k: v for k, v in row.settings.items() if k != stations.TOWNSHIP_SETTING}
                           ).where(Station.id == row.id).execute()
        db.execute_sql(f"DELETE FROM hub_schema_migration WHERE name = {db.param}", ("0021_township_from_history",))
        assert runner(db.obj).up() == ["0021_township_from_history"]
        settings = {s.code: (s.settings or {}).get(stations.TOWNSHIP_SETTING) for s in Station.select()}
    # ST-A: one relay (the county, its destination, does not count); ST-B: two relays, nothing guessed
    assert settings["ST-A"] == "ST-T" and settings["ST-B"] is None


def test_a_station_that_already_handed_a_batch_on_may_record_its_next_handover(
        hub_app, station_a, township, make_station, make_event):
    """The county moved the village to another township centre while a batch was on its way: the centre
    that already recorded a handover of that batch still holds the papers, so its next scan is taken."""
    from sync.hub.services import stations

    with hub_app.app_context():
        stations.update_settings("ST-A", {stations.TOWNSHIP_SETTING: "ST-T"}, clerk="县管理员")
    assert [r["status"] for r in station_a.results(packed_event(make_event, "县政务服务中心"))] == ["accepted"] * 2
    first = township.post_json("/api/v1/transfers/handovers", {"handovers": [township_handover("01JHANDOVER0000000000000001")]})
    assert first.json["stored"] == 1
    make_station(hub_app, "ST-U", "西关镇便民服务中心")
    with hub_app.app_context():
        stations.update_settings("ST-A", {stations.TOWNSHIP_SETTING: "ST-U"}, clerk="县管理员")
    again = township.post_json("/api/v1/transfers/handovers", {"handovers": [
        township_handover("01JHANDOVER0000000000000002", giver="李窗口", receiver="县收件员", at="2026-12-01T17:00:00+08:00")]})
    assert again.json == {**again.json, "stored": 1, "refused": []}


def test_the_county_receipt_form_sent_twice_records_one_handover(hub_app, station_a, approver, make_event):
    """A double click on 登记接收 (or a colleague's receipt meanwhile): the chain holds the hand-over once."""
    submitted = make_event()
    first = make_event(case_id=submitted["case_id"], seq=2, kind=events.ORIGINALS_HANDOVER,
                       payload=handover(submitted["case_id"], 2, 1, "赵送件"))
    assert [r["status"] for r in station_a.results([submitted, first])] == ["accepted"] * 2
    with hub_app.app_context():
        page = f"/transfers/{HubTransfer.get().id}"
    form = approver.get(page).get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', form).group(1)
    receipt = {"giver": "赵送件", "receiver": "县级窗口", "place": "县政务服务中心", "seen": seen}  # not yet 送达终点
    approver.csrf_post(f"{page}/receive", receipt, token_page=page)
    before = station_a.changes().json["changes"]
    again = approver.csrf_post(f"{page}/receive", receipt, token_page=page, follow_redirects=True).get_data(as_text=True)
    assert "在您打开本页之后已登记过交接（最近一次：赵送件 → 县级窗口），本次未登记" in again
    with hub_app.app_context():
        assert [h.receiver for h in HubTransferHandover.select().order_by(HubTransferHandover.id)] == ["赵送件", "县级窗口"]
    assert station_a.changes().json["changes"] == before  # the station is told once


def test_a_number_in_a_handover_note_is_masked_on_the_case_and_batch_pages(station_a, approver, make_event):
    submitted = make_event()
    case_id = submitted["case_id"]
    noted = make_event(case_id=case_id, seq=2, kind=events.ORIGINALS_HANDOVER,
                       payload=handover(case_id, 2, 1, "赵送件", note="送件人电话13912345678，有事联系"))
    assert [r["status"] for r in station_a.results([submitted, noted])] == ["accepted"] * 2
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "送件人电话139****5678，有事联系" in page and "13912345678" not in page
    transfer = re.search(r'href="(/transfers/\d+)"', page).group(1)
    batch = approver.get(transfer).get_data(as_text=True)
    assert "送件人电话139****5678，有事联系" in batch and "13912345678" not in batch


def test_the_countys_batch_page_says_which_originals_go_on_to_the_county_that_handles_their_case(
        hub_app, station_a, approver, make_event):
    """跨域办: the county clerk receiving a village's batch read nothing of the originals another county
    needs — the resident's receipt promised they go there."""
    from tests.fixtures.hub import case_snapshot

    hub_app.config["AREA_CODE"] = "141081"
    cross = make_event(payload=case_snapshot(case_no="CROSS-1", handling_area="141082",
                                             handling_area_name="示范市邻县民政局"))
    local = make_event(payload=case_snapshot(case_no="LOCAL-1"))
    packed = [make_event(case_id=e["case_id"], seq=2, kind=events.ORIGINALS_PACKED,
                         payload={k: v for k, v in handover(e["case_id"], 2, 1, "").items()
                                  if k in ("transfer_id", "batch_no", "items")} | {"destination": "县政务服务中心"})
              for e in (cross, local)]
    assert {r["status"] for r in station_a.results([cross, local, *packed])} == {"accepted"}
    with hub_app.app_context():
        mixed = HubTransfer.get()
    page = approver.get(f"/transfers/{mixed.id}").get_data(as_text=True)
    lines = page[page.index('id="lines"'):page.index('id="handovers"')]
    rows = {no: row for row in lines.split("<tr")[2:] for no in ("CROSS-1", "LOCAL-1") if no in row}
    assert "跨域办：原件转交示范市邻县民政局" in rows["CROSS-1"] and "跨域办" not in rows["LOCAL-1"]
    # this county's own papers arrive here: the batch ends here, the cross-area ones go on apart
    assert "请将这些原件单独转交办理地" in lines and 'name="arrived" value="1" checked' in page
    # a batch of the handling county's originals only: "arrived at the end" was ticked by default —
    # received so, the batch closed and the handover on to that county could no longer be recorded
    alone = make_event(payload=case_snapshot(case_no="CROSS-2", handling_area="141082",
                                             handling_area_name="示范市邻县民政局"))
    own_batch = {**packed[0]["payload"], "transfer_id": "01JTRANSFER000000000000009", "batch_no": "WL-ST1-20261201-09"}
    assert {r["status"] for r in station_a.results([
        alone, make_event(case_id=alone["case_id"], seq=2, kind=events.ORIGINALS_PACKED, payload=own_batch)])} == {
        "accepted"}
    with hub_app.app_context():
        batch = HubTransfer.get(HubTransfer.batch_no == "WL-ST1-20261201-09")
    page = approver.get(f"/transfers/{batch.id}").get_data(as_text=True)
    assert "本批原件均由其他县办理：收到后请转交办理地" in page
    assert re.search(r'name="arrived" value="1">', page) and 'name="arrived" value="1" checked' not in page
    received = approver.csrf_post(f"/transfers/{batch.id}/receive", {
        "giver": "李窗口", "receiver": "县级张", "place": "县政务服务中心", "seen": "0"},
        token_page=f"/transfers/{batch.id}", follow_redirects=True)
    assert received.status_code == 200
    onward = approver.csrf_post(f"/transfers/{batch.id}/receive", {
        "giver": "县级张", "receiver": "示范市邻县民政局 王五", "place": "邻县政务服务中心", "seen": "1",
        "arrived": "1"}, token_page=f"/transfers/{batch.id}", follow_redirects=True).get_data(as_text=True)
    assert "已送达" in onward and "县级张 → 示范市邻县民政局 王五" in onward
