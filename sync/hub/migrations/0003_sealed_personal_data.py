"""Personal data sealed at rest: blind-index columns for the county's search by ID number.

``hub_case.applicant_id_index`` / ``proxy_id_index`` hold an HMAC of each ID number (never the
number). Sealing the rows already there needs the key ring, which a migration does not have:
``sync.hub.database.migrate`` seals them (``services/resealing.reseal_everything``) in the same
transaction that applies this migration, so no worker ever serves a half-sealed upgrade; the
``rotate-key`` command seals anything left plain as well.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_case", "applicant_id_index", CharField(max_length=64, null=True)),
        migrator.add_column("hub_case", "proxy_id_index", CharField(max_length=64, null=True)),
        migrator.add_index("hub_case", ("applicant_id_index",), False),
        migrator.add_index("hub_case", ("proxy_id_index",), False),
    )
