"""Retention at the county: ``personal_purged_at`` says when a booking's (``hub_appointment``) or a home
visit's (``hub_home_visit``) resident — name, phone, address — was cleared after the retention period
(services/retention.py). Null: not cleared. Cases (办件档案) have no such column: they are kept.

A nullable column on both databases, added in place (no table rebuild). Numbered 0025 (reserved for
this work); the runner orders by number and does not mind a gap.
"""

from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_appointment", "personal_purged_at", DateTimeField(null=True)),
        migrator.add_column("hub_home_visit", "personal_purged_at", DateTimeField(null=True)),
    )
