"""Numbers at the county (issue 13): a case's received time (China time), village, agent and
closing time copied out of the snapshot, the assessed due date (county setting in force when the
case came in; cases held before stay without one) for statistics and ledgers over 300,000 cases, and the
county's own settings (assessed time limit per item, village names). Numbered 0012: the runner
orders by number and does not mind a gap.
"""

import datetime as dt
import json

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, JSONField, Model

CHINA = dt.timedelta(hours=8)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_case", "received_time", DateTimeField(null=True)),
        migrator.add_column("hub_case", "area_code", CharField(max_length=12, default="")),
        migrator.add_column("hub_case", "agent_name", CharField(max_length=100, default="")),
        migrator.add_column("hub_case", "closed_at", DateTimeField(null=True)),
        migrator.add_column("hub_case", "assessed_due", DateField(null=True)),
        migrator.add_column("hub_case", "commitment", BooleanField(default=False)),
        migrator.add_column("hub_case", "deferred_total", IntegerField(default=0)),
        migrator.add_column("hub_case", "deferred_on_time", IntegerField(default=0)),
        migrator.add_column("hub_case", "deferred_late", IntegerField(default=0)),
        migrator.add_index("hub_case", ("received_time", "station_id"), False),
        migrator.add_index("hub_case", ("status", "committed_due"), False),
    )

    class Setting(Model):
        key = CharField(max_length=80, primary_key=True)
        value = JSONField()
        updated_at = DateTimeField()
        updated_by = CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "hub_setting"

    db.create_tables([Setting])
    backfill(db)


def _china_naive(text):
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return value
    return (value.astimezone(dt.UTC) + CHINA).replace(tzinfo=None)


def deferred_counts(materials):
    """(容缺 materials, brought on or before their date, brought late) — as services/case_view counts them."""
    total = on_time = late = 0
    for m in materials or []:
        if not isinstance(m, dict) or not m.get("due_date"):
            continue
        total += 1
        if m.get("status") != "deferred":
            if str(m.get("received_at") or "")[:10] and str(m.get("received_at"))[:10] <= str(m["due_date"])[:10]:
                on_time += 1
            else:
                late += 1
    return total, on_time, late


def backfill(db):
    """Fill the new columns for the cases already held (from their snapshots and decisions)."""
    rows = db.execute_sql("SELECT id, snapshot, received_at FROM hub_case").fetchall()
    for case_id, snapshot, received in rows:
        try:
            data = json.loads(snapshot) if isinstance(snapshot, str) else (snapshot or {})
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        applicant = data.get("applicant") if isinstance(data.get("applicant"), dict) else {}
        agent = data.get("agent") if isinstance(data.get("agent"), dict) else {}
        total, on_time, late = deferred_counts(data.get("materials"))
        db.execute_sql(f"UPDATE hub_case SET deferred_total = {db.param}, deferred_on_time = {db.param}, "
                       f"deferred_late = {db.param} WHERE id = {db.param}", (total, on_time, late, case_id))
        promised = any(isinstance(m, dict) and m.get("status") == "commitment" for m in data.get("materials") or [])
        db.execute_sql(
            f"UPDATE hub_case SET received_time = {db.param}, area_code = {db.param}, agent_name = {db.param}, "
            f"commitment = {db.param} WHERE id = {db.param}",
            (_china_naive(received) if received else None, str(applicant.get("area_code") or "")[:12],
             str(agent.get("name") or "")[:100], promised, case_id))
    closed = db.execute_sql("SELECT case_id, MAX(decided_at) FROM hub_decision WHERE kind IN ('completed', 'rejected') "
                            "GROUP BY case_id").fetchall()
    for case_id, decided in closed:
        if isinstance(decided, str):
            decided = dt.datetime.fromisoformat(decided)
        db.execute_sql(f"UPDATE hub_case SET closed_at = {db.param} WHERE id = {db.param}", (decided + CHINA, case_id))
