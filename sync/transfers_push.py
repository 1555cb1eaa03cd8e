"""Handovers of other stations' transfer batches (物料流转), sent to the county after the bookings each round.

A township that received a village's batch on paper scans its barcode and records the handover;
it holds none of the village's cases, so the handover cannot ride the outbox as a case event. It
goes here instead, by batch number; the county keeps each by its id (a lost answer only means the
same handovers go again) and ties it to the batch the village's events describe. The station is
told through ``transfer_handovers_confirmed`` only on a verified answer, and of those refused (a
station off the batch's route) through ``transfer_handovers_refused`` with the county's reason; a
refused one stays unconfirmed, so it goes again next round and is taken once the county sets the
village's township. A failure here does not end the round: the county's changes are still pulled.
"""

from __future__ import annotations

import logging

from sync.errors import LinkProblem
from sync.hooks import StationHooks
from sync.summary import SyncSummary
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)

PATH = "/api/v1/transfers/handovers"


def push_transfer_handovers(client: HubClient, hooks: StationHooks, summary: SyncSummary | None = None) -> int:
    """Send the handovers waiting; return how many the county stored anew (0 when nothing went).

    Each refusal is also a line of ``summary.details``: `sync --once` prints them for the clerk.
    """
    if hooks.transfer_handovers_pending is None or hooks.transfer_handovers_confirmed is None:
        return 0
    try:
        rows = hooks.transfer_handovers_pending()
        if not rows:
            return 0
        status, answer = client.post_json(PATH, {"handovers": rows})
        refuse_unless_ok(status, answer, "物料交接")
    except LinkProblem as exc:
        log.warning("transfer handovers not sent this round: %s", exc.message)
        return 0
    sent = {r["handover_id"] for r in rows}
    refusals = [{"handover_id": str(r.get("handover_id")), "reason": str(r.get("reason") or "")[:500]}
                for r in answer.get("refused") or [] if isinstance(r, dict) and r.get("handover_id") in sent]
    batches = {r["handover_id"]: r.get("batch_no") or "" for r in rows}
    for row in refusals:
        log.warning("the county refused handover %s: %s", row["handover_id"], row["reason"])
        if summary is not None:
            summary.details.append(f"物料交接（批次 {batches.get(row['handover_id'], '')}）县级未接受：{row['reason']}")
    refused = {r["handover_id"] for r in refusals}
    hooks.transfer_handovers_confirmed([r["handover_id"] for r in rows if r["handover_id"] not in refused])
    if refusals and hooks.transfer_handovers_refused is not None:
        hooks.transfer_handovers_refused(refusals)
    return int(answer.get("stored") or 0)
