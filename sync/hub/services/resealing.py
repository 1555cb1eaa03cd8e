"""Sealing every stored record again under the ring's current key: after an upgrade, and on rotation.

Both cases are the same walk: rows still plain (stored before 0003) and rows sealed under an
older key are opened and sealed under the current key, and the blind indexes are computed again
under the current index key. Rows are visited in id order in small transactions, so a walk can
be interrupted and run again; a row already sealed under the current key is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sync import protocol
from sync.hub.extensions import db, key_ring
from sync.hub.models import (
    Appointment,
    Change,
    Conflict,
    Decision,
    Device,
    Event,
    HubCase,
    HubHomeVisit,
    Station,
)
from sync.hub.services import attachments, personal

BATCH = 500
Progress = Callable[[int], None]


def _rows(model: type, columns: tuple[Any, ...]) -> Iterator[list[Any]]:
    """Every row of ``model`` in id order, a batch at a time."""
    last = 0
    while True:
        batch = list(model.select(model.id, *columns).where(model.id > last).order_by(model.id).limit(BATCH))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def _body_needs_sealing(stored: Any) -> bool:
    return not isinstance(stored, str) or key_ring.needs_resealing(stored)


def _snapshot_needs_sealing(case: HubCase) -> bool:
    if personal.snapshot_needs_sealing(case.snapshot):
        return True
    indexes = personal.id_indexes(personal.open_snapshot(case.snapshot))
    return (case.applicant_id_index, case.proxy_id_index) != (indexes["applicant_id_index"],
                                                              indexes["proxy_id_index"])


#: Rows holding a resident's sealed text columns one by one (a booking, a home visit), and the walk
#: they are counted under; a booking's phone is also blind-indexed (computed again under the new key).
SEALED_COLUMNS: tuple[tuple[type, tuple[str, ...], str], ...] = (
    (Appointment, ("name_stored", "phone_stored", "address_stored"), "appointments"),
    (HubHomeVisit, ("resident_name_stored", "resident_phone_stored", "address_stored", "purpose", "outcome_note"),
     "visits"),
)


def counts() -> dict[str, int]:
    """How many rows each walk visits (for a progress bar's length)."""
    return {"stations": Station.select().count() + Device.select().count(), "cases": HubCase.select().count(),
            "events": Event.select().count(), "conflicts": Conflict.select().count(),
            **{name: model.select().count() for model, _columns, name in SEALED_COLUMNS}}


def _reseal_columns(model: type, columns: tuple[str, ...], tick: Progress) -> int:
    """Seal each non-empty column of ``columns`` again where it is plain or under an older key."""
    changed = 0
    purged = (Appointment.personal_purged_at,) if model is Appointment else ()
    for batch in _rows(model, (*(getattr(model, name) for name in columns), *purged)):
        with db.atomic():
            for row in batch:
                stale = {name: getattr(row, name) for name in columns if key_ring.needs_resealing(getattr(row, name))}
                if not stale:
                    continue
                plain = {name: key_ring.unseal(value) if key_ring.is_sealed(value) else value
                         for name, value in stale.items()}
                update = {name: key_ring.seal(value) for name, value in plain.items()}
                if model is Appointment and "phone_stored" in plain and row.personal_purged_at is None:
                    # a booking cleared by retention holds its phone masked and stays out of the index
                    update["phone_index"] = key_ring.blind_index(plain["phone_stored"])
                model.update(**update).where(model.id == row.id).execute()
                changed += 1
        tick(len(batch))
    return changed


def reseal_snapshots(progress: Progress | None = None) -> int:
    """Seal every case snapshot's personal parts under the current key (and its blind indexes); return how many
    changed. Alone, it is the upgrade to 0032, which sealed more of the snapshot than the people."""
    tick = progress or (lambda n: None)
    changed = 0
    for batch in _rows(HubCase, (HubCase.snapshot, HubCase.applicant_id_index, HubCase.proxy_id_index)):
        with db.atomic():
            for case in batch:
                if _snapshot_needs_sealing(case):
                    plain = personal.open_snapshot(case.snapshot)
                    HubCase.update(snapshot=personal.seal_snapshot(plain), **personal.id_indexes(plain)).where(
                        HubCase.id == case.id).execute()
                    changed += 1
        tick(len(batch))
    return changed


def reseal_certificates() -> int:
    """Seal every result's certificate number (its decision and its ``case.status`` change) and every booking's note
    under the current key.

    Read and written as stored (by SQL, not through the field that opens it), so a value already sealed
    under the current key is left alone; returns how many rows changed.
    """
    changed = 0
    for model, column in ((Decision, "certificate_no"), (Appointment, "note")):  # their fields seal and open
        table = model._meta.table_name
        rows = db.execute_sql(f'SELECT id, {column} FROM "{table}" '
                              f"WHERE {column} IS NOT NULL AND {column} <> ''").fetchall()
        for start in range(0, len(rows), BATCH):
            with db.atomic():
                for row_id, stored in rows[start:start + BATCH]:
                    if key_ring.needs_resealing(stored):
                        plain = key_ring.unseal(stored) if key_ring.is_sealed(stored) else stored
                        db.execute_sql(f'UPDATE "{table}" SET {column} = {db.param} WHERE id = {db.param}',
                                       (key_ring.seal(plain), row_id))
                        changed += 1
    for batch in _rows(Change, (Change.kind, Change.payload)):
        with db.atomic():
            for change in batch:
                number = (change.payload or {}).get(personal.SEALED_CHANGE_KEY) \
                    if change.kind == protocol.CHANGE_CASE_STATUS else None
                if isinstance(number, str) and key_ring.needs_resealing(number):
                    Change.update(payload=personal.seal_change(personal.open_change(change.payload))).where(
                        Change.id == change.id).execute()
                    changed += 1
    return changed


def seal_case_parts() -> dict[str, int]:
    """The upgrade to 0032: every case snapshot's parts, every certificate number and every home visit's words
    sealed (plain ones only)."""
    return {"cases": reseal_snapshots(), "certificates": reseal_certificates(),
            "visits": _reseal_columns(HubHomeVisit, ("purpose", "outcome_note"), lambda n: None)}


def reseal_everything(attachment_dir: str | Path | None, progress: Progress | None = None) -> dict[str, int]:
    """Seal every personal value, body, secret and file under the current key; return how many changed.

    ``progress`` is told how many rows each batch visited (changed or not).
    """
    tick = progress or (lambda n: None)
    changed = {"stations": 0, "cases": 0, "events": 0, "conflicts": 0, "files": 0}
    for holder in (Station, Device):  # a station's second devices have their own secrets
        for batch in _rows(holder, (holder.secret,)):
            with db.atomic():
                for station in batch:
                    if key_ring.needs_resealing(station.secret):
                        plain = key_ring.unseal(station.secret)
                        holder.update(secret=personal.seal_secret(plain)).where(holder.id == station.id).execute()
                        changed["stations"] += 1
            tick(len(batch))
    changed["cases"] = reseal_snapshots(tick)
    for model, name in ((Event, "events"), (Conflict, "conflicts")):
        for batch in _rows(model, (model.body,)):
            with db.atomic():
                for row in batch:
                    if _body_needs_sealing(row.body):
                        model.update(body=personal.seal_body(personal.open_body(row.body))).where(
                            model.id == row.id).execute()
                        changed[name] += 1
            tick(len(batch))
    for model, columns, name in SEALED_COLUMNS:
        changed[name] = _reseal_columns(model, columns, tick)
    changed["certificates"] = reseal_certificates()
    if attachment_dir and Path(attachment_dir).is_dir():
        changed["files"] = attachments.reseal_files(attachment_dir)
    return changed
