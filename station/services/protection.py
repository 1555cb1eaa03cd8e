"""Sealing everything personal under the ring's current key: old plain rows at start, and key rotation.

Both are the same walk: every case's personal columns (and its blind index and form values),
free text (the county's reasons and result text, every timeline line and its payload, 整改 records, booking
and handover notes and a handover's refusal, a rating's words, a visit's words), every outbox payload and
the county's reason on it, the stored hub secret and every scan on disk that is plain or sealed under
an older key is opened and sealed again under the current key. A value already sealed under the
current key is left alone, so the walk is idempotent: interrupted, it simply carries on where it
stopped the next time. Each batch is its own transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rules.events import DELIVERED
from station import keys
from station.extensions import db
from station.models import Case, KeptMaterial, LicenceCheck, ResidentConsent, Setting, TimelineEntry
from station.services import material_library, personal
from station.services.attachments import write_sealed
from sync import state as sync_state
from sync.local_db import open_payload, seal_payload
from sync.outbox import OutboxEvent
from websec.sealing import BLOB_MAGIC, KeyRing, SealingError, save_key_ring

BATCH = 500
PLAIN_ROWS_MARK = "security.plain_rows"  # set by migration 0007; cleared once every old row is sealed

Step = Callable[[int], None]


@dataclass
class Work:
    """How many records a walk visits (for a progress bar)."""

    cases: int
    events: int
    blobs: int

    @property
    def total(self) -> int:
        return self.cases + self.events + self.blobs + 1  # +1: the stored hub secret


def count_work(attachment_dir: str) -> Work:
    return Work(Case.select().count(), OutboxEvent.select().count(), sum(1 for _ in _blob_files(attachment_dir)))


def reseal_everything(attachment_dir: str, step: Step | None = None) -> int:
    """Seal every plain or old-key value under the current key; return how many records changed.

    The connection zeroes the pages it frees (``secure_delete``) and the WAL is truncated
    afterwards: the plain (or old-key) bytes do not linger in free pages of the file.
    """
    step = step or (lambda _n: None)
    db.execute_sql("PRAGMA secure_delete = ON")
    try:
        changed = (_reseal_cases(step) + _reseal_handovers() + _reseal_other_tables() + _reseal_events(step)
                   + _reseal_secret()
                   + _reseal_blobs(attachment_dir, step) + _reseal_library(attachment_dir))
    finally:
        db.execute_sql("PRAGMA secure_delete = OFF")
    if changed:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    step(1)
    return changed


def seal_plain_rows_if_pending(attachment_dir: str) -> int:
    """At start: seal a database upgraded from before 0007 (its rows are plain); nothing to do afterwards."""
    if Setting.get_value(PLAIN_ROWS_MARK) != "pending":
        return 0
    changed = reseal_everything(attachment_dir)
    Setting.delete().where(Setting.key == PLAIN_ROWS_MARK).execute()
    return changed


def rotate_key(attachment_dir: str, step: Step | None = None, before_retire: Callable[[], None] | None = None) -> KeyRing:
    """Make a new key current, seal everything under it, then retire the old keys.

    The ring file is written with the new key *before* any record changes, and the old keys stay
    in it until every record is resealed: a rotation stopped half-way leaves every record
    readable, and running the command again finishes it (the ring still holding several keys
    means "rotation under way": no second new key is made).
    """
    ring = keys.ring()
    if len(ring.keys) == 1:
        ring = ring.rotated()
        save_key_ring(ring)
        keys.adopt(ring)
    reseal_everything(attachment_dir, step)
    if before_retire is not None:
        before_retire()
    retired = ring.retired()
    save_key_ring(retired)
    keys.adopt(retired)
    return retired


# --- the walk -------------------------------------------------------------------------------------

CASE_COLUMNS = ("applicant_id_stored", "applicant_phone_stored", "applicant_address", "proxy_id_stored",
                "proxy_phone_stored")


def _reseal_cases(step: Step) -> int:
    ring = keys.ring()
    changed = 0
    last = ""
    while True:
        rows = db.execute_sql(
            f'SELECT id, {", ".join(CASE_COLUMNS)}, applicant_id_index, form_values FROM "case" '
            "WHERE id > ? ORDER BY id LIMIT ?", (last, BATCH)).fetchall()
        if not rows:
            return changed
        with db.atomic("IMMEDIATE"):
            for row in rows:
                case_id, values, index, form = row[0], row[1:6], row[6], row[7]
                stale = any(ring.needs_resealing(v) for v in values) or ring.needs_resealing(form)
                plain_id = ring.unseal(values[0])
                if not stale and index == ring.blind_index(plain_id):
                    continue
                columns = personal.sealed_columns(*(ring.unseal(v) for v in values))
                columns["form_values"] = ring.seal(ring.unseal(form)) if form else form
                sets = ", ".join(f"{name} = ?" for name in columns)
                db.execute_sql(f'UPDATE "case" SET {sets} WHERE id = ?', (*columns.values(), case_id))
                changed += 1
        last = rows[-1][0]
        step(len(rows))


def _reseal_handovers() -> int:
    """What a handover recorded (issue 19): the collector's ID number and the delivery record (a postal address).

    A postal handover recorded with no address typed before 81d22e3 holds the applicant's address column's
    ciphertext as its address: put right here (:func:`postal_address_repairs`), once, as the walk goes by.
    """
    ring = keys.ring()
    repaired = postal_address_repairs()
    rows = db.execute_sql(
        "SELECT id, collector_id_stored, delivery FROM \"case\" WHERE collector_id_stored != '' "
        "OR (delivery IS NOT NULL AND delivery NOT IN ('', '{}'))").fetchall()
    updates = [(ring.seal(ring.unseal(collector)) if collector else collector,
                ring.seal(ring.unseal(delivery)) if delivery else delivery, case_id)
               for case_id, collector, delivery in rows
               if ring.needs_resealing(collector) or ring.needs_resealing(delivery)]
    if updates:
        with db.atomic("IMMEDIATE"):
            db.cursor().executemany('UPDATE "case" SET collector_id_stored = ?, delivery = ? WHERE id = ?', updates)
    return repaired + len(updates)


def postal_address_repairs() -> int:
    """Postal handovers whose address is a sealed value (``enc1:…``): the address as the applicant gave it back.

    Before 81d22e3 a handover by post with no address typed took the applicant's address column as it is
    stored, sealed, and cut it to 200 characters: the delivery record, its timeline line and the
    case.delivered event carried the ciphertext. The address is the ciphertext opened when it still
    opens (not cut, its key not retired), else the applicant's address as the case holds it now: it is
    what was taken, no address having been typed. Fixed in the record and the line; in the event only while
    the county has not got it (an acknowledged one is what the county holds, and stays as it was sent).
    Returns how many cases were put right.
    """
    ring = keys.ring()
    fixed = 0
    for case in Case.select(Case.id, Case.delivery, Case.applicant_address).where(Case.delivered_at.is_null(False)):
        record = case.delivery or {}
        bad = record.get("address")
        if record.get("method") != "post" or not isinstance(bad, str) or not KeyRing.is_sealed(bad):
            continue
        try:
            address = ring.unseal(bad)
        except (SealingError, ValueError, KeyError):  # cut at 200 characters, or its key retired since
            address = personal.applicant_address(case)
        address = address[:200]
        with db.atomic("IMMEDIATE"):
            Case.update(delivery={**record, "address": address}).where(Case.id == case.id).execute()
            for entry in TimelineEntry.select().where((TimelineEntry.case == case) & (TimelineEntry.action == "delivered")):
                if bad in entry.message:
                    TimelineEntry.update(message=entry.message.replace(bad, address)).where(
                        TimelineEntry.id == entry.id).execute()
            for event in OutboxEvent.select().where((OutboxEvent.case_id == case.id) & (OutboxEvent.kind == DELIVERED)
                                                    & (OutboxEvent.state != "acked")):
                if event.payload.get("address") == bad:
                    OutboxEvent.update(payload={**event.payload, "address": address}).where(
                        OutboxEvent.id == event.id).execute()
        fixed += 1
    return fixed


#: Sealed columns, whole values, beyond the case's personal ones: (table, key column, sealed columns).
#: Free text (0027, 0028, 0029) is here: the county's reasons and result text, a material's 不适用 reason, every
#: timeline line and its payload, a 整改's record, a booking's and a paper handover's note, why the county
#: refused a handover, a rating's words, why the county set an event aside (only that column of the
#: event: its payload is sealed as bytes by :func:`_reseal_events`, its state is not touched), the note on
#: each record of telling the resident (services/notify.record); staff members' own ID numbers
#: (their profile, issue 19); licence numbers (0030: a result's certificate, a material's e-licence — a
#: 残疾人证's number is its holder's ID number and two digits).
OTHER_SEALED = (("user", "id", ("id_number_stored",)),
                ("resident_notice", "id", ("note",)),
                ("shared_case", "id", ("snapshot",)),
                ("home_visit", "id", ("resident_name_stored", "resident_phone_stored", "address_stored", "purpose",
                                      "outcome_note")),
                ("case", "id", ("status_reason", "result_text", "result_certificate_no")),
                ("case_material", "id", ("supplied_note", "e_license_no")),
                ("timeline_entry", "id", ("message", "data")),
                ("remedy", "id", ("data",)),
                ("appointment", "id", ("note",)),
                ("transfer_handover", "id", ("note", "refusal")),
                ("evaluation", "id", ("reason_text",)),
                ("outbox_event", "id", ("reason",)))


def _reseal_other_tables() -> int:
    """Sealed values outside the case's personal columns (another device's cases, issue 16; free text), each
    sealed whole, in batches by key (a station's timeline runs to hundreds of thousands of lines)."""
    ring = keys.ring()
    changed = 0
    for table, key, columns in OTHER_SEALED:
        select = f'SELECT "{key}", {", ".join(columns)} FROM "{table}"'
        rows = db.execute_sql(f'{select} ORDER BY "{key}" LIMIT ?', (BATCH,)).fetchall()
        while rows:
            updates = [(*(ring.seal(ring.unseal(v)) if v else v for v in row[1:]), row[0]) for row in rows
                       if any(v and ring.needs_resealing(v) for v in row[1:])]
            if updates:
                sets = ", ".join(f"{name} = ?" for name in columns)
                with db.atomic("IMMEDIATE"):
                    db.cursor().executemany(f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?', updates)
            changed += len(updates)
            rows = db.execute_sql(f'{select} WHERE "{key}" > ? ORDER BY "{key}" LIMIT ?',
                                  (rows[-1][0], BATCH)).fetchall()
    return changed + _reseal_appointments()


def _reseal_appointments() -> int:
    """Bookings (issue 16): name, phone and address sealed, and the phone's blind index under the current key.

    A booking retention cleared keeps no index: its phone is stored masked and it is found by no number.
    """
    ring = keys.ring()
    rows = db.execute_sql("SELECT id, name_stored, phone_stored, address_stored, phone_index, personal_purged_at "
                          "FROM appointment").fetchall()
    updates = []
    for appointment_id, name, phone, address, index, purged_at in rows:
        plain_phone = ring.unseal(phone)
        wanted = "" if purged_at else ring.blind_index(plain_phone)
        if any(v and ring.needs_resealing(v) for v in (name, phone, address)) or index != wanted:
            updates.append((ring.seal(ring.unseal(name)), ring.seal(plain_phone) if phone else phone,
                            ring.seal(ring.unseal(address)) if address else address, wanted, appointment_id))
    if updates:
        with db.atomic("IMMEDIATE"):
            db.cursor().executemany("UPDATE appointment SET name_stored = ?, phone_stored = ?, address_stored = ?, "
                                    "phone_index = ? WHERE id = ?", updates)
    return len(updates)


def _reseal_events(step: Step) -> int:
    ring = keys.ring()
    changed = 0
    last = 0
    while True:
        rows = db.execute_sql("SELECT id, payload FROM outbox_event WHERE id > ? ORDER BY id LIMIT ?",
                              (last, BATCH)).fetchall()
        if not rows:
            return changed
        updates = [(seal_payload(open_payload(payload)), event_id) for event_id, payload in rows
                   if payload and _payload_key_id(payload) != ring.current]
        if updates:
            with db.atomic("IMMEDIATE"):
                db.cursor().executemany("UPDATE outbox_event SET payload = ? WHERE id = ?", updates)
        changed += len(updates)
        last = rows[-1][0]
        step(len(rows))


def _payload_key_id(stored: bytes | str) -> str | None:
    return blob_key_id(bytes(stored)) if isinstance(stored, bytes | memoryview) else None


def _reseal_secret() -> int:
    stored = sync_state.SyncState.get_or_none(sync_state.SyncState.key == sync_state.SECRET)
    if stored is None or not stored.value or not keys.ring().needs_resealing(stored.value):
        return 0
    sync_state.set_value(sync_state.SECRET, sync_state.get_value(sync_state.SECRET))
    return 1


def _blob_files(attachment_dir: str) -> Iterator[Path]:
    root = Path(attachment_dir)
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and len(path.name) == 64:  # a SHA-256 name; never a .part file
                    yield path


def blob_key_id(stored: bytes) -> str | None:
    """The id of the key a sealed file was sealed with (None for a plain file)."""
    if not stored.startswith(BLOB_MAGIC):
        return None
    at = len(BLOB_MAGIC)
    return stored[at + 1: at + 1 + stored[at]].decode()


def _reseal_blobs(attachment_dir: str, step: Step) -> int:
    ring = keys.ring()
    changed = 0
    for path in _blob_files(attachment_dir):
        stored = path.read_bytes()
        if blob_key_id(stored) != ring.current:
            write_sealed(path, ring.unseal_bytes(stored))
            changed += 1
        else:
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        step(1)
    return changed


def _reseal_library(root: str) -> int:
    """The material library (issue 20): blind indexes recomputed, sealed values and kept files resealed.

    Every kept material and licence answer belongs to a resident with a consent row (given or
    withdrawn), which holds her sealed number: her rows move from any old index to the current one.
    Returns how many records changed. Idempotent, like the rest of the walk.
    """
    ring = keys.ring()
    changed = 0
    with db.atomic("IMMEDIATE"):
        for consent in list(ResidentConsent.select()):
            number = personal.unseal(consent.resident_id_stored)
            if not number:
                continue
            current = ring.blind_index(number)
            olds = [i for i in ring.blind_indexes(number) if i != current]
            for model in (KeptMaterial, LicenceCheck):
                changed += model.update(resident_index=current).where(model.resident_index.in_(olds)).execute()
            if consent.resident_index != current or ring.needs_resealing(consent.resident_id_stored):
                ResidentConsent.update(resident_index=current, resident_id_stored=ring.seal(number)).where(
                    ResidentConsent.resident_index == consent.resident_index).execute()
                changed += 1
        for table, column in (("licence_check", "licence"), ("case_material", "origin")):
            rows = db.execute_sql(f"SELECT id, {column} FROM {table} WHERE {column} LIKE 'enc1:%'").fetchall()
            for row_id, stored in rows:
                if ring.needs_resealing(stored):
                    db.execute_sql(f"UPDATE {table} SET {column} = ? WHERE id = ?",
                                   (ring.seal(ring.unseal(stored)), row_id))
                    changed += 1
    sealed_now = BLOB_MAGIC + bytes([len(ring.current.encode())]) + ring.current.encode()
    folder = Path(root) / material_library.LIBRARY_FOLDER
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if len(path.name) != 26:  # a kept material's id; never a half-written temporary file
            continue
        stored = path.read_bytes()
        if not stored.startswith(sealed_now):
            write_sealed(path, ring.unseal_bytes(stored))
            changed += 1
    return changed
