"""跨域办 forward queue at county A, against a peer that answers as county B would (signed, per event).

The real two-process journey is in tests/e2e/test_cross_area.py; here the peer is a session that
answers each request itself, so the queue's rules (a refused case held back without holding back
the others, sent again at a county admin's word, settled by the peer) are tested in a second.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from flask import Flask

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import PeerForward
from sync.hub.services import peers
from tests.fixtures.hub import SignedStation, case_snapshot, logged_in
from tests.hub.test_deadline_recount import _roll_up_is_exact

B_AREA = "141082"
SECRET = "b-issued-secret-0123456789"


class PeerB(requests.Session):
    """County B as hub A meets it: every answer signed with the secret B issued to A.

    ``refuse`` holds case ids whose ``case.submitted`` B refuses (not retryable); a later event of a
    case B has not stored is answered "out of order" (retryable), as B's ingest does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refuse: dict[str, tuple[str, str]] = {}
        self.stored: dict[str, int] = {}  # case id → last seq B holds
        self.received: list[tuple[str, int]] = []  # (case id, seq) of every event in every batch
        self.changes: list[dict[str, Any]] = []
        self.secret = SECRET  # the secret B holds for A: another one than A's makes B refuse A unsigned
        self.clock_ahead_s = 0.0  # B's clock minus A's
        self.fail_with = 0  # B answers this status (signed) to every request
        self.handovers: dict[str, dict[str, Any]] = {}  # handover id → the row B keeps (once)
        self.handover_posts: list[list[str]] = []  # the ids of each handovers request B was sent
        self.refuse_handovers: dict[str, str] = {}  # handover id → B's reason
        self.lose_handover_answers = 0  # B stores, then its answer is lost on the way

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = request.path_url
        now = time.time() + self.clock_ahead_s
        try:
            protocol.verify_request(self.secret, request.method, path, request.headers, request.body or b"", now=now)
        except protocol.ProtocolError as exc:  # as B's API answers: unsigned, with B's time
            return self._answer(request, 401, {"error": exc.code, "message": exc.message, "server_time": now},
                                signed=False)
        if self.fail_with:
            return self._answer(request, self.fail_with, {"error": "internal", "message": "内部错误"})
        if path.startswith("/api/v1/events"):
            batch = protocol.decode_body(request.body, request.headers.get("Content-Encoding"))
            answer = {"results": [self._judge(event) for event in batch["events"]]}
        elif path.startswith("/api/v1/transfers/handovers"):
            rows = protocol.decode_body(request.body, request.headers.get("Content-Encoding"))["handovers"]
            self.handover_posts.append([row["handover_id"] for row in rows])
            refused = [{"handover_id": r["handover_id"], "reason": self.refuse_handovers[r["handover_id"]]}
                       for r in rows if r["handover_id"] in self.refuse_handovers]
            fresh = [r for r in rows if r["handover_id"] not in self.refuse_handovers | self.handovers]
            self.handovers.update((r["handover_id"], r) for r in fresh)
            if self.lose_handover_answers:
                self.lose_handover_answers -= 1
                raise requests.ConnectionError("the answer was lost on the way")
            answer = {"stored": len(fresh), "refused": refused}
        elif path.startswith("/api/v1/changes"):
            answer = {"changes": self.changes, "has_more": False}
            self.changes = []
        else:
            answer = {"missing": []}
        return self._answer(request, 200, answer)

    def _answer(self, request: requests.PreparedRequest, status: int, answer: dict[str, Any], *,
                signed: bool = True) -> requests.Response:
        body = json.dumps(answer).encode()
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers["Content-Type"] = "application/json"
        if signed:
            response.headers[protocol.H_HUB_SIGNATURE] = protocol.sign_response(
                self.secret, request.headers[protocol.H_NONCE], status, body)
        return response

    def _judge(self, event: dict[str, Any]) -> dict[str, Any]:
        case_id, seq = event["case_id"], event["seq"]
        self.received.append((case_id, seq))
        if seq == 1 and case_id in self.refuse:
            code, reason = self.refuse[case_id]
            status = protocol.STATUS_CONFLICT if code in peers.CONFLICT_CODES else protocol.STATUS_REJECTED
            return {"event_id": event["event_id"], "status": status, "code": code, "reason": reason,
                    "retryable": False}
        if seq != self.stored.get(case_id, 0) + 1:
            return {"event_id": event["event_id"], "status": protocol.STATUS_REJECTED,
                    "code": protocol.CODE_OUT_OF_ORDER, "reason": "事件顺序不连续", "retryable": True}
        self.stored[case_id] = seq
        return {"event_id": event["event_id"], "status": protocol.STATUS_ACCEPTED}


@pytest.fixture
def peer_b(hub_app: Flask) -> PeerB:
    with hub_app.app_context():
        peers.add_peer(B_AREA, "邻县县级平台", "http://b.example", "HUB141081", SECRET)
    return PeerB()


