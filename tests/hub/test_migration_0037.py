"""Migration 0037 on a county already holding the custody of 跨域办 batches (SQLite and PostgreSQL).

After the upgrade hub A forwards to the handling county the handovers of a batch of its cases that
are no case events — a township's scan, the county's own receipt — and not the village's own (they
travel as the case's events) nor the handling county's coming back. Which is which, for the rows
kept before the upgrade, is read from how their ids were made (``via_event``'s backfill).
"""

from __future__ import annotations

from rules import events
from sync import protocol
from sync.hub.database import runner
from sync.hub.extensions import db
from sync.hub.models import Event, HubTransfer, HubTransferHandover, Peer, PeerForward
from sync.hub.services import peers, transfers
from tests.fixtures.hub import case_snapshot

MIGRATION = "0037_peer_handovers"
BATCH = {"transfer_id": "01JTRANSFER000000000000000", "batch_no": "WL-ST-A-20261201-01", "direction": "up",
         "destination": "东关镇便民服务中心",
         "items": [{"material_name": "居民户口簿", "form": "copy", "copies": 1, "state": "present"}]}


def _handover(n: int, **over: object) -> dict[str, object]:
    return {**BATCH, "handover": n, "giver": "王代办", "receiver": f"第{n}手", "receiver_kind": "staff",
            "place": "甲村便民服务站", "at": f"2026-12-01T0{n}:00:00+08:00", "missing": [], "extra": [], **over}


def test_migration_0037_tells_a_villages_handovers_from_those_the_peer_needs(any_hub_app, make_station, make_event):
    village = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    township = make_station(any_hub_app, "ST-T", "东关镇便民服务中心")
    with any_hub_app.app_context(), db.connection_context():
        peer = peers.add_peer("141082", "邻县县级平台", "http://b.example", "HUB141081", "b-issued-secret-0123456789")
    case_id = protocol.new_id()
    assert {r["status"] for r in village.results([
        make_event(case_id, payload=case_snapshot(handling_area="141082")),
        make_event(case_id, seq=2, kind=events.ORIGINALS_PACKED, payload=BATCH),
        make_event(case_id, seq=3, kind=events.ORIGINALS_HANDOVER,
                   payload=_handover(1, handover_id="01JHANDOVERVILLAGE00000001")),
        make_event(case_id, seq=4, kind=events.ORIGINALS_HANDOVER, payload=_handover(2)),  # an older station: no id
    ])} == {"accepted"}
    pushed = township.post_json("/api/v1/transfers/handovers", {"handovers": [{
        "handover_id": "01JHANDOVERTOWNSHIP0000001", "batch_no": BATCH["batch_no"], "giver": "赵送件",
        "receiver": "李乡镇", "place": "东关镇便民服务中心", "at": "2026-12-01T05:00:00+08:00"}]})
    assert pushed.json["stored"] == 1
    with any_hub_app.app_context(), db.connection_context(), db.atomic():
        batch = HubTransfer.get(HubTransfer.batch_no == BATCH["batch_no"])
        county = transfers.record_at_county(batch, giver="李乡镇", receiver="孙窗口", place="示范县政务服务中心",
                                            recorded_by="孙窗口").handover_id
        assert transfers.record_peer_handover("141082", "邻县县级平台", {
            "transfer_id": BATCH["transfer_id"], "batch_no": BATCH["batch_no"], "handover_id": "H-1",
            "giver": "孙窗口", "receiver": "王五", "at": "2026-12-03T02:00:00+00:00"})
    with any_hub_app.app_context(), db.connection_context():
        database = db.obj
        runner(database).down(MIGRATION)  # the hub as the release before 0037 left it
        assert "via_event" not in {c.name for c in database.get_columns("hub_transfer_handover")}
        assert runner(database).up() == [MIGRATION]
        from_events = {h.handover_id for h in HubTransferHandover.select().where(HubTransferHandover.via_event)}
        assert from_events == {"01JHANDOVERVILLAGE00000001", f"ST-A:{BATCH['transfer_id']}:2"}
        for event in Event.select().where(Event.case_id == case_id):  # the case's events are at the peer
            PeerForward.create(event_id=event.event_id, peer=peer.id, case_id=case_id, seq=event.seq, state="acked")
        to_forward = sorted(h.handover_id for h in peers.handovers_to_forward(Peer.get_by_id(peer.id)))
        assert to_forward == sorted(["ST-T:01JHANDOVERTOWNSHIP0000001", county])
