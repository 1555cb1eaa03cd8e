"""The statistics roll-up (issue 13): ``hub_case_tally``, how many cases add to each figure of the
statistics page per station and China day, and the same summed for the whole county (station 0).

The county page read seven GROUP BY queries over a month of cases (300,000 rows); it now reads
the roll-up. The hub keeps it in the transaction that changes a case (services/tally.py); this
migration fills it for the cases already held, with :func:`backfill` — the same SQL the
benchmark seeds its month with. Each figure below mirrors ``services.tally.figures`` (a test
compares the two after a month played through the real services).
"""

from peewee import CharField, CompositeKey, DateField, IntegerField, Model

OPEN = "('submitted', 'accepted', 'supplement')"
CLOSED = "('completed', 'rejected', 'delivered')"
#: a case waiting for its 补正 materials is open on no line: its time limits are paused (migration 0034
#: recounted the roll-up with this condition; services.tally.figures)
NOT_PAUSED = "AND NOT (status = 'supplement' AND supplied_at IS NULL)"
LINES = (("statutory", "statutory_due"), ("committed", "committed_due"), ("assessed", "assessed_due"))
DECISION = ("CASE WHEN station_decision = 'not_collected' THEN 'not_collected' "
            "WHEN station_decision = 'deferred' THEN 'deferred' "
            "WHEN commitment THEN 'commitment' ELSE 'collected' END")


def up(migrator, db):
    class CaseTally(Model):
        station_id = IntegerField()
        day = DateField()
        figure = CharField(max_length=24)
        label = CharField(max_length=200)
        n = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "hub_case_tally"
            primary_key = CompositeKey("station_id", "day", "figure", "label")
            indexes = ((("figure", "day"), False),)

    db.create_tables([CaseTally])
    backfill(db)


def _figures():
    """(day, figure, label, n, condition) of every figure a received case adds to, as SQL."""
    received = "DATE(received_time)"
    figures = [
        (received, "'cases'", "''", "1", ""),
        (received, "'item'", "COALESCE(item_name, '')", "1", ""),
        (received, "'village'", "COALESCE(area_code, '')", "1", ""),
        (received, "'agent'", "COALESCE(agent_name, '')", "1", ""),
        (received, "'kind'", f"status || '|' || COALESCE(mode, '') || '|' || {DECISION}", "1", ""),
        (received, "'deferred_total'", "''", "deferred_total", "AND deferred_total > 0"),
        (received, "'deferred_on_time'", "''", "deferred_on_time", "AND deferred_on_time > 0"),
        (received, "'deferred_late'", "''", "deferred_late", "AND deferred_late > 0"),
    ]
    for line, due in LINES:
        closed = f"AND status IN {CLOSED} AND closed_at IS NOT NULL AND {due} IS NOT NULL"
        figures += [
            (received, f"'on_time:{line}'", "''", "1", f"{closed} AND DATE(closed_at) <= {due}"),
            (received, f"'late:{line}'", "''", "1", f"{closed} AND DATE(closed_at) > {due}"),
            (received, f"'open:{line}'", f"CAST({due} AS TEXT)", "1", f"AND status IN {OPEN} AND {due} IS NOT NULL {NOT_PAUSED}"),
        ]
    return figures


BACKFILL_STATIONS = (
    "INSERT INTO hub_case_tally (station_id, day, figure, label, n) "
    "SELECT station_id, day, figure, label, SUM(n) FROM ("
    + " UNION ALL ".join(
        f"SELECT station_id, {day} AS day, {figure} AS figure, {label} AS label, {n} AS n FROM hub_case "
        f"WHERE received_time IS NOT NULL {condition}"
        for day, figure, label, n, condition in _figures())
    + " UNION ALL SELECT station_id, DATE(closed_at) AS day, 'closed' AS figure, '' AS label, 1 AS n FROM hub_case "
    f"WHERE closed_at IS NOT NULL AND status IN {CLOSED}"
    ") AS f GROUP BY station_id, day, figure, label"
)
BACKFILL_COUNTY = ("INSERT INTO hub_case_tally (station_id, day, figure, label, n) "
                   "SELECT 0, day, figure, label, SUM(n) FROM hub_case_tally WHERE station_id <> 0 "
                   "GROUP BY day, figure, label")


def backfill(db):
    """Count every case held into the roll-up, afresh: per station, then the county's sums."""
    with db.atomic():
        db.execute_sql("DELETE FROM hub_case_tally")
        db.execute_sql(BACKFILL_STATIONS)
        db.execute_sql(BACKFILL_COUNTY)
