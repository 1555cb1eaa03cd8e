"""The station's side of the seam with sync: what a sync round may ask of this station."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from station.extensions import db
from station.migrate import schema_version
from station.services import appointments, transfer_refusals, transfers
from station.services.access_log import continue_after_restore, entries_after
from station.services.attachments import open_blob
from station.services.county_changes import apply_change
from station.services.numbering import raise_daily_sequences
from station.services.restored_cases import continue_case, rebuild_case
from station.services.restored_visits import continue_visit, is_visit, rebuild_visit
from sync.hooks import StationHooks

APP_VERSION = "0.1.0"


def station_hooks(app: Flask) -> StationHooks:
    """The hooks for this app's database and attachment folder (give them to the Syncer or scheduler)."""
    attachment_dir = app.config["ATTACHMENT_DIR"]
    return StationHooks(
        schema_version=lambda: schema_version(db.obj),
        open_blob=lambda sha256: open_blob(attachment_dir, sha256),
        apply_change=apply_change,
        app_version=APP_VERSION,
        data_dir=Path(attachment_dir),
        access_log_after=entries_after,
        raise_case_numbers=raise_daily_sequences,
        continue_access_log=continue_after_restore,
        rebuild_case=_rebuild_record,
        continue_case=_continue_record,
        appointments_pending=appointments.pending_push,
        appointments_confirmed=appointments.push_confirmed,
        transfer_handovers_pending=transfers.pending_push,
        transfer_handovers_confirmed=transfers.push_confirmed,
        transfer_handovers_refused=transfer_refusals.push_refused,
    )


def _rebuild_record(record_id: str, events: list[dict[str, Any]]) -> bool:
    """A case or a home visit the lost PC took after the backup (their events queue alike), from the county's copy."""
    return rebuild_visit(record_id, events) if is_visit(events) else rebuild_case(record_id, events)


def _continue_record(record_id: str, events: list[dict[str, Any]]) -> bool:
    """What the lost PC wrote after the backup to a case or a home visit the backup holds."""
    return continue_visit(record_id, events) if is_visit(events) else continue_case(record_id, events)
