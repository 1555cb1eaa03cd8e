"""Sync keeps its own bookkeeping: the `sync.*` rows move from `setting` into `sync_state`.

The link to the hub, the changes cursor, the learned clock offset and the last round's outcome
belonged to sync but lived among the station's settings. A station upgraded in the field keeps
its link and its cursor: the rows are moved, not re-created (the key loses its `sync.` prefix).
"""

import datetime

from peewee import CharField, DateTimeField, Model, TextField


def up(migrator, db):
    class SyncState(Model):
        key = CharField(max_length=80, primary_key=True)
        value = TextField(default="")
        updated_at = DateTimeField(default=datetime.datetime.now)

        class Meta:
            database = db
            table_name = "sync_state"

    db.create_tables([SyncState])
    db.execute_sql(
        "INSERT INTO sync_state (key, value, updated_at) "
        "SELECT substr(key, 6), value, updated_at FROM setting WHERE substr(key, 1, 5) = 'sync.'")
    db.execute_sql("DELETE FROM setting WHERE substr(key, 1, 5) = 'sync.'")
    # "down" used to stand for every failure; sync now names each, and an unreachable hub is the old meaning
    db.execute_sql("UPDATE sync_state SET value = 'unreachable' WHERE key = 'link_state' AND value = 'down'")
