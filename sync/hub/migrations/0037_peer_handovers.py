"""跨域办: the handovers of a batch travel to the county that handles all its cases (``hub_peer_handover``).

Hub A forwards to hub B the handovers of such a batch recorded before B had it — a township's scan,
county A's own — as a station sends its own (``POST /api/v1/transfers/handovers``); one row per
handover and peer records B's final answer. B keeps who recorded a relayed handover
(``recorded_where``: the township's name, not county A for all). ``via_event`` marks a handover that
came as its station's ``case.originals_handover`` event: it reaches B with the case's events, so
it is not sent a second time.

Backfill of ``via_event``: a handover recorded by the station that packed the batch, whose id is
not the ``{station code}:{id}`` a handover push stores (the event's own id, or the
``{code}:{batch}:{n}`` of an event without one). Nothing else changes; a hub upgrades in place and
its batches of another county's cases go at its next peer round.

Numbered 0037 on the custody branch (the lead renumbers on merge).
"""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("hub_transfer_handover", "recorded_where",
                                         CharField(max_length=100, default="")),
                     migrator.add_column("hub_transfer_handover", "via_event", BooleanField(default=False)))
    rows = db.execute_sql(
        "SELECT h.id, h.handover_id, s.code FROM hub_transfer_handover h "
        "JOIN hub_transfer t ON t.id = h.transfer_id JOIN hub_station s ON s.id = h.recorded_at_id "
        "WHERE h.recorded_at_id = t.station_id").fetchall()
    from_events = [row_id for row_id, handover_id, code in rows
                   if not handover_id.startswith(f"{code}:") or ":" in handover_id[len(code) + 1:]]
    for at in range(0, len(from_events), 500):
        chunk = from_events[at:at + 500]
        marks = ", ".join([db.param] * len(chunk))
        db.execute_sql(f"UPDATE hub_transfer_handover SET via_event = {db.param} WHERE id IN ({marks})", [True, *chunk])

    def meta(name, **extra):
        return type("Meta", (), {"database": db, "table_name": name, **extra})

    Peer = type("Peer", (Model,), {"Meta": meta("hub_peer")})
    PeerHandover = type("PeerHandover", (Model,), {
        "handover_id": CharField(max_length=80),
        "peer": ForeignKeyField(Peer, on_delete="CASCADE"),
        "batch_no": CharField(max_length=40),
        "state": CharField(max_length=16),
        "reason": TextField(null=True),
        "answered_at": DateTimeField(),
        "Meta": meta("hub_peer_handover", indexes=((("peer", "handover_id"), True),)),
    })
    db.create_tables([PeerHandover])


def down(migrator, db):
    db.execute_sql("DROP TABLE hub_peer_handover")
    migrator.migrate(migrator.drop_column("hub_transfer_handover", "via_event"),
                     migrator.drop_column("hub_transfer_handover", "recorded_where"))
