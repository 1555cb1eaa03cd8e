"""The access log (issue 11): the hub's own hash-chained log, its sealed head, and the stations'
logs as they arrive (one row per station and seq). Numbered 0004: 0003 is the encryption of
personal data; the runner orders by number and does not mind a gap.
"""

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Station(Model):
        class Meta:
            database = db
            table_name = "hub_station"

    def entry_fields(seq_unique):
        return {
            "seq": BigIntegerField(unique=seq_unique),
            "at": DateTimeField(index=True),
            "actor_id": IntegerField(null=True),
            "actor_name": CharField(max_length=100, default=""),
            "role": CharField(max_length=16, default=""),
            "address": CharField(max_length=64, default=""),
            "action": CharField(max_length=32, index=True),
            "case_id": CharField(max_length=40, default="", index=True),
            "object": CharField(max_length=200, default=""),
            "detail": TextField(default=""),
            "prev_hash": CharField(max_length=64),
            "hash": CharField(max_length=64),
        }

    HubAccessLog = type("HubAccessLog", (Model,), {
        **entry_fields(True), "Meta": type("Meta", (), {"database": db, "table_name": "hub_access_log"})})
    HubAccessLogHead = type("HubAccessLogHead", (Model,), {
        "id": IntegerField(primary_key=True), "seq": BigIntegerField(default=0), "hash": CharField(max_length=64),
        "mac": CharField(max_length=64, default=""),
        "Meta": type("Meta", (), {"database": db, "table_name": "hub_access_log_head"})})
    StationAccessLog = type("StationAccessLog", (Model,), {
        **entry_fields(False),
        "station": ForeignKeyField(Station, on_delete="CASCADE"),
        "received_at": DateTimeField(),
        "Meta": type("Meta", (), {"database": db, "table_name": "hub_station_access_log",
                                  "indexes": ((("station", "seq"), True),)})})
    db.create_tables([HubAccessLog, HubAccessLogHead, StationAccessLog])