def cross_area_case(station: SignedStation, make_event, notes: int = 0) -> str:  # noqa: ANN001
    """A case county B handles, taken at the station and synced to county A, with ``notes`` later events."""
    case_id = protocol.new_id()
    events = [make_event(case_id, payload=case_snapshot(received_area="141081102201", handling_area=B_AREA,
                                                        handling_area_name="邻县民政局"))]
    events += [make_event(case_id, seq=2 + n, kind="case.note") for n in range(notes)]
    assert {r["status"] for r in station.results(events)} == {protocol.STATUS_ACCEPTED}
    return case_id


def forward_round(app: Flask, peer_b: PeerB) -> peers.ForwardReport:
    with app.app_context(), db.connection_context():
        return peers.sync_all(peer_b)[0]


def test_a_case_the_peer_refused_is_held_back_and_every_other_case_still_goes(hub_app, station_a, make_event,
                                                                             peer_b, monkeypatch):
    monkeypatch.setattr(peers, "BATCH_EVENTS", 5)
    refused = cross_area_case(station_a, make_event, notes=6)  # the oldest case: first in the queue's order
    peer_b.refuse[refused] = (protocol.CODE_NOT_YOUR_FILE, "事件引用的附件不是本站上传的")
    report = forward_round(hub_app, peer_b)
    assert report.set_aside == 1
    newer = [cross_area_case(station_a, make_event) for _ in range(4)]
    peer_b.received.clear()
    report = forward_round(hub_app, peer_b)
    # the refused case's later events do not go round after round in every batch ahead of the others
    assert sorted(peer_b.received) == sorted((case_id, 1) for case_id in newer)
    assert report.acked == 4 and report.error == ""
    with hub_app.app_context():
        [link] = [peers.queue_for(p) for p in peers.Peer.select()]
    assert link == {"waiting": 0, "set_aside": 1, "held_back": 6}


def test_a_county_admin_sends_a_set_aside_event_again_and_its_case_goes_on(hub_app, station_a, make_event, peer_b):
    case_id = cross_area_case(station_a, make_event, notes=2)
    peer_b.refuse[case_id] = (protocol.CODE_BAD_EVENT, "事件内容不完整")
    forward_round(hub_app, peer_b)
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    page = admin.get("/peers").get_data(as_text=True)
    assert "事件内容不完整" in page and "重新转送" in page and 'data-count="held_back">2<' in page
    approver = logged_in(hub_app, "a-clerk", "approver", "示范县窗口")
    case_page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "1 条被对端搁置：事件内容不完整；其后 2 条暂停转送" in case_page
    with hub_app.app_context():
        event_id = PeerForward.get(PeerForward.case_id == case_id).event_id
    # an approver may not (the peers page is the county admin's)
    assert approver.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/cases").status_code == 403
    del peer_b.refuse[case_id]  # B's problem fixed (e.g. its catalog updated)
    pressed = admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers",
                              follow_redirects=True).get_data(as_text=True)
    assert "已安排重新转送" in pressed
    again = admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers",
                            follow_redirects=True).get_data(as_text=True)
    assert "只有被对端搁置的事件才能重新转送" in again
    report = forward_round(hub_app, peer_b)
    assert report.acked == 3 and peer_b.stored[case_id] == 3
    with hub_app.app_context():
        assert peers.queue_for(peers.Peer.get()) == {"waiting": 0, "set_aside": 0, "held_back": 0}


def test_an_event_in_conflict_at_the_peer_is_not_sent_again_but_settled_by_the_peer(hub_app, station_a,
                                                                                    make_event, peer_b):
    case_id = cross_area_case(station_a, make_event, notes=1)
    peer_b.refuse[case_id] = (protocol.CODE_CONTENT_MISMATCH, "同一事件编号的内容与平台已收到的不一致")
    forward_round(hub_app, peer_b)
    with hub_app.app_context():
        event_id = PeerForward.get(PeerForward.case_id == case_id).event_id
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    assert "待对端在其“冲突”页面核对" in admin.get("/peers").get_data(as_text=True)
    refused = admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers",
                              follow_redirects=True).get_data(as_text=True)
    assert "原样重新转送会再次冲突" in refused
    # B's clerk keeps B's copy: the settlement comes down B's feed and the case's next event goes
    del peer_b.refuse[case_id]
    peer_b.stored[case_id] = 1
    peer_b.changes = [{"change_id": 7, "kind": protocol.CHANGE_CONFLICT_RESOLVED, "case_id": case_id,
                       "payload": {"event_id": event_id, "resolution": "keep_county", "note": "以本县记录为准"}}]
    forward_round(hub_app, peer_b)  # settles; the held event goes at the round after
    report = forward_round(hub_app, peer_b)
    assert report.acked == 1 and peer_b.stored[case_id] == 2
    with hub_app.app_context():
        settled = PeerForward.get(PeerForward.event_id == event_id)
        assert (settled.state, settled.reason) == ("acked", "对端已核对处理：以本县记录为准")
        assert peers.queue_for(peers.Peer.get()) == {"waiting": 0, "set_aside": 0, "held_back": 0}


