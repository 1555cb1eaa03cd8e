"""考核时限 fixed per case: the county's assessed limit as the station held it when the case was taken.

The station measured every case's 考核 line against the county's current setting, so when the
county changed an item's limit, last month's 考核 figures changed with it — and no longer matched
the county's, which fixes the limit when the case arrives. A case taken from now on keeps the limit
the station held at intake; the cases already here keep the one in force at this upgrade (the
nearest to theirs the station can know). None where no limit was known: the current setting applies.

Numbered 0031 on the numbers branch (the lead renumbers on merge).
"""

import json

from peewee import IntegerField

ASSESSED_DAYS = "hub.assessed_days"  # station/services/time_lines.py


def up(migrator, db):
    migrator.migrate(migrator.add_column("case", "assessed_days", IntegerField(null=True)))
    row = db.execute_sql("SELECT value FROM setting WHERE key = ?", (ASSESSED_DAYS,)).fetchone()
    try:
        table = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        table = {}
    for code, days in (table.items() if isinstance(table, dict) else ()):
        if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
            db.execute_sql('UPDATE "case" SET assessed_days = ? WHERE item_id IN '
                           "(SELECT id FROM service_item WHERE item_code = ?)", (days, str(code)))
