"""物料流转 at the county (issue 15): transfer batches, their lines and every handover, wherever scanned.

New tables only: nothing existing changes, so a hub with stations' cases upgrades in place. Batches
a station packed before this release become known at the county with their next handover event.
"""

import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    JSONField,
    Model,
    TextField,
)


def up(migrator, db):
    def meta(name, **extra):
        return type("Meta", (), {"database": db, "table_name": name, **extra})

    Station = type("Station", (Model,), {"Meta": meta("hub_station")})
    Transfer = type("HubTransfer", (Model,), {
        "transfer_id": CharField(max_length=26, null=True, unique=True),
        "batch_no": CharField(max_length=40, index=True),
        "station": ForeignKeyField(Station, null=True, index=True, on_delete="CASCADE"),
        "direction": CharField(max_length=12, default="up"),
        "destination": CharField(max_length=100, default=""),
        "created_by": CharField(max_length=100, default=""),
        "created_at": CharField(max_length=40, default=""),
        "state": CharField(max_length=12, default="in_transit", index=True),
        "updated_at": DateTimeField(default=datetime.datetime.utcnow),
        "Meta": meta("hub_transfer"),
    })
    Item = type("HubTransferItem", (Model,), {
        "transfer": ForeignKeyField(Transfer, on_delete="CASCADE"),
        "case_id": CharField(max_length=36, default="", index=True),
        "case_no": CharField(max_length=64, default=""),
        "material_name": CharField(max_length=200),
        "form": CharField(max_length=20, default="original"),
        "copies": IntegerField(default=1),
        "state": CharField(max_length=12, default="present"),
        "Meta": meta("hub_transfer_item"),
    })
    Handover = type("HubTransferHandover", (Model,), {
        "handover_id": CharField(max_length=80, unique=True),
        "transfer": ForeignKeyField(Transfer, on_delete="CASCADE"),
        "recorded_at": ForeignKeyField(Station, null=True, on_delete="CASCADE"),
        "giver": CharField(max_length=100),
        "receiver": CharField(max_length=100),
        "receiver_kind": CharField(max_length=12, default="staff"),
        "place": CharField(max_length=100, default=""),
        "at": DateTimeField(index=True),
        "missing": JSONField(default=list),
        "extra": JSONField(default=list),
        "note": TextField(default=""),
        "arrived": BooleanField(default=False),
        "recorded_by": CharField(max_length=100, default=""),
        "created_at": DateTimeField(default=datetime.datetime.utcnow),
        "Meta": meta("hub_transfer_handover"),
    })
    db.create_tables([Transfer, Item, Handover])
