"""Paper originals in transit (物料流转) as the county knows them: batches, their lines, every handover.

A batch is made at a station and reaches the county as events on its cases (``case.originals_packed``
and ``case.originals_handover``); a township that received a village's batch on paper only sends its
handovers by batch number (``POST /api/v1/transfers/handovers``); a county clerk records receipt by
scanning the barcode. All three land here; ``transfer_id`` is the batch's id at the station that made
it (null while the county knows the batch only by the number a township scanned).
"""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from sync.hub.models.base import BaseModel, JSONText, utcnow
from sync.hub.models.stations import Station


class HubTransfer(BaseModel):
    """One batch under one barcode; ``station`` made it, ``state`` in_transit / arrived."""

    transfer_id = CharField(max_length=26, null=True, unique=True)
    batch_no = CharField(max_length=40, index=True)
    station = ForeignKeyField(Station, null=True, index=True, on_delete="CASCADE")
    direction = CharField(max_length=12, default="up")
    destination = CharField(max_length=100, default="")
    created_by = CharField(max_length=100, default="")
    created_at = CharField(max_length=40, default="")  # as the station wrote it (with offset)
    state = CharField(max_length=12, default="in_transit", index=True)
    updated_at = DateTimeField(default=utcnow)


class HubTransferItem(BaseModel):
    """One material of one case in a batch (``case_id`` empty for a paper found extra)."""

    transfer = ForeignKeyField(HubTransfer, backref="items", on_delete="CASCADE")
    case_id = CharField(max_length=36, default="", index=True)
    case_no = CharField(max_length=64, default="")
    material_name = CharField(max_length=200)
    form = CharField(max_length=20, default="original")
    copies = IntegerField(default=1)
    state = CharField(max_length=12, default="present")  # present / missing / extra


class HubTransferHandover(BaseModel):
    """A change of hands wherever it was scanned: at a station (``recorded_at`` it) or at the county (null)."""

    handover_id = CharField(max_length=80, unique=True)
    transfer = ForeignKeyField(HubTransfer, backref="handovers", on_delete="CASCADE")
    recorded_at = ForeignKeyField(Station, null=True, on_delete="CASCADE")
    giver = CharField(max_length=100)
    receiver = CharField(max_length=100)  # staff by name; a resident masked by the station
    receiver_kind = CharField(max_length=12, default="staff")
    place = CharField(max_length=100, default="")
    at = DateTimeField(index=True)  # naive UTC
    missing = JSONText(default=list)
    extra = JSONText(default=list)
    note = TextField(default="")
    arrived = BooleanField(default=False)
    recorded_by = CharField(max_length=100, default="")
    created_at = DateTimeField(default=utcnow)
    #: who recorded it when ``recorded_at`` only relayed it: a peer county forwarding a township's scan,
    #: or its village's handover (跨域办); "" — ``recorded_at``, or this county when null
    recorded_where = CharField(max_length=100, default="")
    #: came as a ``case.originals_handover`` event of its station (so it travels with the case's events)
    via_event = BooleanField(default=False)

    @property
    def where(self) -> str:
        """Where it was recorded, as a clerk reads it."""
        return self.recorded_where or (self.recorded_at.name if self.recorded_at_id else "县级平台")
