"""The county refuses a township's handover of a village's batch (物料流转) after storing it:
``transfer_handover.refusal`` holds its Chinese reason ("" while none, and again once the county takes
the handover on a later round) and ``refused_at`` when the county said so, so its feed's
``transfer.handover_refused`` is applied once. Refusals answered at once are kept there too.

Numbered 0025 (reserved for this work); the runner orders by number and does not mind a gap.
"""

from peewee import DateTimeField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("transfer_handover", "refusal", TextField(default="")),
        migrator.add_column("transfer_handover", "refused_at", DateTimeField(null=True)),
    )
