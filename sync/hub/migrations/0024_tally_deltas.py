"""The roll-up's changes appended, folded later (issue 17: the database's CPU per event, and bursts).

Every batch added to ``hub_case_tally`` row by row (``INSERT … ON CONFLICT DO UPDATE``): about
13 µs of the database's CPU a row, two rows an event, and every batch of the county waited on
the others for the county's rows of today. Now a change of a case appends its station's
differences to ``hub_case_tally_delta`` (about 2 µs a row, no index, no lock on shared rows), and
``services/tally.fold`` moves them into ``hub_case_tally`` with the county's sums from time to
time. ``hub_case_tally_all`` is what the statistics read: the roll-up plus the changes not yet
folded, exact at any moment.
"""

from peewee import BigAutoField, CharField, DateField, IntegerField, Model

VIEW = ("CREATE VIEW hub_case_tally_all AS "
        "SELECT station_id, day, figure, label, n FROM hub_case_tally "
        "UNION ALL SELECT station_id, day, figure, label, n FROM hub_case_tally_delta "
        "UNION ALL SELECT 0, day, figure, label, n FROM hub_case_tally_delta")


def up(migrator, db):
    class CaseTallyDelta(Model):
        id = BigAutoField()
        station_id = IntegerField()
        day = DateField()
        figure = CharField(max_length=24)
        label = CharField(max_length=200)
        n = IntegerField()

        class Meta:
            database = db
            table_name = "hub_case_tally_delta"

    db.create_tables([CaseTallyDelta])
    db.execute_sql(VIEW)


def down(migrator, db):
    db.execute_sql("DROP VIEW IF EXISTS hub_case_tally_all")
    db.execute_sql("DROP TABLE IF EXISTS hub_case_tally_delta")
