"""补正 pauses the time limits (DOMAIN.md A.7): a case waiting for the resident's materials is open
on no line of the statistics roll-up, so no page counts it overdue (services/tally.py ``figures``).

The roll-up held such cases under ``open:<line>``; it is counted afresh from the cases with the new
rule. The appended changes are dropped first, in the same transaction: the recount counts every
case as it stands, so keeping them would count them twice. No column: the due dates move on by
the days waited when the materials arrive (services/case_view.py ``resumed_dues``).
"""

import importlib

_backfill = importlib.import_module("sync.hub.migrations.0017_case_tally").backfill


def up(migrator, db):
    with db.atomic():
        db.execute_sql('DELETE FROM "hub_case_tally_delta"')
        _backfill(db)


def down(migrator, db):
    """Nothing to undo: the recount is exact under either rule's code once that code runs."""
