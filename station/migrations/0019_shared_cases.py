"""A second device at one station (issue 16): read-only copies of the cases its other devices took.

Numbered 0019 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import CharField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class SharedCase(Model):
        id = CharField(max_length=36, primary_key=True)
        case_no = CharField(max_length=64, index=True)
        query_code = CharField(max_length=32, default="")
        item_name = CharField(max_length=200, default="")
        applicant_name = CharField(max_length=100, default="")
        origin_device = IntegerField(default=0)
        status = CharField(max_length=16, default="")
        hub_case_no = CharField(max_length=50, default="")
        received_at = CharField(max_length=40, default="")
        snapshot = TextField(default="{}")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "shared_case"

    db.create_tables([SharedCase])
