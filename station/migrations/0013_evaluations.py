"""好差评 at the station, the county's 整改 as it comes down, and the record of telling the resident
(issue 18). Numbered 0013 (reserved for this work); the runner does not mind a gap.
"""

import datetime as dt

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def _now():
    return dt.datetime.now().astimezone()


def up(migrator, db):
    class Case(Model):
        id = CharField(max_length=26, primary_key=True)

        class Meta:
            database = db
            table_name = "case"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Evaluation(Model):
        id = AutoField()
        evaluation_id = CharField(max_length=36, unique=True)
        case = ForeignKeyField(Case, on_delete="CASCADE")
        visit = CharField(max_length=40)
        kind = CharField(max_length=16, default="first")
        level = CharField(max_length=24, index=True)
        reason_tag = CharField(max_length=24, default="")
        reason_text = TextField(default="")
        channel = CharField(max_length=16)
        source = CharField(max_length=8)
        agent = CharField(max_length=60, default="")
        created_at = DateTimeField(default=_now, index=True)

        class Meta:
            database = db
            table_name = "evaluation"
            indexes = ((("case", "visit", "kind"), True),)

    class Remedy(Model):
        id = AutoField()
        remedy_id = IntegerField(unique=True)
        case = ForeignKeyField(Case, on_delete="CASCADE")
        evaluation_id = CharField(max_length=36)
        status = CharField(max_length=16, index=True)
        data = TextField(default="{}")
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "remedy"

    class ResidentNotice(Model):
        id = AutoField()
        case = ForeignKeyField(Case, on_delete="CASCADE")
        reason = CharField(max_length=16)
        method = CharField(max_length=16)
        outcome = CharField(max_length=16, default="told")
        note = TextField(default="")
        by = ForeignKeyField(User, on_delete="RESTRICT")
        told_at = DateTimeField(default=_now, index=True)

        class Meta:
            database = db
            table_name = "resident_notice"

    db.create_tables([Evaluation, Remedy, ResidentNotice])
