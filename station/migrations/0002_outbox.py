"""Sync: the transactional outbox (its events reach the county exactly once, in order per case)."""

import datetime

from peewee import CharField, DateField, DateTimeField, IntegerField, Model, TextField
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    class OutboxEvent(Model):
        id = AutoIncrementField()
        event_id = CharField(max_length=26, unique=True)
        case_id = CharField(max_length=26, index=True)
        seq = IntegerField()
        kind = CharField(max_length=40)
        payload = TextField()
        occurred_at = CharField(max_length=32)
        catalog_version = CharField(max_length=40, default="")
        deadline = DateField(null=True, index=True)
        state = CharField(max_length=12, default="queued", index=True)
        attempts = IntegerField(default=0)
        last_attempt_at = DateTimeField(null=True)
        result = CharField(max_length=12, default="")
        result_code = CharField(max_length=40, default="")
        reason = TextField(default="")
        acked_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.now)

        class Meta:
            database = db
            table_name = "outbox_event"
            indexes = ((("case_id", "seq"), True),)

    db.create_tables([OutboxEvent])
