"""The certificate number of a granted result (证书编号), recorded with the county's 办结 (issue 19).

Sent to the station in the ``case.status`` change (``certificate_no``) so the case there shows it.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column("hub_decision", "certificate_no", CharField(max_length=60, null=True)))
