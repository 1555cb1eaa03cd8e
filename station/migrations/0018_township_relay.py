"""The township relay (issue 15): USB bundles held at a township for forwarding, and back.

``relay_bundle`` keeps a village's sealed bundle until the township's link forwards it, and the
county's return bundle (sealed for the village) until a clerk exports it.
"""

import datetime

from peewee import BlobField, CharField, DateTimeField, IntegerField, Model, TextField
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
