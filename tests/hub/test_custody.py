"""Handovers of a case's paper originals reach the county: validated by the shared rules, shown on the case."""

from __future__ import annotations

from rules import events


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


def feed(station) -> list[dict]:  # noqa: ANN001
    response = station.changes()
    assert response.status_code == 200
    return [c for c in response.json["changes"] if c["kind"] == "transfer.handover"]


def test_a_townships_handover_is_kept_once_tied_to_the_villages_batch_and_told_to_the_village(
        hub_app, station_a, station_b, make_event):
    from sync.hub.models import HubTransfer, HubTransferItem

    # the township scanned the village's barcode before the village synced: kept by the number
    sent = station_b.post_json("/api/v1/transfers/handovers",
                               {"handovers": [township_handover("01JHANDOVER0000000000000001"),
                                              township_handover("01JHANDOVER0000000000000002", giver="")]})
    assert sent.status_code == 200 and station_b.last_verified
    assert sent.json["stored"] == 1 and [r["handover_id"] for r in sent.json["refused"]] == [
        "01JHANDOVER0000000000000002"]  # the bad one alone
    again = station_b.post_json("/api/v1/transfers/handovers", {"handovers": [township_handover("01JHANDOVER0000000000000001")]})
    assert again.json["stored"] == 0  # an answer lost on the way: sent again, kept once

    submitted = make_event()
    packed = make_event(case_id=submitted["case_id"], seq=2, kind=events.ORIGINALS_PACKED,
                        payload={"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01",
                                 "items": [{"material_name": "户口簿复印件", "form": "copy", "copies": 1, "state": "present"},
                                           {"material_name": "身份证复印件", "form": "copy", "copies": 1, "state": "present"}]})
    assert [r["status"] for r in station_a.results([submitted, packed])] == ["accepted", "accepted"]
    with hub_app.app_context():
        [batch] = list(HubTransfer.select())  # the number the township scanned is the village's batch
        assert batch.transfer_id == "01JTRANSFER000000000000000" and batch.station.code == "ST-A"
        # what the township found missing against the paper sheet holds once the lines are known
        assert {i.material_name: i.state for i in HubTransferItem.select()} == {"户口簿复印件": "missing",
                                                                               "身份证复印件": "present"}
    [told] = feed(station_a)  # the village learns who holds its papers; the township is not told its own
    assert told["payload"]["receiver"] == "李窗口" and told["payload"]["missing"] == ["户口簿复印件"]
    assert feed(station_b) == []


def test_the_county_scan_box_says_what_it_found_or_why_not(hub_app, approver):
    answer = approver.csrf_post("/transfers/scan", {"code": "wl-st-a-20261201-09\r\n"}, token_page="/transfers/",
                                follow_redirects=True).get_data(as_text=True)
    assert "没有找到批次 WL-ST-A-20261201-09" in answer and "尚未同步到县级" in answer
    answer = approver.csrf_post("/transfers/scan", {"code": "6901234567892"}, token_page="/transfers/",
                                follow_redirects=True).get_data(as_text=True)
    assert "是否扫了别的条码" in answer
