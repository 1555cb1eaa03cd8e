"""The station half of sync keeps its tables in the station's database, through its own proxy.

The station binds this proxy to the very same peewee ``Database`` object as its own (in
``create_app``), so an outbox row is written on the caller's connection and inside the
caller's transaction, while nothing here needs to know what a station is.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import DatabaseProxy, Model, TextField

from websec.sealing import KeyRing, SealingError

db = DatabaseProxy()
_sealer: KeyRing | None = None


def set_sealer(ring: KeyRing | None) -> None:
    """Bind the key ring sync seals its stored payloads and secrets with (the station does, in create_app).

    Sync never imports the station: the station hands its ring in here, as it binds ``db``.
    Without one (sync's own tests, tools) values are stored as they are.
    """
    global _sealer  # noqa: PLW0603 - a process-wide binding, like the database proxy
    _sealer = ring


def seal_text(text: str) -> str:
    """`text` in its stored form: sealed when a ring is bound."""
    return _sealer.seal(text) if _sealer is not None and text else text


def open_text(stored: str | None) -> str:
    """A stored value back as text; a value stored before sealing (plain) is returned as it is."""
    if not stored:
        return stored or ""
    if _sealer is not None:
        return _sealer.unseal(stored)
    if KeyRing.is_sealed(stored):
        raise SealingError("同步记录已加密，但没有加载密钥：请通过本站程序（create_app）运行同步。")
    return stored


class JSONField(TextField):
    """JSON kept as UTF-8 text so SQLite stays readable with any tool at a village PC."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value: str | None) -> Any:
        if value is None:
            return None
        return json.loads(value)


class OpenedTextField(TextField):
    """Text that a writer may have sealed (a staff note can hold a phone number): read back opened.

    Only free text is sealed, by its writer; the rest of the column stays searchable text.
    """

    def python_value(self, value: str | None) -> str | None:
        return None if value is None else open_text(value)


class SealedTextField(OpenedTextField):
    """Free text sealed by the field itself: every write seals, every read opens (station migrations 0028, 0029).

    For text that may name a relative or carry a number (the county's reasons and result text, a
    material's 不适用 reason, a timeline line, a booking's or a handover's note, a rating's words, why the
    county set an event aside): writers and readers use plain strings, only the stored column holds
    ``enc1:…``. The empty value stays empty, so ``== ""`` and ``!= ""`` still filter in SQL; nothing else
    about the text can be asked of SQL (a nonce each time). A value stored before sealing reads as it is,
    until the station's start-up walk seals it (station/services/protection.py). Here, beside sync's own
    sealing, so the outbox seals with it too (sync never imports the station).
    """

    def db_value(self, value: str | None) -> str | None:
        return None if value is None else seal_text(value)


def seal_payload(text: str) -> bytes | str:
    """A JSON text in its stored form: sealed bytes (a BLOB) when a ring is bound.

    Bytes, not base64 text: the push opens every payload it sends, and base64 plus a third more
    to read cost more than the cipher itself.
    """
    return _sealer.seal_bytes(text.encode("utf-8")) if _sealer is not None else text


def open_payload(stored: bytes | str) -> str:
    """A stored JSON text back (sealed bytes, sealed text, or plain text from before sealing)."""
    if isinstance(stored, bytes | memoryview):
        data = bytes(stored)
        if _sealer is None:
            if KeyRing.is_sealed_blob(data):
                raise SealingError("同步记录已加密，但没有加载密钥：请通过本站程序（create_app）运行同步。")
            return data.decode("utf-8")
        return _sealer.unseal_bytes(data).decode("utf-8")
    return open_text(stored)


class SealedJSONField(JSONField):
    """JSON sealed as a whole (outbox payloads hold ID numbers, phones and addresses, kept for good)."""

    def db_value(self, value: Any) -> bytes | str | None:
        text = super().db_value(value)
        return seal_payload(text) if text is not None else None

    def python_value(self, value: bytes | str | None) -> Any:
        if value is None:
            return None
        return json.loads(open_payload(value))


def now() -> dt.datetime:
    """Local wall-clock time of the station, second precision (what is printed on paper)."""
    return dt.datetime.now().replace(microsecond=0)


class SyncModel(Model):
    """Base of the tables sync owns in the station database."""

    class Meta:
        database = db
        legacy_table_names = False
