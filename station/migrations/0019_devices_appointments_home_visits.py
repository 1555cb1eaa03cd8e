"""Issue 16: read-only copies of the cases a station's other devices took (``shared_case``), and
appointments (``appointment``: booked by agents for callers, or by residents at the county), and
home visits (``home_visit``, with the cases taken during one in ``home_visit_case``).

Numbered 0019 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, Model, TextField


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

    class Appointment(Model):
        id = CharField(max_length=36, primary_key=True)
        code = CharField(max_length=16, unique=True)
        slot_date = DateField(index=True)
        slot_start = CharField(max_length=5)
        slot_end = CharField(max_length=5)
        item_code = CharField(max_length=64, default="")
        item_name = CharField(max_length=200, default="")
        name_stored = TextField()
        phone_stored = TextField()
        phone_index = CharField(max_length=64, index=True)
        address_stored = TextField(default="")
        home_visit = BooleanField(default=False)
        status = CharField(max_length=16, default="booked")
        source = CharField(max_length=16, default="station")
        case_id = CharField(max_length=36, default="")
        case_no = CharField(max_length=64, default="")
        case_query_code = CharField(max_length=32, default="")
        note = CharField(max_length=200, default="")
        booked_by = CharField(max_length=100, default="")
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=0)
        sent_version = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "appointment"

    class HomeVisit(Model):
        id = CharField(max_length=36, primary_key=True)
        visited_on = DateField(index=True)
        started_at = CharField(max_length=5)
        ended_at = CharField(max_length=5, default="")
        staff = CharField(max_length=200)
        resident_name_stored = TextField()
        resident_phone_stored = TextField(default="")
        address_stored = TextField()
        purpose = TextField(default="")
        outcome = CharField(max_length=16)
        outcome_note = TextField(default="")
        appointment_id = CharField(max_length=36, default="")
        created_by = CharField(max_length=100, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "home_visit"

    class HomeVisitCase(Model):
        visit_id = CharField(max_length=36, index=True)
        case_id = CharField(max_length=26, unique=True)

        class Meta:
            database = db
            table_name = "home_visit_case"

    db.create_tables([SharedCase, Appointment, HomeVisit, HomeVisitCase])
