"""Issue 16: home visits (上门服务) reported by the stations (``hub_home_visit``), filed from the
``visit.recorded`` / ``visit.case_taken`` events; the resident's name, phone and address sealed.

Numbered 0018 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Station(Model):
        class Meta:
            database = db
            table_name = "hub_station"

    class HubHomeVisit(Model):
        visit_id = CharField(max_length=36, unique=True)
        station = ForeignKeyField(Station, index=True, on_delete="CASCADE")
        last_seq = IntegerField(default=0)
        visited_on = DateField(index=True)
        started_at = CharField(max_length=5)
        ended_at = CharField(max_length=5, default="")
        staff = CharField(max_length=200)
        village_code = CharField(max_length=12, default="")
        resident_name_stored = TextField()
        resident_phone_stored = TextField(default="")
        address_stored = TextField(default="")
        purpose = TextField(default="")
        outcome = CharField(max_length=16)
        outcome_note = TextField(default="")
        case_numbers = TextField(default="")
        cases_taken = IntegerField(default=0)
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "hub_home_visit"

    db.create_tables([HubHomeVisit])
