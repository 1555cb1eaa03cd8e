"""The access log's chain, shared by the station and the hub: an entry's canonical form, its hash,
appending under a lock, and a walk that finds the first removed, altered or missing entry.

Each entry's ``hash`` is SHA-256 over its canonical form and the previous entry's hash, so
removing or changing one row breaks every link after it. A truncated tail leaves a valid chain,
so the newest ``(seq, hash)`` is also kept in a one-row head table, sealed with an HMAC under the
instance secret: whoever can edit the database file but not read the secret cannot move the head
back. Pure functions first (tested alone), then the one peewee helper both apps append through.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import Model

GENESIS = "0" * 64
CLI_ACTOR = "命令行"  # who an entry names for a change made at the command line of the PC or the server
SYSTEM_ACTOR = "系统"  # who an entry names for a change no person made (a scheduled purge)
#: The fields a hash covers, in a fixed order; ``prev_hash`` joins them through :func:`entry_hash`.
FIELDS = ("seq", "at", "actor_id", "actor_name", "role", "address", "action", "case_id", "object", "detail")
HEAD_ID = 1


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value if value is None or isinstance(value, int) else str(value)


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The entry as the bytes its hash is taken over (the same on every database and every side)."""
    return json.dumps([_text(entry.get(name)) for name in FIELDS], ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the previous hash and this entry's canonical form."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


def head_mac(secret: str | bytes, seq: int, head_hash: str) -> str:
    """HMAC of the chain's head under the instance secret, so the head cannot be moved back unseen."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, f"access-log-head:{seq}:{head_hash}".encode("ascii"), hashlib.sha256).hexdigest()


def cli_actor() -> str:
    """Who an entry names for a change made at the command line: 命令行 and, when known, the OS user.

    Staff log in through pages; at the command line (the station's PC or the county's server, where
    several people may share the machine) the OS account is the only name there is, e.g. 命令行（root）.
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError, ImportError):  # no login name in the environment nor the password database
        return CLI_ACTOR
    return f"{CLI_ACTOR}（{user}）" if user else CLI_ACTOR


@dataclass(frozen=True)
class Verification:
    """What a walk over the chain found: ``ok``, how many entries were checked, and the first problem."""

    ok: bool
    checked: int
    message: str
    seq: int | None = None  # the entry where the chain first breaks


def verify(rows: Iterable[Mapping[str, Any]], head: Mapping[str, Any] | None = None,
           secret: str | bytes | None = None, *, first_seq: int = 1,
           held_elsewhere: Mapping[int, tuple[int, str]] | None = None) -> Verification:
    """Walk ``rows`` (ordered by seq) and report the first missing, altered or out-of-chain entry.

    With ``secret``, ``head`` (``seq``, ``hash``, ``mac``) must carry a valid HMAC and name the
    last entry: a log whose tail was cut off, or whose head was rewritten, fails. Without a
    secret (a station's log as the county received it) only the chain itself is checked.
    ``held_elsewhere`` maps a seq ``a`` to ``(b, hash)``: entries ``a+1``..``b`` are kept by the
    county only (written by a PC lost after the backup this log was restored from), and the
    chain goes on after ``b`` from that entry's ``hash``. Any other gap is a removal.
    """
    bridges = held_elsewhere or {}
    expected_seq, prev, checked, bridged = first_seq, GENESIS, 0, []
    for row in rows:
        seq = int(row["seq"])
        bridge = bridges.get(expected_seq - 1)
        if seq != expected_seq and bridge and seq == bridge[0] + 1 and row["prev_hash"] == bridge[1]:
            bridged.append((expected_seq, bridge[0]))
            prev, expected_seq = bridge[1], seq
        if seq != expected_seq:
            missing = f"第 {expected_seq} 条" if seq == expected_seq + 1 else f"第 {expected_seq}–{seq - 1} 条"
            return Verification(False, checked, f"日志不完整：{missing}记录已被删除。", expected_seq)
        if row["prev_hash"] != prev and not (checked == 0 and first_seq > 1):
            return Verification(False, checked, f"第 {seq} 条记录与前一条不衔接，日志已被改动。", seq)
        if entry_hash(row, row["prev_hash"]) != row["hash"]:
            return Verification(False, checked, f"第 {seq} 条记录的内容已被改动。", seq)
        prev, expected_seq, checked = row["hash"], seq + 1, checked + 1
    bridge = bridges.get(expected_seq - 1)
    if bridge and bridge[0] >= expected_seq:  # nothing written yet after the entries the county keeps
        bridged.append((expected_seq, bridge[0]))
        prev, expected_seq = bridge[1], bridge[0] + 1
    last_seq = expected_seq - 1
    if secret is not None:
        if head is None:
            if checked:
                return Verification(False, checked, "日志的末尾标记缺失，无法确认末尾未被删除。", last_seq)
        else:
            if not hmac.compare_digest(str(head.get("mac") or ""),
                                       head_mac(secret, int(head["seq"]), str(head["hash"]))):
                return Verification(False, checked, "日志的末尾标记已被改动。", int(head["seq"]))
            if int(head["seq"]) > last_seq:
                return Verification(False, checked,
                                    f"日志末尾被删除：应有 {head['seq']} 条，现只有 {last_seq} 条。", last_seq + 1)
            if int(head["seq"]) < last_seq or head["hash"] != prev:
                return Verification(False, checked, f"第 {int(head['seq']) + 1} 条之后的记录不是本系统写入的。",
                                    int(head["seq"]) + 1)
    kept = "".join(f"第 {a}–{b} 条在恢复备份前写入，由县级平台保存；" for a, b in bridged)
    return Verification(True, checked, f"日志完整：共校验 {checked} 条记录，未发现删除或改动。"
                        + (f"（{kept.rstrip('；')}。）" if kept else ""))


