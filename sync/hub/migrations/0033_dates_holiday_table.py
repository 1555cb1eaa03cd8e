"""The county's holiday table (DOMAIN.md "Working days"): a year chinese_calendar does not know yet
(2027 on the newest, 1.11.0) is published by the county and sent to every station.

Numbered 0033 on the dates branch (the lead renumbers on merge).
"""

import datetime as dt

from peewee import CharField, DateTimeField, IntegerField, JSONField, Model


def up(migrator, db):
    class HolidayTable(Model):
        year = IntegerField(primary_key=True)
        version = CharField(max_length=40)
        days = JSONField()
        published_by = CharField(max_length=100, default="")
        published_at = DateTimeField(default=dt.datetime.utcnow)

        class Meta:
            database = db
            table_name = "hub_holiday_table"

    db.create_tables([HolidayTable])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "hub_holiday_table"')
