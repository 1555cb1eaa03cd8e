"""Licence numbers sealed at rest: a result's certificate number and a material's e-licence number.

A 残疾人证's number is its holder's ID number followed by two digits. The county sends it as the
certificate number of a completed 残疾人证办理 case (``case.result_certificate_no``), and a later case
that relies on the card from the county's licence register keeps it as the material's e-licence number
(``case_material.e_license_no``). The licence lookup itself was sealed (``licence_check.licence``), but
these two columns kept the number plain: a stolen PC's database file gave away the ID number.

Both are SealedCharField now (every write seals, every read opens). As 0028 and 0029: the ciphertext
needs the key ring, which the runner does not hand to a migration, so this marks the database "plain rows
pending" and create_app, holding the ring, seals every plain value (the walk in
station/services/protection.py covers these columns now) and clears the mark. No column changes: both
stay VARCHAR, which SQLite does not hold to its length, and a value not yet sealed reads as it is.

Numbered 0030 on the privacy branch (the lead renumbers on merge).
"""

import datetime as dt


def up(migrator, db):
    db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value, updated_at) VALUES ('security.plain_rows', 'pending', ?)",
        (dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),))
