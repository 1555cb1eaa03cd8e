"""物料流转 beyond this station (issue 15): batches of other stations scanned here, handovers recorded elsewhere.

``transfer.origin_station`` is empty for a batch packed here and holds the packing station's code for
one received here on paper (a township scanning a village's barcode); ``transfer_handover.handover_id``
names a handover wherever it travels (rows already here get one now, so nothing queued changes);
``source`` says whether it was recorded here or came down the county's feed; ``sent_at`` is when the
county confirmed a handover of another station's batch (those go by ``POST /api/v1/transfers/handovers``,
not as case events). ``relay_bundle.device``: a township holds a village laptop's USB bundles apart
from its PC's (each numbers its own). Numbered 0022: the runner orders by number and does not mind a gap.
"""

from peewee import CharField, DateTimeField, IntegerField
from ulid import ULID


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("transfer", "origin_station", CharField(max_length=32, default="")),
        migrator.add_column("transfer_handover", "handover_id", CharField(max_length=80, default="")),
        migrator.add_column("transfer_handover", "source", CharField(max_length=12, default="here")),
        migrator.add_column("transfer_handover", "sent_at", DateTimeField(null=True)),
        # a township holding a laptop's USB bundles: they are numbered per device, not per station
        migrator.add_column("relay_bundle", "device", IntegerField(default=0)),
        # a village's bundle is held as a file, streamed in and out (rows from before keep their bytes in ``data``)
        migrator.add_column("relay_bundle", "path", CharField(max_length=300, default="")),
    )
    for (row_id,) in db.execute_sql("SELECT id FROM transfer_handover WHERE handover_id = ''").fetchall():
        db.execute_sql("UPDATE transfer_handover SET handover_id = ? WHERE id = ?", (str(ULID()), row_id))
    migrator.migrate(migrator.add_index("transfer_handover", ("handover_id",), True))
