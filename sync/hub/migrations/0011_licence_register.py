"""The county's licence register (issue 20): licences issued by cases the county completed, or imported.

Numbered 0011 (numbers reserved per issue); the runner orders by number and does not mind a gap.
"""

import datetime as dt

from peewee import CharField, DateField, DateTimeField, Model, TextField


def up(migrator, db):
    class Licence(Model):
        kind = CharField(max_length=60)
        number_stored = TextField()
        number_index = CharField(max_length=64)
        holder_index = CharField(max_length=64, index=True)
        holder_id_stored = TextField()
        holder_name = CharField(max_length=100, default="")
        issuer = CharField(max_length=100)
        issued_on = DateField(null=True)
        valid_until = DateField(null=True)
        source = CharField(max_length=16)
        case_id = CharField(max_length=36, null=True)
        created_at = DateTimeField(default=dt.datetime.utcnow)

        class Meta:
            database = db
            table_name = "hub_licence"
            indexes = ((("kind", "number_index"), True),)

    db.create_tables([Licence])