def test_a_peer_that_refuses_our_credentials_or_fails_says_so_and_the_next_round_delivers(hub_app, station_a,
                                                                                         make_event, peer_b):
    """A wrong secret read as "the answer failed its signature check (a portal or a proxy?)", a 500 as
    "B refused the batch", and a clock ahead of ours was never learned: every round refused."""
    case_id = cross_area_case(station_a, make_event)
    peer_b.secret = "another-secret-0123456789"  # A was registered with a secret B no longer holds
    report = forward_round(hub_app, peer_b)
    assert "拒绝了本平台的请求：请求签名无效" in report.error and "HUB141081" in report.error
    assert "签名验证" not in report.error
    peer_b.secret, peer_b.fail_with = SECRET, 500
    report = forward_round(hub_app, peer_b)
    assert report.error == "对端县级平台出错（500），本批次事件未送达，稍后自动重试。"
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    page = admin.get("/peers").get_data(as_text=True)
    assert "连接异常" in page and "对端县级平台出错（500）" in page and 'data-count="waiting">1<' in page
    peer_b.fail_with, peer_b.clock_ahead_s = 0, 3600.0  # B's clock an hour ahead of A's
    report = forward_round(hub_app, peer_b)
    assert report.error == "" and report.acked == 1 and peer_b.stored == {case_id: 1}


def test_the_peers_page_lists_the_handling_counties_no_peer_stands_for(hub_app, station_a, make_event, peer_b):
    """Cases of a county with no peer registered wait at A, neither forwarded nor decided; the county
    admin saw them nowhere but on each case's page."""
    cross_area_case(station_a, make_event)  # county B's: linked
    for _ in range(2):
        orphan = make_event(payload=case_snapshot(handling_area="141083", handling_area_name="另一县民政局"))
        assert station_a.results([orphan])[0]["status"] == "accepted"
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    page = admin.get("/peers").get_data(as_text=True)
    unlinked = page[page.index('id="unlinked"'):page.index("</section>", page.index('id="unlinked"'))]
    assert '<tr data-area="141083"><td>141083</td><td>另一县民政局</td><td>2</td></tr>' in unlinked
    assert B_AREA not in unlinked
    with hub_app.app_context():
        peers.add_peer("141083", "另一县县级平台", "http://c.example", "HUB141081", SECRET)
    assert 'id="unlinked"' not in admin.get("/peers").get_data(as_text=True)


def test_the_handling_countys_receipt_of_the_originals_reaches_the_village(hub_app, station_a, make_event, peer_b):
    """Custody of a 跨域办 case's originals: county B's scan of the batch came down B's feed to county A
    and was dropped, so the village's "where are the originals" ended at the handover out of A."""
    from rules import events
    from sync.hub.models import HubTransfer, HubTransferHandover

    case_id = cross_area_case(station_a, make_event)
    local = make_event()
    packed = {"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01", "direction": "up",
              "destination": "东关镇便民服务中心",
              "items": [{"material_name": "居民户口簿", "form": "copy", "copies": 1, "state": "present"}]}
    other = dict(packed, transfer_id="01JTRANSFER000000000000001", batch_no="WL-ST-A-20261201-02")
    mixed_cross = cross_area_case(station_a, make_event)
    assert {r["status"] for r in station_a.results([
        make_event(case_id, seq=2, kind=events.ORIGINALS_PACKED, payload=packed), local,
        make_event(local["case_id"], seq=2, kind=events.ORIGINALS_PACKED, payload=other),
        make_event(mixed_cross, seq=2, kind=events.ORIGINALS_PACKED, payload=other)])} == {"accepted"}
    received = {"giver": "县级张", "receiver": "王五", "receiver_kind": "staff", "place": "邻县政务服务中心",
                "at": "2026-12-02T02:00:00+00:00", "missing": [], "extra": [], "note": "", "arrived": True,
                "recorded_by": "b-clerk", "recorded_where": "县级平台"}
    peer_b.changes = [
        {"change_id": 1, "kind": protocol.CHANGE_TRANSFER_HANDOVER, "case_id": None,
         "payload": {**received, "transfer_id": packed["transfer_id"], "batch_no": packed["batch_no"],
                     "handover_id": "H-1"}},
        # a batch with this county's own case in it too: B's word does not write on it
        {"change_id": 2, "kind": protocol.CHANGE_TRANSFER_HANDOVER, "case_id": None,
         "payload": {**received, "transfer_id": other["transfer_id"], "batch_no": other["batch_no"],
                     "handover_id": "H-2"}}]
    forward_round(hub_app, peer_b)
    approver = logged_in(hub_app, "a-clerk", "approver", "示范县窗口")
    page = approver.get(f"/cases/{case_id}").get_data(as_text=True)
    custody = page[page.index('id="custody"'):]
    custody = custody[:custody.index("</section>")]
    assert "已送达邻县政务服务中心，由 王五 接收" in custody and "（县级平台登记，邻县县级平台）" in custody
    with hub_app.app_context():
        assert [h.transfer.batch_no for h in HubTransferHandover.select()] == [packed["batch_no"]]
        assert HubTransfer.get(HubTransfer.batch_no == other["batch_no"]).state == "in_transit"
    told = [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_TRANSFER_HANDOVER]
    assert [(c["payload"]["receiver"], c["payload"]["arrived"]) for c in told] == [("王五", True)]


