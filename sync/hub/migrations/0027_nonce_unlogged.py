"""Replay protection without a disk write per request: ``hub_nonce`` becomes UNLOGGED on PostgreSQL.

Every signed request inserts its nonce in its own transaction, and that commit waited for the
write-ahead log: ~90 µs of the database's CPU of every small batch, for a row kept ten minutes.
An unlogged table writes no log. What that gives up: after a crash of the database (not a clean
restart) the table comes back empty, so a request captured in the five minutes before the crash
could be replayed once until its timestamp runs out. Every station request is idempotent by design
(events and files are taken exactly once by id and digest; pulls read), so a replay then changes
nothing. Unlogged tables are not copied to a standby either: a promoted standby starts the same way.

SQLite has no such thing; nothing changes there. Numbered 0027: 0026 is reserved for other work.
"""

from peewee import PostgresqlDatabase


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "hub_nonce" SET UNLOGGED')


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "hub_nonce" SET LOGGED')
