"""The rest of a case's free text sealed at rest, and postal handovers that stored a ciphertext as their address.

Sealed now (models.base.SealedTextField / SealedJSONField: the field seals every write and opens every
read): the county's reason and result text on the case, a material's 不适用 reason, every timeline line
and its payload (the county's changes carry its reason, result text and note), a 整改's record (fix,
the resident's answer, closing note, what was said on each contact), a booking's note and a paper
handover's note. Each may name a relative or give a number; retention clears them when the case goes,
but until then a stolen PC's database file showed them.

As 0007 and 0027: the ciphertext needs the key ring, which the runner does not hand to a migration, so
this marks the database "plain rows pending" and create_app, holding the ring, seals every plain value
(station/services/protection.py walks these columns now) and clears the mark. No column changes: all stay
TEXT (a booking's note VARCHAR, which SQLite does not hold to its length: SealedCharField), and a value not yet sealed reads
as it is. The same walk puts right a postal handover recorded with no address typed before 81d22e3, whose
address is the applicant's address column's ciphertext (protection.postal_address_repairs).

Numbered 0028 (reserved for this work).
"""

import datetime as dt


def up(migrator, db):
    db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value, updated_at) VALUES ('security.plain_rows', 'pending', ?)",
        (dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),))