def test_a_case_delivered_to_the_peer_does_not_wear_the_links_later_failure(hub_app, station_a, make_event, peer_b):
    """The case page said "最近一次转送未完成" on every case of the peer after any failed round — a case
    whose every event the peer had confirmed too."""
    delivered = cross_area_case(station_a, make_event)
    forward_round(hub_app, peer_b)
    waiting = cross_area_case(station_a, make_event)
    peer_b.fail_with = 500
    assert forward_round(hub_app, peer_b).error
    approver = logged_in(hub_app, "a-clerk", "approver", "示范县窗口")
    assert "最近一次转送未完成" not in approver.get(f"/cases/{delivered}").get_data(as_text=True)
    assert "最近一次转送未完成：对端县级平台出错（500）" in approver.get(f"/cases/{waiting}").get_data(as_text=True)


def _holds_told(station: SignedStation) -> list[tuple[str, bool, int]]:
    """The ``case.forward_held`` changes on the station's feed: (case id, held, seq)."""
    return [(c["case_id"], c["payload"]["held"], c["payload"]["seq"]) for c in station.changes().json["changes"]
            if c["kind"] == protocol.CHANGE_FORWARD_HELD]


def test_the_station_is_told_once_when_its_case_is_held_and_once_when_it_goes_through_again(
        hub_app, station_a, make_event, peer_b):
    """The village saw a cross-area case the peer had refused as one merely slow at the handling county,
    and told the resident to wait for a decision nobody there could take."""
    case_id = cross_area_case(station_a, make_event, notes=1)
    fine = cross_area_case(station_a, make_event)
    peer_b.refuse[case_id] = (protocol.CODE_BAD_EVENT, "事件内容不完整")
    forward_round(hub_app, peer_b)
    forward_round(hub_app, peer_b)  # held back: nothing new to say
    assert _holds_told(station_a) == [(case_id, True, 1)]  # the case that went through is not spoken of
    [change] = [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_FORWARD_HELD]
    assert change["payload"] == {"held": True, "county": "邻县县级平台", "seq": 1}
    with hub_app.app_context():
        event_id = PeerForward.get(PeerForward.case_id == case_id).event_id
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers")
    forward_round(hub_app, peer_b)  # B still refuses it: the station knows already
    assert _holds_told(station_a) == [(case_id, True, 1)]
    admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers")
    del peer_b.refuse[case_id]
    assert forward_round(hub_app, peer_b).acked == 2
    forward_round(hub_app, peer_b)
    assert _holds_told(station_a) == [(case_id, True, 1), (case_id, False, 1)]
    assert fine not in {case for case, _held, _seq in _holds_told(station_a)}


def test_a_conflict_the_peer_settles_ends_the_hold_the_station_was_told_of(hub_app, station_a, make_event, peer_b):
    case_id = cross_area_case(station_a, make_event)
    peer_b.refuse[case_id] = (protocol.CODE_CONTENT_MISMATCH, "同一事件编号的内容与平台已收到的不一致")
    forward_round(hub_app, peer_b)
    with hub_app.app_context():
        event_id = PeerForward.get(PeerForward.case_id == case_id).event_id
    peer_b.changes = [{"change_id": 3, "kind": protocol.CHANGE_CONFLICT_RESOLVED, "case_id": case_id,
                       "payload": {"event_id": event_id, "resolution": "keep_county", "note": "以本县记录为准"}}]
    forward_round(hub_app, peer_b)
    assert _holds_told(station_a) == [(case_id, True, 1), (case_id, False, 1)]


# —— the custody of a batch of B's cases, forwarded from A (物料流转, 跨域办) ——————————————————————————

VILLAGE_BATCH = {"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01", "direction": "up",
                 "destination": "东关镇便民服务中心",
                 "items": [{"material_name": "居民户口簿", "form": "copy", "copies": 1, "state": "present"},
                           {"material_name": "居民身份证", "form": "copy", "copies": 1, "state": "present"}]}


def _handover_row(handover_id: str, giver: str, receiver: str, at: str, **over: Any) -> dict[str, Any]:
    return {"handover_id": handover_id, "transfer_id": VILLAGE_BATCH["transfer_id"],
            "batch_no": VILLAGE_BATCH["batch_no"], "giver": giver, "receiver": receiver, "receiver_kind": "staff",
            "place": "", "at": at, "missing": [], "extra": [], "note": "", "arrived": False, "recorded_by": "",
            **over}


