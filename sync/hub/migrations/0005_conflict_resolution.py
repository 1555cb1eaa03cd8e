"""Conflicts that end: how the county resolved each one (keep its copy, take the station's, merge).

``resolution`` is null while the conflict is open (and for conflicts marked handled before this
release, which only carried a note); the decision also goes down the changes feed.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_conflict", "resolution", CharField(max_length=16, null=True)),
    )
