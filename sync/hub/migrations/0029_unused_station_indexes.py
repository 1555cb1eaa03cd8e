"""Two indexes no query reads, paid for on every write: ``hub_event.station_id`` and ``hub_nonce.station_id``.

Every accepted event inserted a ``station_id`` entry into ``event_station_id``, yet the hub never
looks events up by station alone: a station's events are read by case (``case_id, seq``), and
stations are never deleted. Replaying real station batches into a copy of the table, the index
cost the database ~4 µs of CPU per event row (docs/benchmarks.md, "Session 9"). ``hub_nonce``
has the unique ``(station_id, value)`` index, whose first column serves everything the lone
``station_id`` index did (the foreign key's cascade included); one index write fewer per request.
"""


def up(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "event_station_id"')
    db.execute_sql('DROP INDEX IF EXISTS "nonce_station_id"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "event_station_id" ON "hub_event" ("station_id")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "nonce_station_id" ON "hub_nonce" ("station_id")')