def test_hub_b_keeps_the_custody_county_a_forwards_once_each_named_by_who_recorded_it(
        hub_app, station_a, make_station, make_event, approver):
    """Hub B's copy of a 跨域办 batch showed it appearing from nowhere: the handovers before it reached B
    (the village's, its township's, county A's receipt) were never there, or all said county A."""
    from rules import events
    from sync.hub.models import HubTransfer, HubTransferHandover, HubTransferItem, Station

    # this hub is county B; county A is a peer "station" here. B has its own village ST-A too: the batch
    # number of A's village (WL-ST-A-…) names it, and must not be taken for B's village's batch.
    county_a = make_station(hub_app, "HUB141081", "示范县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == "HUB141081").execute()
    township = _handover_row("ST-T:01JHANDOVERTOWNSHIP000001", "赵送件", "李乡镇", "2026-12-01T07:00:00+00:00",
                             place="东关镇便民服务中心", missing=["居民身份证"], recorded_where="东关镇便民服务中心",
                             recorded_by="李乡镇")
    # A's round sent the township's scan before the batch's events were stored here: kept until they come
    early = county_a.post_json("/api/v1/transfers/handovers", {"handovers": [township]})
    assert early.status_code == 200 and (early.json["stored"], early.json["refused"]) == (1, [])
    case_id = protocol.new_id()
    snapshot = case_snapshot(handling_area=B_AREA, received_station_name="甲村便民服务站")
    village = {**VILLAGE_BATCH, "handover": 1, "handover_id": "01JHANDOVERVILLAGE00000001", "giver": "王代办",
               "receiver": "赵送件", "receiver_kind": "staff", "place": "甲村便民服务站",
               "at": "2026-12-01T09:00:00+08:00", "missing": [], "extra": [], "arrived": False}
    assert {r["status"] for r in county_a.results([
        make_event(case_id, payload=snapshot),
        make_event(case_id, seq=2, kind=events.ORIGINALS_PACKED, payload=VILLAGE_BATCH),
        make_event(case_id, seq=3, kind=events.ORIGINALS_HANDOVER, payload=village)])} == {"accepted"}
    county = _handover_row("01JHANDOVERCOUNTYA00000001", "李乡镇", "邻县民政局张收件", "2026-12-02T02:00:00+00:00",
                           place="示范县政务服务中心", arrived=True, recorded_by="孙窗口")
    # the next round: county A's receipt, and the township's again (its answer was lost): kept once
    again = county_a.post_json("/api/v1/transfers/handovers", {"handovers": [township, county]})
    assert again.status_code == 200 and (again.json["stored"], again.json["refused"]) == (1, [])
    with hub_app.app_context():
        [batch] = list(HubTransfer.select())
        chain = [(h.where, h.giver, h.receiver) for h in HubTransferHandover.select().order_by(HubTransferHandover.at)]
        lines = {i.material_name: i.state for i in HubTransferItem.select()}
    assert batch.station.code == "HUB141081" and batch.transfer_id == VILLAGE_BATCH["transfer_id"]
    assert chain == [("甲村便民服务站", "王代办", "赵送件"), ("东关镇便民服务中心", "赵送件", "李乡镇"),
                     ("示范县县级平台", "李乡镇", "邻县民政局张收件")]
    assert lines == {"居民户口簿": "present", "居民身份证": "missing"}  # the township's finding holds here
    # A's "送达终点" was the hand-over to B: B's clerk still records the receipt (which goes back to A)
    assert batch.state == "in_transit"
    page = approver.get(f"/transfers/{batch.id}").get_data(as_text=True)
    assert "（东关镇便民服务中心登记，李乡镇）" in page and "（甲村便民服务站登记" in page
    assert "登记接收" in page
    case_page = approver.get(f"/cases/{case_id}").get_data(as_text=True)  # B's clerk sees the way there
    custody = case_page[case_page.index('id="custody"'):]
    assert "赵送件 → 李乡镇 <small>（东关镇便民服务中心登记，李乡镇）" in custody
    assert "（示范县县级平台登记，孙窗口）" in custody
    # B's own village is not told of the peer's batch, nor is county A told its own handovers back
    assert [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_TRANSFER_HANDOVER] == []
    assert [c for c in county_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_TRANSFER_HANDOVER] == []


def _a_batch_of_bs_cases_with_its_chain(hub_app, station_a, township, make_event, peer_b):  # noqa: ANN001, ANN202
    """At county A: the village packs a case B handles and hands the batch to the courier (its event), the
    township scans it, county A records receipt; a second batch mixes A's own case with one of B's.
    B received the first batch and says so down its feed (its handover comes back to A)."""
    from rules import events
    from sync.hub.models import HubTransfer
    from sync.hub.services import transfers

    case_id = cross_area_case(station_a, make_event)
    mixed = dict(VILLAGE_BATCH, transfer_id="01JTRANSFER000000000000001", batch_no="WL-ST-A-20261201-02")
    local, mixed_cross = make_event(), cross_area_case(station_a, make_event)
    village = {**VILLAGE_BATCH, "handover": 1, "handover_id": "01JHANDOVERVILLAGE00000001", "giver": "王代办",
               "receiver": "赵送件", "receiver_kind": "staff", "place": "甲村便民服务站",
               "at": "2026-12-01T09:00:00+08:00", "missing": [], "extra": [], "arrived": False}
    assert {r["status"] for r in station_a.results([
        make_event(case_id, seq=2, kind=events.ORIGINALS_PACKED, payload=VILLAGE_BATCH),
        make_event(case_id, seq=3, kind=events.ORIGINALS_HANDOVER, payload=village), local,
        make_event(local["case_id"], seq=2, kind=events.ORIGINALS_PACKED, payload=mixed),
        make_event(mixed_cross, seq=2, kind=events.ORIGINALS_PACKED, payload=mixed)])} == {"accepted"}
    scanned = township.post_json("/api/v1/transfers/handovers", {"handovers": [
        _handover_row(f"01JHANDOVERTOWNSHIP00000{n}", "赵送件", "李乡镇", "2026-12-01T07:00:00+00:00",
                      batch_no=batch["batch_no"], transfer_id=None, place="东关镇便民服务中心",
                      missing=["居民身份证"], recorded_by="李乡镇")
        for n, batch in ((1, VILLAGE_BATCH), (2, mixed))]})
    assert scanned.json["stored"] == 2
    with hub_app.app_context():
        for batch in (VILLAGE_BATCH, mixed):
            transfers.record_at_county(HubTransfer.get(HubTransfer.batch_no == batch["batch_no"]), giver="李乡镇",
                                       receiver="孙窗口", place="示范县政务服务中心", recorded_by="孙窗口")
    peer_b.changes = [{"change_id": 1, "kind": protocol.CHANGE_TRANSFER_HANDOVER, "case_id": None, "payload": {
        "transfer_id": VILLAGE_BATCH["transfer_id"], "batch_no": VILLAGE_BATCH["batch_no"], "handover_id": "H-1",
        "giver": "孙窗口", "receiver": "王五", "receiver_kind": "staff", "place": "邻县政务服务中心",
        "at": "2026-12-03T02:00:00+00:00", "missing": [], "extra": [], "note": "", "arrived": True,
        "recorded_by": "b-clerk", "recorded_where": "县级平台"}}]
    return case_id


def test_county_a_forwards_the_custody_of_a_batch_of_bs_cases_once_through_a_lost_answer(
        hub_app, station_a, make_station, make_event, peer_b):
    """B's copy of such a batch lacked the township's scan and county A's receipt: they are no case events
    and were never forwarded. A mixed batch (one case of A's own) is not B's to hold."""
    township = make_station(hub_app, "ST-T", "东关镇便民服务中心")
    _a_batch_of_bs_cases_with_its_chain(hub_app, station_a, township, make_event, peer_b)
    peer_b.lose_handover_answers = 1  # B stores them; its answer never reaches A
    lost = forward_round(hub_app, peer_b)
    assert "无法连接对端县级平台" in lost.error and lost.acked == 5 and lost.handovers_acked == 0
    report = forward_round(hub_app, peer_b)
    assert report.error == "" and report.handovers_acked == 2
    assert forward_round(hub_app, peer_b).handovers_acked == 0
    # the township's scan and county A's receipt, sent twice and held once; the village's own went as its
    # case's event, B's own did not go back, and nothing of the mixed batch went
    assert len(peer_b.handover_posts) == 2 and peer_b.handover_posts[0] == peer_b.handover_posts[1]
    sent = sorted(peer_b.handovers.values(), key=lambda row: row["at"])
    assert [(r["batch_no"], r["giver"], r["receiver"], r["recorded_where"]) for r in sent] == [
        ("WL-ST-A-20261201-01", "赵送件", "李乡镇", "东关镇便民服务中心"),
        ("WL-ST-A-20261201-01", "李乡镇", "孙窗口", "")]
    assert sent[0]["transfer_id"] == VILLAGE_BATCH["transfer_id"] and sent[0]["missing"] == ["居民身份证"]


def test_a_handover_the_peer_refuses_is_set_aside_with_its_reason_on_the_peers_page(
        hub_app, station_a, make_station, make_event, peer_b):
    township = make_station(hub_app, "ST-T", "东关镇便民服务中心")
    _a_batch_of_bs_cases_with_its_chain(hub_app, station_a, township, make_event, peer_b)
    peer_b.refuse_handovers["ST-T:01JHANDOVERTOWNSHIP000001"] = "交接时间格式不对。"
    peer_b.fail_with = 500
    assert "对端县级平台出错（500）" in forward_round(hub_app, peer_b).error  # nothing answered: all wait
    admin = logged_in(hub_app, "a-admin", "admin", "示范县管理员")
    assert 'data-handovers="waiting">0<' in admin.get("/peers").get_data(as_text=True)  # the batch is not at B yet
    peer_b.fail_with = 0
    report = forward_round(hub_app, peer_b)
    assert (report.handovers_acked, report.handovers_set_aside) == (1, 1)
    page = admin.get("/peers").get_data(as_text=True)
    assert 'data-handovers="waiting">0<' in page and 'data-handovers="acked">1<' in page
    refused = page[page.index('<tr data-handover="ST-T:01JHANDOVERTOWNSHIP000001">'):]
    assert "WL-ST-A-20261201-01" in refused[:300] and "交接时间格式不对。" in refused[:300]
    forward_round(hub_app, peer_b)
    assert len(peer_b.handover_posts) == 1  # set aside: not sent round after round
    # B's problem settled: the county admin sends it again, it goes at the next round, once
    del peer_b.refuse_handovers["ST-T:01JHANDOVERTOWNSHIP000001"]
    path = f"/peers/{B_AREA}/handovers/ST-T:01JHANDOVERTOWNSHIP000001/resend"
    assert "已安排重新转送该交接记录" in admin.csrf_post(path, {}, token_page="/peers",
                                                follow_redirects=True).get_data(as_text=True)
    assert "只有被对端拒收的交接记录才能重新转送" in admin.csrf_post(
        path, {}, token_page="/peers", follow_redirects=True).get_data(as_text=True)
    approver = logged_in(hub_app, "a-clerk", "approver", "示范县窗口")
    assert approver.csrf_post(path, {}, token_page="/cases").status_code == 403
    assert forward_round(hub_app, peer_b).handovers_acked == 1
    page = admin.get("/peers").get_data(as_text=True)
    assert 'data-handovers="acked">2<' in page and "data-handover=" not in page
    assert peer_b.handover_posts[-1] == ["ST-T:01JHANDOVERTOWNSHIP000001"]


# —— the handling county's time limits (case.dues from B) ——————————————————————————————————————————


def test_the_handling_countys_dates_after_its_supplement_pause_reach_county_a_and_the_village(
        hub_app, station_a, make_event, peer_b):
    """B moved a case's 法定/承诺 dates on by the days its 补正 took; A skipped B's case.dues, so A's lists
    and the village kept the old dates while B's were in force."""
    case_id = cross_area_case(station_a, make_event)
    forward_round(hub_app, peer_b)
    dues = {"statutory_due": "2026-12-23", "committed_due": "2026-12-02", "statutory_provisional": False,
            "committed_provisional": False, "reason": "supplement_pause"}
    peer_b.changes = [{"change_id": 5, "kind": protocol.CHANGE_CASE_DUES, "case_id": case_id, "payload": dues}]
    forward_round(hub_app, peer_b)
    with hub_app.app_context():
        from sync.hub.models import HubCase
        case = HubCase.get(HubCase.case_id == case_id)
        assert (case.statutory_due.isoformat(), case.committed_due.isoformat()) == ("2026-12-23", "2026-12-02")
        _roll_up_is_exact()  # the committed/statutory lines count B's dates
    told = [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_CASE_DUES]
    assert [(c["payload"]["statutory_due"], c["payload"]["committed_due"]) for c in told] == [
        ("2026-12-23", "2026-12-02")]
    peer_b.changes = [{"change_id": 6, "kind": protocol.CHANGE_CASE_DUES, "case_id": case_id, "payload": dues}]
    forward_round(hub_app, peer_b)  # the same dates again: nothing new for the village
    assert len([c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_CASE_DUES]) == 1


# —— 撤回申请 of a case the handling county holds ————————————————————————————————————————————————————


def _decision_change(change_id: int, case_id: str, status: str, **payload: Any) -> dict[str, Any]:
    return {"change_id": change_id, "kind": protocol.CHANGE_CASE_STATUS, "case_id": case_id,
            "payload": {"status": status, "decided_at": "2026-12-01T02:00:00Z", "clerk_name": "王五",
                        "hub_case_no": "XJ14108220261201", **payload}}


def test_a_completion_the_handling_county_took_before_the_withdrawal_reached_it_stands_here_too(
        hub_app, station_a, make_event, peer_b):
    """B accepted and completed a case before her withdrawal reached it (B then kept the withdrawal as late);
    A had closed the case 已撤回 and refused B's 办结: A said 已撤回, B 办结, and the village never heard
    the result existed. As on a county's own case, the final decision taken first stands."""
    from rules import events
    from sync.hub.models import HubCase

    case_id = cross_area_case(station_a, make_event)
    forward_round(hub_app, peer_b)
    withdrawal = make_event(case_id, seq=2, kind=events.WITHDRAWN,
                            payload={"reason": "不再需要", "requested_by": "applicant"})
    assert [r["status"] for r in station_a.results([withdrawal])] == [protocol.STATUS_ACCEPTED]
    peer_b.changes = [_decision_change(7, case_id, "accepted"),
                      _decision_change(8, case_id, "completed", result="approved", result_text="核准发放")]
    report = forward_round(hub_app, peer_b)
    assert (case_id, 2) in peer_b.received  # the withdrawal went to B (where it meets 办结 and is kept late)
    assert report.decisions_applied == 1 and not any("未记录" in d for d in report.details)
    with hub_app.app_context():
        case = HubCase.get(HubCase.case_id == case_id)
        assert case.status == "completed" and case.closed_at is not None
        _roll_up_is_exact()
    told = [c["payload"]["status"] for c in station_a.changes().json["changes"]
            if c["kind"] == protocol.CHANGE_CASE_STATUS]
    assert told == ["completed"]  # the 受理 B took before the withdrawal: withdrawn stood until 办结
    page = logged_in(hub_app, "a-clerk", "approver", "示范县窗口").get(f"/cases/{case_id}").get_data(as_text=True)
    late = page[page.index('id="withdrawal-late"'):]
    assert "撤回申请到达时，邻县县级平台已作出「" in late[:late.index("</p>")], late[:300]  # B decided it


def test_a_withdrawal_reaching_the_handling_county_first_leaves_the_case_withdrawn_everywhere(
        hub_app, station_a, make_event, peer_b):
    from rules import events
    from sync.hub.models import HubCase

    case_id = cross_area_case(station_a, make_event)
    withdrawal = make_event(case_id, seq=2, kind=events.WITHDRAWN,
                            payload={"reason": "不再需要", "requested_by": "applicant"})
    assert [r["status"] for r in station_a.results([withdrawal])] == [protocol.STATUS_ACCEPTED]
    peer_b.changes = [_decision_change(9, case_id, "accepted")]  # taken before the withdrawal reached B
    report = forward_round(hub_app, peer_b)
    assert peer_b.received == [(case_id, 1), (case_id, 2)]
    assert report.decisions_applied == 0 and any("办件仍为已撤回" in d for d in report.details)
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == case_id).status == "withdrawn"
    assert not [c for c in station_a.changes().json["changes"] if c["kind"] == protocol.CHANGE_CASE_STATUS]


