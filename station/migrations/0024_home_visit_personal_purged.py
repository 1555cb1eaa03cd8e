"""Retention reaches home visits: ``home_visit.personal_purged_at`` says when a visit's resident (name,
phone, address) was cleared after the retention period, as ``case.personal_purged_at`` does for a case.

Numbered 0024 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column("home_visit", "personal_purged_at", DateTimeField(null=True)))
