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
    assert "由 <strong>李窗口</strong> 保管" in custody and "缺失：户口簿复印件" in custody and "赵送件" in custody


def test_a_handover_without_its_batch_is_refused_for_good(station_a, make_event):
    submitted = make_event()
    body = handover(submitted["case_id"], 2, 1, "赵送件")
    del body["batch_no"]
    bad = make_event(case_id=submitted["case_id"], seq=2, kind=events.ORIGINALS_HANDOVER, payload=body)
    results = station_a.results([submitted, bad])
    assert results[1]["status"] == "rejected" and "batch_no" in results[1]["reason"]
