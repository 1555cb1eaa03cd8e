"""The county refused a handover this station recorded of another station's batch (物料流转).

A township off a village batch's route (the county has not set the village's township) is refused
either at once, in the answer to its push, or late: the county stored it while it did not know the
batch and refused it when the village's events made it known (a ``transfer.handover_refused``
change). Both end the same way, as a township clerk expects: the handover is shown with the
county's reason, it no longer counts for where the papers are, and it is sent again each round, so
it is taken once the county fills in the township (``transfers.push_confirmed`` clears the reason).
"""

from __future__ import annotations

from typing import Any

from rules.transfers import normalize_code
from station.models import Transfer, TransferHandover
from sync.local_db import db, now


def _mark_refused(handover_id: str, reason: str) -> int:
    """Show a handover recorded here as refused by the county; unconfirmed, so the next round sends it again."""
    return (TransferHandover.update(refusal=reason.strip()[:500] or "县级平台未说明原因。", refused_at=now(), sent_at=None)
            .where((TransferHandover.handover_id == handover_id) & (TransferHandover.source == "here")).execute())


def push_refused(refusals: list[dict[str, str]]) -> None:
    """The county refused these handovers as they came: shown with its reason; still sent each round."""
    with db.atomic():
        for row in refusals:
            _mark_refused(row["handover_id"], row.get("reason") or "")


def apply_county_refusal(payload: dict[str, Any]) -> TransferHandover | None:
    """The county refused a handover it had stored (the batch became known and this station is off its route).

    Applied once, by the handover's id: one refused before is left alone, so a feed read again does
    not bring back a refusal the county has since overcome. Inside the pull's transaction; a
    handover not recorded here is left alone.
    """
    handover_id = str(payload.get("handover_id") or "")[:80]
    handover = (TransferHandover.select(TransferHandover, Transfer).join(Transfer)
                .where((TransferHandover.handover_id == handover_id) & (TransferHandover.source == "here")).first()
                if handover_id else None)
    if handover is None or handover.refused_at is not None:
        return None
    if normalize_code(str(payload.get("batch_no") or "")) != handover.transfer.batch_no:
        return None  # not the batch this station recorded it on
    _mark_refused(handover_id, str(payload.get("reason") or ""))
    return TransferHandover.get_by_id(handover.id)