def test_hub_b_closes_a_case_county_a_forwards_the_withdrawal_of_and_takes_no_decision_on_it(
        hub_app, make_station, make_event):
    from rules import events
    from sync.hub.models import HubCase, Station
    from sync.hub.services import decisions
    from sync.hub.services.errors import InvalidTransition

    county_a = make_station(hub_app, "HUB141081", "示范县县级平台")  # this hub is county B
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == "HUB141081").execute()
    case_id = protocol.new_id()
    forwarded = [make_event(case_id, payload=case_snapshot(received_area="141081102201", handling_area=B_AREA,
                                                           received_station_name="甲村便民服务站")),
                 make_event(case_id, seq=2, kind=events.WITHDRAWN,
                            payload={"reason": "不再需要", "requested_by": "applicant"})]
    assert {r["status"] for r in county_a.results(forwarded)} == {protocol.STATUS_ACCEPTED}
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == case_id).status == "withdrawn"
        with pytest.raises(InvalidTransition, match="申请人已撤回申请"):
            decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="b-clerk")


def test_hub_bs_batch_pages_name_the_village_that_packed_a_forwarded_batch_and_county_a_as_the_way(
        hub_app, make_station, make_event, approver):
    """B's 物料流转 pages said 送出站点 = 示范县县级平台 and, before any handover, that county A held the
    batch: B's clerk looked for the papers at a county platform that never packed them."""
    from rules import events
    from sync.hub.models import HubTransfer, Station

    county_a = make_station(hub_app, "HUB141081", "示范县县级平台")  # this hub is county B
    with hub_app.app_context():
        Station.update(is_peer=True).where(Station.code == "HUB141081").execute()
    case_id = protocol.new_id()
    packed = {**VILLAGE_BATCH, "created_by": "王代办"}
    assert {r["status"] for r in county_a.results([
        make_event(case_id, payload=case_snapshot(handling_area=B_AREA, received_station_name="甲村便民服务站")),
        make_event(case_id, seq=2, kind=events.ORIGINALS_PACKED, payload=packed)])} == {"accepted"}
    with hub_app.app_context():
        [batch] = list(HubTransfer.select())
    page = approver.get(f"/transfers/{batch.id}").get_data(as_text=True)
    assert "送出站点：甲村便民服务站（经示范县县级平台转来）" in page
    where_now = page[page.index('id="where-now"'):]
    assert "（甲村便民服务站，" in where_now[:where_now.index("</p>")]
    listed = approver.get("/transfers/").get_data(as_text=True)
    assert "<td>甲村便民服务站（经示范县县级平台转来）</td>" in listed


