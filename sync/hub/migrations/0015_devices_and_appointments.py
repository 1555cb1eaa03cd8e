"""Issue 16: a second device at one station (``hub_device``, each with its own sealed secret, and each
device's access-log chain apart), and appointments (``hub_appointment_offer``, ``hub_appointment``).

Numbered 0015 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    JSONField,
    Model,
    TextField,
)


def up(migrator, db):
    class Station(Model):
        class Meta:
            database = db
            table_name = "hub_station"

    class Device(Model):
        station = ForeignKeyField(Station, on_delete="CASCADE")
        number = IntegerField()
        name = CharField(max_length=60)
        secret = CharField(max_length=128)
        active = BooleanField(default=True)
        created_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        revoked_reason = CharField(max_length=200, null=True)
        last_seen_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "hub_device"
            indexes = ((("station", "number"), True), (("station", "name"), True))

    db.create_tables([Device])
    # each device of a station chains its own access log from seq 1
    # NOT NULL with its default in one statement (peewee's add_column would rebuild the table on SQLite)
    db.execute_sql("ALTER TABLE hub_station_access_log ADD COLUMN device INTEGER NOT NULL DEFAULT 0")
    migrator.migrate(
        migrator.drop_index("hub_station_access_log", "stationaccesslog_station_id_seq"),
        migrator.add_index("hub_station_access_log", ("station_id", "device", "seq"), True),
    )

    # appointments (预约): each station's published offer and the bookings for it
    class AppointmentOffer(Model):
        station = ForeignKeyField(Station, unique=True, on_delete="CASCADE")
        body = JSONField(default=dict)
        published_at = DateTimeField()
        bookings = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "hub_appointment_offer"

    class Appointment(Model):
        appointment_id = CharField(max_length=36, unique=True)
        station = ForeignKeyField(Station, index=True, on_delete="CASCADE")
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
        source = CharField(max_length=16, default="public")
        case_id = CharField(max_length=36, null=True)
        case_no = CharField(max_length=64, null=True)
        case_query_code = CharField(max_length=32, null=True)
        note = CharField(max_length=200, default="")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "hub_appointment"

    db.create_tables([AppointmentOffer, Appointment])
