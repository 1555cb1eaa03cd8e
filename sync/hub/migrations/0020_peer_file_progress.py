"""跨域办 forwarding, file by file (issue 17): how much of each file a peer holds, for the peers page.

A new table only: nothing existing changes, so a hub with a forward queue upgrades in place. Files
forwarded before this release show their progress from the next round on (the round asks the
peer's status of each file it still has to send).
"""

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    def meta(name, **extra):
        return type("Meta", (), {"database": db, "table_name": name, **extra})

    Peer = type("Peer", (Model,), {"Meta": meta("hub_peer")})
    PeerFile = type("PeerFile", (Model,), {
        "peer": ForeignKeyField(Peer, on_delete="CASCADE"),
        "sha256": CharField(max_length=64),
        "size": BigIntegerField(),
        "held": BigIntegerField(default=0),
        "updated_at": DateTimeField(),
        "Meta": meta("hub_peer_file", indexes=((("peer", "sha256"), True),)),
    })
    db.create_tables([PeerFile])
