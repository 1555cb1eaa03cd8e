"""Three more free texts sealed at rest: why the county refused a paper handover, a rating's words, and why
the county set an outbox event aside.

``transfer_handover.refusal``, ``evaluation.reason_text`` and ``outbox_event.reason`` are now
SealedTextField (sync/local_db.py: every write seals, every read opens). A resident's own words in a
好差评 can name her or a relative; the county's reason for setting an event aside can echo the name or
number it found wrong; until now a stolen PC's database file showed them.

As 0028: the ciphertext needs the key ring, which the runner does not hand to a migration, so this marks
the database "plain rows pending" and create_app, holding the ring, seals every plain value (the walk in
station/services/protection.py covers these columns now) and clears the mark. No column changes: all stay
TEXT, and a value not yet sealed reads as it is. The walk rewrites only the reason of an outbox event, never
its state or its payload: what is queued stays queued and goes once, what was sent is not sent again.

Numbered 0029 (reserved for this work).
"""

import datetime as dt


def up(migrator, db):
    db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value, updated_at) VALUES ('security.plain_rows', 'pending', ?)",
        (dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),))
