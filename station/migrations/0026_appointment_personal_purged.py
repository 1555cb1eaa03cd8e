"""Retention reaches bookings: ``appointment.personal_purged_at`` says when a booking's resident (name,
phone, address) was cleared after the retention period, as ``home_visit.personal_purged_at`` (0024) does
for a visit.

Numbered 0026 (reserved for this work; 0025 is another's); the runner orders by number and does not mind a gap.
"""

from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column("appointment", "personal_purged_at", DateTimeField(null=True)))