def as_row(instance: Model) -> dict[str, Any]:
    """A stored entry as the mapping :func:`verify` reads."""
    return {name: getattr(instance, name) for name in (*FIELDS, "prev_hash", "hash")}


def append(entry_model: type[Model], head_model: type[Model], secret: str | bytes, **fields: Any) -> Model:
    """Append one entry inside the caller's transaction (or a new one); return the stored row.

    The head row is updated first, which takes the write lock on SQLite and a row lock on
    PostgreSQL: concurrent writers queue up and the sequence stays gapless.
    """
    database = entry_model._meta.database
    with database.atomic():
        if not head_model.update(seq=head_model.seq + 1).where(head_model.id == HEAD_ID).execute():
            head_model.insert(id=HEAD_ID, seq=1, hash=GENESIS, mac="").execute()
        head = head_model.get(head_model.id == HEAD_ID)
        entry = {name: ("" if fields.get(name) is None else fields[name]) for name in FIELDS}
        entry["actor_id"] = fields.get("actor_id")  # None: the command line or an anonymous visitor
        entry["at"] = fields.get("at") or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        entry["seq"] = head.seq
        digest = entry_hash(entry, head.hash)
        row = entry_model.create(**entry, prev_hash=head.hash, hash=digest)
        head_model.update(hash=digest, mac=head_mac(secret, head.seq, digest)).where(
            head_model.id == HEAD_ID).execute()
    return row


def head_of(head_model: type[Model]) -> dict[str, Any] | None:
    """The stored head as the mapping :func:`verify` reads (None on a log never written to)."""
    head = head_model.get_or_none(head_model.id == HEAD_ID)
    return None if head is None else {"seq": head.seq, "hash": head.hash, "mac": head.mac}


def verify_stored(entry_model: type[Model], head_model: type[Model], secret: str | bytes,
                  held_elsewhere: Mapping[int, tuple[int, str]] | None = None) -> Verification:
    """Walk the whole stored log, in seq order, a page at a time."""
    def rows() -> Iterable[dict[str, Any]]:
        last = 0
        while True:
            page = list(entry_model.select().where(entry_model.seq > last).order_by(entry_model.seq).limit(2000))
            if not page:
                return
            for instance in page:
                yield as_row(instance)
            last = page[-1].seq

    return verify(rows(), head_of(head_model), secret, held_elsewhere=held_elsewhere)
