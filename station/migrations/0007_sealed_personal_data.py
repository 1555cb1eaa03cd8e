"""Personal data sealed at rest: a keyed blind index for ID-number lookups, old plain rows marked for sealing,
and the date a case's personal data was purged under the retention setting.

The ciphertext needs the key ring, which lives outside the database and which the migration
runner does not hand to a migration; so this migration only adds the blind-index column and
marks the database "plain rows pending". create_app, holding the ring, then seals every plain
case, outbox payload, stored secret and scan (station/services/protection.py), in batches,
idempotently (a sealed value is left alone), and clears the mark when done: a start interrupted
half-way simply carries on at the next start.
"""

import datetime as dt

from peewee import CharField, DateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column("case", "applicant_id_index", CharField(max_length=64, default="")))
    migrator.migrate(migrator.add_index("case", ("applicant_id_index",)))
    # retention: when a closed, acknowledged case's scans and full numbers were purged
    migrator.migrate(migrator.add_column("case", "personal_purged_at", DateTimeField(null=True)))
    db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value, updated_at) VALUES ('security.plain_rows', 'pending', ?)",
        (dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),))
