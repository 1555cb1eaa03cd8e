"""跨域办 (issue 17): an item another county handles says which (its 6-digit code and name).

Cases of such items are taken here as usual and marked 收件地 here, 办理地 there; the county hub
forwards them. Numbered 0020: the runner orders by number and does not mind a gap.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("service_item", "handling_area", CharField(max_length=12, default="")),
        migrator.add_column("service_item", "handling_area_name", CharField(max_length=60, default="")),
    )
