"""An event row up to a page long stays in its page, uncompressed (``toast_tuple_target``, PostgreSQL).

An event's body is stored sealed: base64 of ciphertext, which pglz cannot shrink. Rows over
PostgreSQL's default threshold (~2 KB; a third of real events, which average 1.6 KB and reach
3.5 KB with their materials and form) were first run through pglz in vain and then moved to the
table's TOAST relation: a second heap row and a TOAST index entry per event, read back through a
second lookup. Replaying the COPYs of real station batches into a copy of the table, that cost
the database ~47 → ~39 µs of CPU an event row at its best (docs/benchmarks.md, "Session 9").
8160 is the largest target PostgreSQL takes; larger rows still go to TOAST. ``hub_case`` already
keeps its rows inline up to 4 KB (migration 0022); its snapshot, partly plain JSON, does compress.

Only rows written from now on are affected; SQLite has no such setting.
"""

from peewee import PostgresqlDatabase


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE hub_event SET (toast_tuple_target = 8160)")


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE hub_event RESET (toast_tuple_target)")
