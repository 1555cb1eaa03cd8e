"""跨域办 between county platforms: peer hubs, the forward queue's answers, and where a case was taken
and is handled (GB/T 39046's 申报地 / 受理地 / 办结地, ../shared/DOMAIN.md).

``hub_station.is_peer`` marks a "station" that is another county's hub forwarding cases handled
here; ``hub_case.received_area`` / ``handling_area`` come from the station's case.submitted body
(null: taken and handled in this county). Numbered 0016: the runner orders by number and does not
mind a gap.
"""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)


def up(migrator, db):
    # NOT NULL with its default in one statement: peewee's add_column would add it nullable and then
    # rebuild the table on SQLite to make it NOT NULL, and that rebuild's DROP fails on the foreign
    # keys of a hub that already holds stations' cases.
    boolean = "BOOLEAN NOT NULL DEFAULT false" if isinstance(db, PostgresqlDatabase) else "INTEGER NOT NULL DEFAULT 0"
    db.execute_sql(f"ALTER TABLE hub_station ADD COLUMN is_peer {boolean}")
    migrator.migrate(
        migrator.add_column("hub_case", "received_area", CharField(max_length=12, null=True)),
        migrator.add_column("hub_case", "handling_area", CharField(max_length=12, null=True)),
        migrator.add_index("hub_case", ("handling_area",), False),
    )

    def meta(name, **extra):
        return type("Meta", (), {"database": db, "table_name": name, **extra})

    Peer = type("Peer", (Model,), {
        "area_code": CharField(max_length=12, unique=True),
        "name": CharField(max_length=100),
        "url": CharField(max_length=300),
        "station_code": CharField(max_length=32),
        "secret": CharField(max_length=512),
        "active": BooleanField(default=True),
        "changes_cursor": BigIntegerField(default=0),
        "last_error": TextField(default=""),
        "last_contact_at": DateTimeField(null=True),
        "created_at": DateTimeField(),
        "Meta": meta("hub_peer"),
    })
    PeerForward = type("PeerForward", (Model,), {
        "event_id": CharField(max_length=36, unique=True),
        "peer": ForeignKeyField(Peer, on_delete="CASCADE"),
        "case_id": CharField(max_length=36, index=True),
        "seq": IntegerField(),
        "state": CharField(max_length=16),
        "code": CharField(max_length=32, null=True),
        "reason": TextField(null=True),
        "answered_at": DateTimeField(),
        "Meta": meta("hub_peer_forward"),
    })
    db.create_tables([Peer, PeerForward])
