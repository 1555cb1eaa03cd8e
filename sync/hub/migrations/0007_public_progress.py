"""The resident's public progress page: find a case by its query code, and a bundle's other items.

``bundle_group`` (一件事 bundles: the cases a station took together) was only inside the snapshot;
it is copied out for an indexed lookup, and filled in for the cases already held.
"""

import json

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_case", "bundle_group", CharField(max_length=40, null=True)),
        migrator.add_index("hub_case", ("bundle_group",), False),
        migrator.add_index("hub_case", ("query_code",), False),
    )
    backfill(db)


def backfill(db):
    """Copy ``bundle_group`` out of the snapshots of the cases already held."""
    rows = db.execute_sql("SELECT id, snapshot FROM hub_case").fetchall()
    for case_id, snapshot in rows:
        try:
            data = json.loads(snapshot) if isinstance(snapshot, str) else (snapshot or {})
        except ValueError:
            continue
        group = str((data or {}).get("bundle_group") or "")[:40] if isinstance(data, dict) else ""
        if group:
            db.execute_sql(f"UPDATE hub_case SET bundle_group = {db.param} WHERE id = {db.param}", (group, case_id))
