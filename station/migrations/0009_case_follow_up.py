"""Following a case after intake (issue 19): the answer to a 补正, 容缺 arrivals, the result handed over.

Per material: how it was handed in after intake (``supplied_as``, a reason for 不适用). Per case:
which materials the county's 补正 names (by key), when the station answered it, the result's
certificate number, and the handover (送达): when, how (a JSON record without personal numbers)
and the collector's ID number, sealed through services.personal like every personal number.
"""

from peewee import CharField, DateTimeField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("case_material", "supplied_as", CharField(max_length=16, default="")),
        migrator.add_column("case_material", "supplied_note", TextField(default="")),
        migrator.add_column("case", "supplement_keys", TextField(default="[]")),
        migrator.add_column("case", "supplemented_at", DateTimeField(null=True)),
        migrator.add_column("case", "result_certificate_no", CharField(max_length=60, default="")),
        migrator.add_column("case", "delivered_at", DateTimeField(null=True)),
        migrator.add_column("case", "delivery", TextField(default="{}")),
        migrator.add_column("case", "collector_id_stored", TextField(default="")),
    )
