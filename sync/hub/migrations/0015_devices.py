"""A second device at one station (issue 16): ``hub_device``, each with its own sealed secret.

Numbered 0015 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


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
    migrator.migrate(
        migrator.add_column("hub_station_access_log", "device", IntegerField(default=0)),
        migrator.drop_index("hub_station_access_log", "stationaccesslog_station_id_seq"),
        migrator.add_index("hub_station_access_log", ("station_id", "device", "seq"), True),
    )
