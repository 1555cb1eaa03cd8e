"""The China day a case's 考核时限 (``assessed_due``) was last counted (``assessed_counted_on``).

The county counts the 考核时限 itself, at ingest, and again for the open cases when it publishes a
year's holidays (services/holidays.py ``publish``); a date counted before that year was published is
marked （暂定） on the case page and the 预警 (services/workdays.py ``provisional_warning``) — a closed
case keeps the date it was counted with. Null for every case already there: counted on its day of
receipt, as the mark reads it.

Numbered 0036 on the dues branch (the lead renumbers on merge).
"""

from peewee import DateField


def up(migrator, db):
    migrator.migrate(migrator.add_column("hub_case", "assessed_counted_on", DateField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("hub_case", "assessed_counted_on"))
