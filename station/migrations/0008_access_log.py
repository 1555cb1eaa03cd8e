"""The access log (issue 11): an append-only, hash-chained record of who saw or changed what.

``access_log`` holds the entries, ``access_log_head`` the newest (seq, hash) sealed with the
instance secret. Numbered 0008: 0007 is the encryption of personal data; the runner orders by
number and does not mind a gap.
"""

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class AccessLog(Model):
        seq = BigIntegerField(unique=True)
        at = DateTimeField(index=True)
        actor_id = IntegerField(null=True)
        actor_name = CharField(max_length=100, default="")
        role = CharField(max_length=16, default="")
        address = CharField(max_length=64, default="")
        action = CharField(max_length=32, index=True)
        case_id = CharField(max_length=40, default="", index=True)
        object = CharField(max_length=200, default="")
        detail = TextField(default="")
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "access_log"

    class AccessLogHead(Model):
        id = IntegerField(primary_key=True)
        seq = BigIntegerField(default=0)
        hash = CharField(max_length=64)
        mac = CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "access_log_head"

    db.create_tables([AccessLog, AccessLogHead])