# —— the resident's progress page at the receiving county ——————————————————————————————————————————————


def test_the_receiving_countys_progress_page_names_the_county_that_handles_her_case(
        hub_app, station_a, make_event, peer_b):
    """Her receipt says 邻县民政局 handles the case; county A's page said 等待县级部门受理 and 县级部门已受理,
    so a resident who asked at this county's departments was sent to the wrong office. The county's own
    case keeps its words; B's decisions, once taken here, are named as B's."""
    hub_app.config["AREA_CODE"] = "141081"
    case_id = cross_area_case(station_a, make_event)
    own = make_event(payload=case_snapshot(query_code="K7P20X1M", handling_area="141081"))
    assert station_a.results([own])[0]["status"] == protocol.STATUS_ACCEPTED
    with hub_app.app_context():
        from sync.hub.models import HubCase

        code = HubCase.get(HubCase.case_id == case_id).query_code
    client = hub_app.test_client()
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert "当前：<strong>等待邻县民政局受理</strong>" in page and "材料已送邻县民政局" in page
    assert "本件为跨域办：由邻县民政局受理、办结；在甲村便民服务站收件" in page
    ours = client.get("/q/K7P20X1M").get_data(as_text=True)
    assert "当前：<strong>等待县级部门受理</strong>" in ours and "跨域办" not in ours
    forward_round(hub_app, peer_b)
    peer_b.changes = [_decision_change(7, case_id, "accepted")]
    assert forward_round(hub_app, peer_b).decisions_applied == 1
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert "邻县民政局已受理" in page and "县级部门已受理" not in page.replace("邻县民政局已受理", "")
