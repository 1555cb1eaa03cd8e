"""The day a case's 法定/承诺 dates were last counted, when a station counted them again (``dues_counted_on``).

A station counts its 暂定 dates again when a year's holidays arrive and sends the new ones with its
note (rules/events.py ``recount``); the hub takes them (services/case_view.py ``_apply_note``). A date
counted before the county published a year is marked （暂定） on the county's pages
(services/workdays.py ``provisional_warning``): the mark goes by this day once the station has
counted again, by the day of receipt before. Null for every case already there: as before.

Numbered 0035 on the recount branch (the lead renumbers on merge).
"""

from peewee import DateField


def up(migrator, db):
    migrator.migrate(migrator.add_column("hub_case", "dues_counted_on", DateField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("hub_case", "dues_counted_on"))
