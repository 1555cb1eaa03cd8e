"""A provisional mark per due date (issue 19 item 9).

One flag covered both dates, so a committed date wholly inside a year with holiday data printed
as 暂定 whenever the statutory date ran into a year without. ``deadline_provisional`` stays (it
is what the county receives: either date provisional); each date now has its own flag. Old rows
take the old flag for both — the safe side: a date once marked provisional stays marked.
"""

from peewee import BooleanField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("case", "statutory_provisional", BooleanField(default=False)),
        migrator.add_column("case", "committed_provisional", BooleanField(default=False)),
    )
    db.execute_sql('UPDATE "case" SET statutory_provisional = deadline_provisional, '
                   'committed_provisional = deadline_provisional')
