"""Case list at 100,000 cases: indexes that serve its order (newest first) and its filters.

The list sorts by (received_at, id) and most often filters by status; the overdue view filters
by open status and committed_due; a search by name counts its matches by scanning a narrow
covering index instead of the wide case rows. Without these SQLite sorted or scanned the whole
case table (see docs/benchmarks.md).
"""


def up(migrator, db):
    migrator.migrate(
        migrator.add_index("case", ("received_at", "id")),
        migrator.add_index("case", ("status", "received_at", "id")),
        migrator.add_index("case", ("status", "committed_due")),
        migrator.add_index("case", ("applicant_name", "case_no", "query_code")),
    )
    db.execute_sql("ANALYZE")  # let the planner know the new indexes beat the old single-column ones
