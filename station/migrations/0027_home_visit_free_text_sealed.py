"""A home visit's free text sealed at rest: what was done (``purpose``) and the outcome note may name a
relative or give a number, like a staff note. Rows recorded before this are plain.

The ciphertext needs the key ring, which the runner does not hand to a migration; so, as 0007 did, this
marks the database "plain rows pending" and create_app, holding the ring, seals every plain value
(station/services/protection.py now walks these two columns too) and clears the mark. No column changes:
both stay TEXT, read back opened (models.base.OpenedTextField), so a row not yet sealed still reads.

Numbered 0027 (reserved for this work; 0028 may be another's).
"""

import datetime as dt


def up(migrator, db):
    db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value, updated_at) VALUES ('security.plain_rows', 'pending', ?)",
        (dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),))
