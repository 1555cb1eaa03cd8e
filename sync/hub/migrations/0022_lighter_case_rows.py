"""Lighter case and event rows (issue 17: the database's CPU per accepted event).

Measured on real station batches (docs/benchmarks.md, "Session 7"): writing a case row cost
PostgreSQL about 60 µs before its indexes, most of it parsing the 1.8 KB snapshot as ``json`` and
then compressing it (pglz) because the row passed 2 KB; an event row parsed its 1.4 KB sealed body
the same way. Nothing queries inside either, so:

- ``hub_case.snapshot`` and ``hub_event.body`` become ``text`` on PostgreSQL (SQLite's ``JSON`` is
  only an affinity and stays), and a case row stays inline and uncompressed up to 4 KB
  (``toast_tuple_target``): about 20 µs a row instead of 60;
- ``hub_case.status`` loses its own index: ``(status, committed_due)`` leads with it;
- ``bundle_group``, ``handling_area``, ``proxy_id_index`` and ``hub_case_no`` are indexed only where
  set: most cases leave them empty, and every case paid an index entry for its NULLs.

On a large PostgreSQL hub the type change rewrites both tables once (minutes for millions of rows).
"""

from peewee import PostgresqlDatabase

SPARSE = (("hub_case_bundle_group", "bundle_group", ""), ("hub_case_handling_area", "handling_area", ""),
          ("hub_case_proxy_id_index", "proxy_id_index", ""), ("hubcase_hub_case_no", "hub_case_no", "UNIQUE "))


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE hub_case ALTER COLUMN snapshot TYPE text USING snapshot::text")
        db.execute_sql("ALTER TABLE hub_case SET (toast_tuple_target = 4080)")
        db.execute_sql("ALTER TABLE hub_event ALTER COLUMN body TYPE text USING body::text")
    db.execute_sql("DROP INDEX IF EXISTS hubcase_status")
    for name, column, unique in SPARSE:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
        db.execute_sql(f'CREATE {unique}INDEX {name} ON hub_case ("{column}") WHERE "{column}" IS NOT NULL')


def down(migrator, db):
    for name, column, unique in SPARSE:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
        db.execute_sql(f'CREATE {unique}INDEX {name} ON hub_case ("{column}")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS hubcase_status ON hub_case ("status")')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE hub_case RESET (toast_tuple_target)")
        db.execute_sql("ALTER TABLE hub_case ALTER COLUMN snapshot TYPE json USING snapshot::json")
        db.execute_sql("ALTER TABLE hub_event ALTER COLUMN body TYPE json USING body::json")
