"""``hub_nonce`` loses its foreign key to ``hub_station``: the replay check stops waiting for the disk.

0027 made the nonce table UNLOGGED so that the insert every signed request makes would not wait
for the write-ahead log. It still did: the foreign key's check locks the station's row (``FOR KEY
SHARE``), and locking a row of a logged table is itself logged, so each nonce's commit still
flushed the log — ~235 µs of the database's CPU per request against ~90 µs without the key
(docs/benchmarks.md, "Session 10"). A nonce lives a few minutes, is only looked up with its
station, and stations are never deleted, so the key protected nothing.

PostgreSQL drops the constraint (whatever its name). SQLite cannot drop a constraint: the table is
rebuilt with its rows, as SQLite's documentation prescribes. Numbered 0031: 0030 is reserved for
other work.
"""

from peewee import PostgresqlDatabase

_SQLITE_TABLE = ('CREATE TABLE "{name}" ("id" INTEGER NOT NULL PRIMARY KEY, "station_id" INTEGER NOT NULL, '
                 '"value" VARCHAR(128) NOT NULL, "seen_at" INTEGER NOT NULL{key})')
_SQLITE_KEY = ', FOREIGN KEY ("station_id") REFERENCES "hub_station" ("id") ON DELETE CASCADE'


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for (name,) in db.execute_sql("SELECT conname FROM pg_constraint WHERE conrelid = 'hub_nonce'::regclass "
                                      "AND contype = 'f'").fetchall():
            db.execute_sql(f'ALTER TABLE "hub_nonce" DROP CONSTRAINT "{name}"')
    else:
        _rebuild_sqlite(db, key="")


def down(migrator, db):
    # a nonce of no station would refuse the key; nonces live minutes, so these are simply dropped
    db.execute_sql('DELETE FROM "hub_nonce" WHERE "station_id" NOT IN (SELECT "id" FROM "hub_station")')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "hub_nonce" ADD FOREIGN KEY ("station_id") REFERENCES "hub_station" ("id") '
                       'ON DELETE CASCADE')
    else:
        _rebuild_sqlite(db, key=_SQLITE_KEY)


def _rebuild_sqlite(db, *, key):
    with db.atomic():
        db.execute_sql(_SQLITE_TABLE.format(name="hub_nonce_new", key=key))
        db.execute_sql('INSERT INTO "hub_nonce_new" ("id", "station_id", "value", "seen_at") '
                       'SELECT "id", "station_id", "value", "seen_at" FROM "hub_nonce"')
        db.execute_sql('DROP TABLE "hub_nonce"')
        db.execute_sql('ALTER TABLE "hub_nonce_new" RENAME TO "hub_nonce"')
        db.execute_sql('CREATE UNIQUE INDEX "nonce_station_id_value" ON "hub_nonce" ("station_id", "value")')
        db.execute_sql('CREATE INDEX "nonce_seen_at" ON "hub_nonce" ("seen_at")')
