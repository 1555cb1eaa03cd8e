"""Paper originals in transit (物料流转): a batch under one barcode, its lines, and every handover."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from station.models.base import BaseModel, JSONField, OpenedTextField, SealedTextField, now
from station.models.cases import Case, CaseMaterial


class Transfer(BaseModel):
    """A transfer batch: the papers of several cases moving together, printed as one 物料流转单."""

    id = CharField(max_length=26, primary_key=True)  # ULID
    batch_no = CharField(max_length=40, unique=True)  # ASCII: printed as Code 128, typed back by a scanner
    direction = CharField(max_length=12)  # up (village → township → county) / resident (back to the resident)
    destination = CharField(max_length=100)
    state = CharField(max_length=12, index=True)  # in_transit / arrived
    created_by = CharField(max_length=100)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)  # the last handover
    origin_station = CharField(max_length=32, default="")  # "" packed here; else the packing station (scanned on paper)

    @property
    def foreign(self) -> bool:
        """A batch another station packed, known here only by the barcode scanned on its paper sheet."""
        return bool(self.origin_station)


class TransferItem(BaseModel):
    """One material of one case in a batch; ``state`` says whether it travels (present), went missing, or was found extra."""

    transfer = ForeignKeyField(Transfer, backref="items", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, on_delete="SET NULL")  # none for an extra item nobody listed
    material = ForeignKeyField(CaseMaterial, null=True, on_delete="SET NULL")
    case_no = CharField(max_length=50, default="")
    item_name = CharField(max_length=200, default="")
    material_name = CharField(max_length=200)
    form = CharField(max_length=20, default="original")
    copies = IntegerField(default=1)
    state = CharField(max_length=12, default="present")  # present / missing / extra

    class Meta:
        indexes = ((("case",), False),)


class TransferHandover(BaseModel):
    """A change of custody, recorded by scanning the batch barcode: who gave, who received, when, where."""

    transfer = ForeignKeyField(Transfer, backref="handovers", on_delete="CASCADE")
    seq = IntegerField()
    giver = CharField(max_length=100)
    receiver = OpenedTextField()  # sealed when it is a resident's name (the papers given back)
    receiver_kind = CharField(max_length=12, default="staff")  # staff / resident
    place = CharField(max_length=100)
    at = DateTimeField(default=now)
    missing = JSONField(default=list)  # names of the lines found missing at this handover
    extra = JSONField(default=list)  # what was found in the folder but not on the sheet
    note = SealedTextField(default="")  # free text: sealed (0028)
    recorded_by = CharField(max_length=100)
    handover_id = CharField(max_length=80, unique=True)  # a ULID here; as the county names it when it came from there
    source = CharField(max_length=12, default="here")  # here / county (came down the county's feed)
    sent_at = DateTimeField(null=True)  # another station's batch: when the county confirmed the handover
    # another station's batch: why the county did not take this handover ("" once it did; 0025) — shown,
    # not counted for where the papers are, sent again each round; refused_at: when it last said so.
    # Sealed (0029): "" stays "", so custody still asks SQL for the refused ones (== "" / != "")
    refusal = SealedTextField(default="")
    refused_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("transfer", "seq"), True),)
