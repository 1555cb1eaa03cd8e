"""好差评 and 差评整改 (issue 18): ratings in one plain table, a follow-up per 差评, its contacts.

Numbered 0009 (reserved for this work); the runner orders by number and does not mind a gap.
"""

import datetime as dt

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, Model, TextField


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Station(Model):
        class Meta:
            database = db
            table_name = "hub_station"

    class HubEvaluation(Model):
        evaluation_id = CharField(max_length=36, unique=True)
        station = ForeignKeyField(Station, index=True)
        case_id = CharField(max_length=36, index=True)
        case_no = CharField(max_length=64, null=True)
        visit = CharField(max_length=40)
        kind = CharField(max_length=16, default="first")
        level = CharField(max_length=24, index=True)
        reason_tag = CharField(max_length=24, default="")
        reason_text = TextField(default="")
        channel = CharField(max_length=16)
        source = CharField(max_length=8)
        agent = CharField(max_length=64, default="")
        created_at = DateTimeField(default=_now, index=True)

        class Meta:
            database = db
            table_name = "hub_evaluation"
            indexes = ((("case_id", "visit", "kind"), True),)

    class Remedy(Model):
        evaluation_id = CharField(max_length=36, unique=True)
        station = ForeignKeyField(Station, index=True)
        case_id = CharField(max_length=36, index=True)
        owner = CharField(max_length=64, default="")
        status = CharField(max_length=16, default="open", index=True)
        opened_at = DateTimeField(default=_now)
        callback_due = DateField()
        fix_due = DateField()
        first_contact_at = DateTimeField(null=True)
        fix_text = TextField(default="")
        fixed_at = DateTimeField(null=True)
        resident_answer = TextField(default="")
        closing_note = TextField(default="")
        closed_at = DateTimeField(null=True)
        closed_by = CharField(max_length=64, default="")
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "hub_remedy"

    class RemedyContact(Model):
        remedy = ForeignKeyField(Remedy, on_delete="CASCADE")
        at = DateTimeField()
        method = CharField(max_length=16)
        said = TextField()
        by = CharField(max_length=64)
        created_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "hub_remedy_contact"

    db.create_tables([HubEvaluation, Remedy, RemedyContact])
