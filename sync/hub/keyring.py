"""The hub's key ring: one owner-only key file in the instance folder, shared by every worker.

Several WSGI workers start at once on a fresh install; each must end up with the same ring, or
the first worker's seals would be unreadable to the others. The file is therefore created under
a temporary name and linked to its final name (``os.link`` fails if the name exists), so exactly
one worker's ring wins and the others read it, complete, never half-written.

A hub whose database already holds sealed data and whose key file has gone missing refuses to
start: making a fresh ring then would hide the loss until a clerk opens a case.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from peewee import Database

from websec.sealing import KeyRing, SealingError, new_key_ring, parse_key_ring

#: (table, column, LIKE pattern) matching a row holding sealed data; one hit means "sealed data exists".
#: The patterns go as parameters: written into the SQL, their ``%`` met psycopg2's own interpolation
#: on PostgreSQL and a lost key file was answered with an IndexError instead of MissingKeyFile.
_SEALED_MARKERS = (
    ("hub_station", "secret", "enc1:%"),
    ("hub_event", "body", '"enc1:%'),
    ("hub_conflict", "body", '"enc1:%'),
    ("hub_case", "snapshot", "%enc1:%"),
)


class MissingKeyFile(SealingError):
    """The database holds sealed data but the key file is not there."""


def holds_sealed_data(database: Database) -> bool:
    """Whether any hub table holds a value sealed by some key ring (checked before making a new one)."""
    with database.connection_context():
        for table, column, pattern in _SEALED_MARKERS:
            if database.table_exists(table) and database.execute_sql(
                    f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE {database.param} LIMIT 1',  # noqa: S608 - fixed names
                    (pattern,)).fetchone():
                return True
    return False


def open_key_ring(path: Path, database: Database) -> KeyRing:
    """The ring in ``path``; created owner-only on a first start, refused if sealed data has lost its key."""
    if path.exists():
        return _read(path)
    if holds_sealed_data(database):
        raise MissingKeyFile(
            f"找不到密钥文件 {path}，而数据库中已有加密的居民信息：没有原来的密钥文件，这些信息无法读取。"
            "请从密钥备份中恢复该文件（或用 KEY_FILE 指向它）后再启动县级平台；切勿新建密钥。")
    return create_key_file(path)


def create_key_file(path: Path) -> KeyRing:
    """Create ``path`` with a new ring unless another worker just did; either way return the ring in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = new_key_ring(path)
    tmp = path.with_name(f"{path.name}.new-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the first byte
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(ring.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic and exclusive: the first worker's ring is the ring
        except FileExistsError:
            return _read(path)
    finally:
        tmp.unlink(missing_ok=True)
    return ring


def _read(path: Path) -> KeyRing:
    try:
        return parse_key_ring(path.read_text(encoding="utf-8"), path)
    except (ValueError, KeyError) as exc:
        raise SealingError(f"密钥文件 {path} 已损坏，无法读取。请从密钥备份中恢复。") from exc
