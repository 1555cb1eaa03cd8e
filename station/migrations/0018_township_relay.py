"""The township relay (issue 15): USB bundles held at a township, and paper originals in transit.

``relay_bundle`` keeps a village's sealed bundle until the township's link forwards it, and the
county's return bundle (sealed for the village) until a clerk exports it. ``transfer``,
``transfer_item`` and ``transfer_handover`` are the 物料流转: a batch of papers under one barcode,
its lines, and each handover.
"""

import datetime

from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    class RelayBundle(Model):
        id = AutoIncrementField()
        bundle_id = CharField(max_length=26, unique=True)
        direction = CharField(max_length=4)
        station_code = CharField(max_length=32, index=True)
        seq = IntegerField()
        events = IntegerField(default=0)
        files = IntegerField(default=0)
        size = IntegerField(default=0)
        sha256 = CharField(max_length=64)
        data = BlobField(null=True)
        state = CharField(max_length=12)
        reason = TextField(default="")
        counts = TextField(default="")
        received_at = DateTimeField(default=datetime.datetime.now)
        done_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "relay_bundle"

    db.create_tables([RelayBundle])

    class Case(Model):
        id = CharField(max_length=26, primary_key=True)

        class Meta:
            database = db
            table_name = "case"

    class CaseMaterial(Model):
        class Meta:
            database = db
            table_name = "case_material"

    class Transfer(Model):
        id = CharField(max_length=26, primary_key=True)
        batch_no = CharField(max_length=40, unique=True)
        direction = CharField(max_length=12)
        destination = CharField(max_length=100)
        state = CharField(max_length=12, index=True)
        created_by = CharField(max_length=100)
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)

        class Meta:
            database = db
            table_name = "transfer"

    class TransferItem(Model):
        transfer = ForeignKeyField(Transfer, on_delete="CASCADE")
        case = ForeignKeyField(Case, null=True, on_delete="SET NULL")
        material = ForeignKeyField(CaseMaterial, null=True, on_delete="SET NULL")
        case_no = CharField(max_length=50, default="")
        item_name = CharField(max_length=200, default="")
        material_name = CharField(max_length=200)
        form = CharField(max_length=20, default="original")
        copies = IntegerField(default=1)
        state = CharField(max_length=12, default="present")

        class Meta:
            database = db
            table_name = "transfer_item"
            indexes = ((("case",), False),)

    class TransferHandover(Model):
        transfer = ForeignKeyField(Transfer, on_delete="CASCADE")
        seq = IntegerField()
        giver = CharField(max_length=100)
        receiver = TextField()
        receiver_kind = CharField(max_length=12, default="staff")
        place = CharField(max_length=100)
        at = DateTimeField(default=datetime.datetime.now)
        missing = TextField(default="[]")
        extra = TextField(default="[]")
        note = TextField(default="")
        recorded_by = CharField(max_length=100)

        class Meta:
            database = db
            table_name = "transfer_handover"
            indexes = ((("transfer", "seq"), True),)

    db.create_tables([Transfer, TransferItem, TransferHandover])
