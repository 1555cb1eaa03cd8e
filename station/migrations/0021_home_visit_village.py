"""Home visits name the village (村/社区) they went to, for the 帮办代办 ledger and the county.

A visit recorded before this has no village: it stays "" (the ledger then shows the masked
address only). Numbered 0021 (reserved for this work); the runner orders by number.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("home_visit", "village_code", CharField(max_length=12, default="")),
    )
