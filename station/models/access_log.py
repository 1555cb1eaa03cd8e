"""The access log (访问日志): who saw, revealed, printed or changed what, and when — hash-chained.

Rows are only ever inserted (``websec.audit.append``); the one-row head keeps the newest
``(seq, hash)`` under an HMAC so a cut-off tail shows.
"""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, TextField

from station.models.base import BaseModel


class AccessLog(BaseModel):
    seq = BigIntegerField(unique=True)
    at = DateTimeField(index=True)  # naive UTC, as the rest of the database
    actor_id = IntegerField(null=True)  # None: the command line, or a name that is not a user
    actor_name = CharField(max_length=100, default="")
    role = CharField(max_length=16, default="")
    address = CharField(max_length=64, default="")
    action = CharField(max_length=32, index=True)
    case_id = CharField(max_length=40, default="", index=True)
    object = CharField(max_length=200, default="")  # what was touched besides a case (a document, a user)
    detail = TextField(default="")  # Chinese, personal numbers masked
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        table_name = "access_log"


class AccessLogHead(BaseModel):
    id = IntegerField(primary_key=True)
    seq = BigIntegerField(default=0)
    hash = CharField(max_length=64)
    mac = CharField(max_length=64, default="")

    class Meta:
        table_name = "access_log_head"
