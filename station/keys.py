"""The station's key ring: loaded at start from the instance folder, bound for the request at hand.

The ring lives in a file beside the database (``<instance>/keys/data.key`` by default, setting
``KEY_FILE``), never in it: a copied database alone opens nothing. A first start makes the ring
owner-only; a start that finds sealed data but no key file refuses, in Chinese, instead of
quietly making a new key that would open nothing.

Several station apps may share a process (tests, benchmarks, the demo), so the ring is bound
the way the database is: at create_app and again whenever one of the apps' contexts is pushed.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app, has_app_context
from peewee import Database

from sync.local_db import set_sealer
from websec.sealing import KeyRing, SealingError, load_key_ring

_ring: KeyRing | None = None


class KeyFileMissing(SealingError):
    """Sealed data in the database and no key file: never make a new key then."""


def bind(ring: KeyRing) -> None:
    """Make `ring` the one personal data and sync's stored payloads are sealed with."""
    global _ring  # noqa: PLW0603 - a process-wide binding, like the database proxy
    _ring = ring
    set_sealer(ring)


def adopt(new_ring: KeyRing) -> None:
    """Bind `new_ring` and make it the current app's ring (rotation: later app contexts bind it, not the old one)."""
    bind(new_ring)
    if has_app_context():
        current_app.extensions["key_ring"] = new_ring


def ring() -> KeyRing:
    """The bound key ring (raises when no station app has been created)."""
    if _ring is None:
        raise SealingError("密钥尚未加载：请通过 create_app 启动本站。")
    return _ring


def owner_only_folder(path: str | os.PathLike[str]) -> None:
    """Create `path` (if needed) and make it owner-only (0700) where the OS has modes."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:  # Windows: ACLs instead of modes (docs/security.md, icacls)
        pass


def holds_sealed_data(database: Database) -> bool:
    """Whether the database already holds anything sealed (then a missing key is a loss, not a first start)."""
    tables = set(database.get_tables())
    probes = []
    if "case" in tables:
        probes.append("SELECT 1 FROM \"case\" WHERE applicant_id_stored LIKE 'enc1:%' LIMIT 1")
    if "outbox_event" in tables:
        probes.append("SELECT 1 FROM outbox_event WHERE typeof(payload) = 'blob' OR payload LIKE 'enc1:%' LIMIT 1")
    if "sync_state" in tables:
        probes.append("SELECT 1 FROM sync_state WHERE value LIKE 'enc1:%' LIMIT 1")
    return any(database.execute_sql(sql).fetchone() for sql in probes)


def load_for_station(key_file: Path, database: Database) -> KeyRing:
    """The station's ring; created on a first start, refused when sealed data has lost its key."""
    if not key_file.exists():
        with database.connection_context():
            sealed = holds_sealed_data(database)
        if sealed:
            raise KeyFileMissing(
                f"找不到密钥文件 {key_file}，而数据库中已有加密的居民信息。没有原来的密钥文件，这些信息无法读取。"
                "请从备份中把密钥文件放回这个位置后再启动；切勿删除数据库或新建密钥。")
        owner_only_folder(key_file.parent)
    return load_key_ring(key_file, create=True)
