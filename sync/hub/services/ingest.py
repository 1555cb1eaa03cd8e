"""Receiving event batches: exactly once, in order per case, one bad event sinking nothing else.

A batch is first tried whole: the events and cases it names are read with two queries, every
event is classified in memory, and the new rows are written with a few multi-row statements in
one transaction. Exactly-once never rests on that read (two workers could both read "absent"):
it rests on the unique indexes on ``event_id`` and ``(case_id, seq)`` and on the compare-and-set
of each case's ``last_seq``. If anything in the batch collides — a concurrent worker, an event
that crashes — the whole batch transaction rolls back and the batch is taken again one event per
transaction, where a worker that loses a race gets IntegrityError, rolls back and classifies
again, now seeing the winner's row; there one bad event sinks nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from peewee import (
    AutoField,
    CharField,
    Field,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    JSONField,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from psycopg2.extras import execute_values

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import AttachmentLink, Conflict, Event, HubCase, Station, utcnow
from sync.hub.services import catalog

log = logging.getLogger(__name__)

_RACE_RETRIES = 4

#: A case as the apply functions see it: a stored row, or one first seen in this batch (_new_case).
CaseView = HubCase | SimpleNamespace
#: Writes a batch makes besides its events and cases (conflict copies, attachment links), held
#: back until the batch's transaction; None means "write now" (one event per transaction).
Deferred = list[Callable[[], Any]] | None


class _LostRace(Exception):
    """Another worker changed the case between our read and our write; classify again."""


def receive_batch(station: Station, batch: dict[str, Any], *, grace_days: int) -> list[protocol.EventResult]:
    """Classify and store every event of a batch; return one result per event, in input order.

    Events are processed per case in ``seq`` order whatever their order in the batch, so a
    batch assembled most-urgent-first still lands in each case's own order.
    """
    events = batch.get("events") or []
    batch_id = batch.get("batch_id") if isinstance(batch.get("batch_id"), str) else None

    def order_key(index: int) -> tuple[str, int, int]:
        event = events[index]
        if not isinstance(event, dict):
            return ("", 0, index)
        seq = event.get("seq")
        return (str(event.get("case_id")), seq if isinstance(seq, int) else 0, index)

    order = sorted(range(len(events)), key=order_key)
    try:
        return _receive_at_once(station, events, order, batch_id=batch_id, grace_days=grace_days)
    except (IntegrityError, _LostRace):
        pass  # a concurrent worker touched the same events or cases: take them one by one
    except Exception:  # noqa: BLE001 - the one-by-one path isolates (and logs) the culprit
        log.info("hub: batch %s from %s retried event by event", batch_id, station.code, exc_info=True)
    results: list[protocol.EventResult | None] = [None] * len(events)
    for index in order:
        results[index] = receive_event(station, events[index], batch_id=batch_id, grace_days=grace_days)
    return [r for r in results if r is not None]


_IN_CLAUSE = 500  # ids per IN (...) list: well under SQLite's and psycopg2's parameter limits


def _receive_at_once(station: Station, events: list[Any], order: list[int], *, batch_id: str | None,
                     grace_days: int) -> list[protocol.EventResult]:
    """Classify a whole batch, then store it in one transaction; raise to make the caller go one by one.

    Same decisions as :func:`_classify_and_store`, in the same (case, seq) order, but the rows
    already at the hub are read up front and the new ones written together at the end. Reading,
    classifying and preparing the rows happen outside the write transaction — on SQLite that
    transaction holds the one write lock every hub worker needs, and it used to hold it for the
    whole batch. Nothing read is trusted to be unchanged by the time of writing: a new event or
    case meets the unique indexes, an existing case the compare-and-set on the ``last_seq`` that
    was read, and any collision rolls the batch back for the one-by-one path. What was read and
    cannot change (a stored event, a case's station) stays true.
    """
    now = utcnow()
    results: list[protocol.EventResult | None] = [None] * len(events)
    valid: list[tuple[int, dict[str, Any], str]] = []
    for index in order:
        event = events[index]
        problem = protocol.validate_event(event)
        if problem:
            event_id = str(event.get("event_id") or "") if isinstance(event, dict) else ""
            results[index] = _rejected(event_id, protocol.CODE_BAD_EVENT, problem, retryable=False)
        else:
            valid.append((index, event, protocol.event_digest(event)))
    event_ids = list({event["event_id"] for _i, event, _d in valid})
    case_ids = list({event["case_id"] for _i, event, _d in valid})
    known: dict[str, Any] = {
        event_id: SimpleNamespace(event_id=event_id, station_id=station_id, digest=digest)
        for sql, chunk in _where_in(Event, ("event_id", "station_id", "digest"), "event_id", event_ids)
        for event_id, station_id, digest in db.execute_sql(sql, chunk).fetchall()}
    cases: dict[str, HubCase] = {
        case.case_id: case
        for sql, chunk in _where_in(HubCase, None, "case_id", case_ids)
        for case in HubCase.raw(sql, *chunk)}
    read_seq = {case_id: case.last_seq for case_id, case in cases.items()}
    latest = catalog.current()
    new_cases: dict[str, Any] = {}
    writes: list[Callable[[], Any]] = []
    changed: dict[str, set[str]] = {}
    stored: list[dict[str, Any]] = []
    taken: dict[tuple[str, int], str] = {}  # (case_id, seq) -> event_id accepted in this batch
    for index, event, digest in valid:
        event_id, case_id, seq, kind = event["event_id"], event["case_id"], event["seq"], event["kind"]
        existing = known.get(event_id)
        if existing is not None:
            results[index] = _classify_existing(station, event, digest, existing, writes)
            continue
        case = cases.get(case_id)
        if case is not None and case.station_id != station.id:
            results[index] = _rejected(event_id, protocol.CODE_NOT_YOUR_CASE,
                                       "该办件属于其他站点，不能由本站提交。", retryable=False)
            continue
        if kind not in protocol.KNOWN_EVENT_KINDS:
            results[index] = _rejected(event_id, protocol.CODE_UNKNOWN_KIND,
                                       f"平台不认识事件类型「{kind}」，请联系县级平台升级。", retryable=False)
            continue
        last = case.last_seq if case is not None else 0
        if seq <= last:
            holder = taken.get((case_id, seq))
            if holder is None:
                row = Event.get_or_none((Event.case_id == case_id) & (Event.seq == seq))
                holder = row.event_id if row is not None else None
                if holder == event_id:
                    raise _LostRace()  # committed by another worker since our read
            results[index] = _conflict(station, event, digest, protocol.CODE_SEQ_TAKEN, holder,
                                       f"该办件第 {seq} 条事件已由另一事件占用，已转人工核对。", writes)
            continue
        if seq > last + 1:
            results[index] = _rejected(
                event_id, protocol.CODE_OUT_OF_ORDER,
                f"事件顺序不连续：平台已收到该办件第 {last} 条，本条为第 {seq} 条，须先补发前面的事件。",
                retryable=True)
            continue
        if kind == protocol.KIND_CASE_SUBMITTED and latest is not None and event["catalog_version"] != latest.version:
            stale = catalog.check_grace(event, grace_days=grace_days, now=now)
            if stale is not None:
                results[index] = stale
                continue
        stored.append({"event_id": event_id, "station": station.id, "case_id": case_id, "seq": seq, "kind": kind,
                       "digest": digest, "occurred_at": event["occurred_at"],
                       "catalog_version": event["catalog_version"], "deadline": event.get("deadline"),
                       "batch_id": batch_id, "body": event, "received_at": now})
        known[event_id] = SimpleNamespace(event_id=event_id, station_id=station.id, digest=digest)
        taken[(case_id, seq)] = event_id
        if case is None:
            case = _new_case(case_id, station.id, now)
            cases[case_id] = new_cases[case_id] = case
        updates: dict[str, Any] = {"last_seq": seq, "updated_at": now}
        updates.update(_APPLY.get(kind, _apply_nothing)(case, event, now, writes))
        for name, value in updates.items():
            setattr(case, name, value)
        changed.setdefault(case_id, set()).update(updates)
        results[index] = protocol.EventResult(event_id, protocol.STATUS_ACCEPTED)
    insert_cases = _prepared_insert(HubCase, [_case_row(case) for case in new_cases.values()])
    updates = [(HubCase.update(**{name: getattr(cases[case_id], name) for name in names})
                .where((HubCase.id == cases[case_id].id) & (HubCase.last_seq == read_seq[case_id])))
               for case_id, names in changed.items() if case_id not in new_cases]
    insert_events = _prepared_insert(Event, stored)
    with db.atomic():
        for write in writes:
            write()
        insert_cases()
        for update in updates:
            if update.execute() != 1:
                raise _LostRace()
        insert_events()
    return [r for r in results if r is not None]


def _where_in(model: type, columns: tuple[str, ...] | None, key: str,
              keys: list[str]) -> Iterator[tuple[str, list[str]]]:
    """``SELECT columns FROM table WHERE key IN (...)`` in chunks, as plain SQL and parameters.

    peewee renders an IN list parameter by parameter; for the 500 ids of a batch that cost more
    than the database's own work.
    """
    names = columns or tuple(field.column_name for field in model._meta.sorted_fields)
    quoted = ", ".join('"' + name + '"' for name in names)
    head = f'SELECT {quoted} FROM "{model._meta.table_name}" WHERE "{key}" IN '
    for start in range(0, len(keys), _IN_CLAUSE):
        chunk = keys[start:start + _IN_CLAUSE]
        yield head + "(" + ", ".join([db.param] * len(chunk)) + ")", chunk


def _prepared_insert(model: type, rows: list[dict[str, Any]]) -> Callable[[], None]:
    """An insert of rows that all have the same keys, ready to run: SQLite ``executemany``, PostgreSQL ``execute_values``.

    peewee renders SQL value by value (tens of µs each), which made rendering the INSERT the
    larger part of taking a batch. Here each row's parameters are converted as peewee converts
    them and handed to the driver in one call; the first row is checked against peewee's own
    rendering of it (parameters on SQLite, the finished SQL on PostgreSQL) and if they differ
    peewee does it all. The conversion happens now, the writing when the returned function is
    called (inside the transaction).
    """
    if not rows:
        return lambda: None
    fields = [f for f in model._meta.sorted_fields if f.name in rows[0]]
    # column by column: a column of plain text or ints is taken as it is, checked in one pass
    columns = [_db_column(field, [row[field.name] for row in rows]) for field in fields]
    params = list(zip(*columns, strict=True))
    sql, expected = model.insert(rows[0]).sql()
    if isinstance(db.obj, SqliteDatabase):
        if list(params[0]) == list(expected):
            return lambda: db.cursor().executemany(sql, params)
    elif isinstance(db.obj, PostgresqlDatabase):
        values = "(" + ", ".join(["%s"] * len(fields)) + ")"
        cursor = db.cursor()
        if b"VALUES " + cursor.mogrify(values, params[0]) in cursor.mogrify(sql, expected):
            names = ", ".join('"' + f.column_name + '"' for f in fields)
            statement = f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES %s'
            return lambda: execute_values(db.cursor(), statement, params, template=values, page_size=len(rows))

    def by_peewee() -> None:
        for start in range(0, len(rows), 100):
            model.insert_many(rows[start:start + 100]).execute()

    return by_peewee


_AS_IS = {CharField: {str}, TextField: {str}, IntegerField: {int}}


def _db_column(field: Field, values: list[Any]) -> list[Any]:
    """One column's values as peewee would pass them to the driver.

    Text in a text column and ints in an integer column go as they are (peewee's ``adapt``
    returns them unchanged), so such a column is only checked; on SQLite a JSONField's
    ``db_value`` is the SQL function ``json(?)``, whose parameter is the serialised text; every
    row of a batch carries the same "now", converted once.
    """
    kind = ForeignKeyField if isinstance(field, ForeignKeyField) else type(field)
    as_is = _AS_IS.get(kind) or ({int} if kind is ForeignKeyField and type(field.rel_field) is AutoField else None)
    if as_is is not None and set(map(type, values)) - {type(None)} <= as_is:
        return values
    if isinstance(field, JSONField):
        convert = field._dumps if isinstance(db.obj, SqliteDatabase) else field.db_value
        return [None if value is None else convert(value) for value in values]
    converted: dict[int, Any] = {}  # by identity: the same datetime object in every row
    return [None if value is None else converted[id(value)] if id(value) in converted
            else converted.setdefault(id(value), field.db_value(value)) for value in values]


# (name, default) of every HubCase column but the id, for cases first seen in a batch
_CASE_DEFAULTS = [(field.name, field.default) for field in HubCase._meta.sorted_fields if field.name != "id"]


def _new_case(case_id: str, station_id: int, now: dt.datetime) -> SimpleNamespace:
    """A case first seen in this batch, as plain attributes until its row is inserted.

    A peewee instance runs a descriptor for every field set; a batch creates hundreds of cases.
    The apply functions read the same names (``station_id`` too) either way.
    """
    values = {name: default() if callable(default) else default for name, default in _CASE_DEFAULTS}
    values.update(case_id=case_id, station=station_id, station_id=station_id, last_seq=0,
                  created_at=now, updated_at=now)
    return SimpleNamespace(**values)


def _case_row(case: SimpleNamespace) -> dict[str, Any]:
    """A new case's columns for a multi-row insert (every field, defaults included)."""
    return {name: getattr(case, name) for name, _default in _CASE_DEFAULTS}


def receive_event(station: Station, event: Any, *, batch_id: str | None = None,
                  grace_days: int = 30, now: dt.datetime | None = None) -> protocol.EventResult:
    """Classify one event as accepted, duplicate, conflict or rejected, storing what it must."""
    event_id = str(event.get("event_id") or "") if isinstance(event, dict) else ""
    problem = protocol.validate_event(event)
    if problem:
        return _rejected(event_id, protocol.CODE_BAD_EVENT, problem, retryable=False)
    digest = protocol.event_digest(event)
    for _ in range(_RACE_RETRIES):
        try:
            with db.atomic():
                return _classify_and_store(station, event, digest, batch_id=batch_id,
                                           grace_days=grace_days, now=now or utcnow())
        except (IntegrityError, _LostRace):
            continue
        except Exception:  # one broken event must not sink the batch; the station retries it
            log.exception("hub: event %s from %s failed", event_id, station.code)
            return _rejected(event_id, protocol.CODE_INTERNAL, "平台处理该事件时出错，将自动重试。",
                             retryable=True)
    return _rejected(event_id, protocol.CODE_INTERNAL, "平台繁忙，请稍后重试。", retryable=True)


def _rejected(event_id: str, code: str, reason: str, *, retryable: bool) -> protocol.EventResult:
    return protocol.EventResult(event_id, protocol.STATUS_REJECTED, reason=reason, code=code,
                                retryable=retryable)


def _conflict(station: Station, event: dict[str, Any], digest: str, code: str,
              existing_event_id: str | None, reason: str, writes: Deferred = None) -> protocol.EventResult:
    """Keep the clashing copy for a person (once per distinct content) and report it."""
    _write(Conflict.insert(event_id=event["event_id"], station=station, case_id=event["case_id"],
                           seq=event["seq"], kind=event["kind"], digest=digest, code=code,
                           existing_event_id=existing_event_id, body=event, created_at=utcnow())
           .on_conflict_ignore(), writes)
    return protocol.EventResult(event["event_id"], protocol.STATUS_CONFLICT, reason=reason, code=code,
                                retryable=False)


def _write(query: Any, writes: Deferred) -> None:
    """Run an insert now, or hold it for the batch's transaction."""
    if writes is None:
        query.execute()
    else:
        writes.append(query.execute)


def _classify_existing(station: Station, event: dict[str, Any], digest: str,
                       existing: Event, writes: Deferred = None) -> protocol.EventResult:
    """The hub already holds this event id: duplicate if the content matches, else conflict."""
    event_id = event["event_id"]
    if existing.station_id != station.id:
        return _rejected(event_id, protocol.CODE_NOT_YOUR_CASE, "该事件编号属于其他站点。", retryable=False)
    if existing.digest == digest:
        return protocol.EventResult(event_id, protocol.STATUS_DUPLICATE)
    return _conflict(station, event, digest, protocol.CODE_CONTENT_MISMATCH, existing.event_id,
                     "同一事件编号的内容与平台已收到的不一致，已转人工核对。", writes)


def _classify_and_store(station: Station, event: dict[str, Any], digest: str, *,
                        batch_id: str | None, grace_days: int, now: dt.datetime) -> protocol.EventResult:
    event_id, case_id, seq, kind = event["event_id"], event["case_id"], event["seq"], event["kind"]

    existing = Event.get_or_none(Event.event_id == event_id)
    if existing is not None:
        return _classify_existing(station, event, digest, existing)

    case = HubCase.get_or_none(HubCase.case_id == case_id)
    if case is not None and case.station_id != station.id:
        return _rejected(event_id, protocol.CODE_NOT_YOUR_CASE, "该办件属于其他站点，不能由本站提交。",
                         retryable=False)
    if kind not in protocol.KNOWN_EVENT_KINDS:
        return _rejected(event_id, protocol.CODE_UNKNOWN_KIND,
                         f"平台不认识事件类型「{kind}」，请联系县级平台升级。", retryable=False)

    last = case.last_seq if case is not None else 0
    if seq <= last:
        taken = Event.get_or_none((Event.case_id == case_id) & (Event.seq == seq))
        if taken is not None and taken.event_id == event_id:
            # PostgreSQL READ COMMITTED: each statement sees a fresh snapshot, so a concurrent
            # worker may have committed this very event between our two reads.
            return _classify_existing(station, event, digest, taken)
        return _conflict(station, event, digest, protocol.CODE_SEQ_TAKEN, taken.event_id if taken else None,
                         f"该办件第 {seq} 条事件已由另一事件占用，已转人工核对。")
    if seq > last + 1:
        return _rejected(event_id, protocol.CODE_OUT_OF_ORDER,
                         f"事件顺序不连续：平台已收到该办件第 {last} 条，本条为第 {seq} 条，须先补发前面的事件。",
                         retryable=True)
    if kind == protocol.KIND_CASE_SUBMITTED:
        stale = catalog.check_grace(event, grace_days=grace_days, now=now)
        if stale is not None:
            return stale

    Event.create(event_id=event_id, station=station, case_id=case_id, seq=seq, kind=kind, digest=digest,
                 occurred_at=event["occurred_at"], catalog_version=event["catalog_version"],
                 deadline=event.get("deadline"), batch_id=batch_id, body=event, received_at=now)
    if case is None:
        case = HubCase.create(case_id=case_id, station=station, last_seq=0, created_at=now, updated_at=now)
    updates: dict[str, Any] = {"last_seq": seq, "updated_at": now}
    updates.update(_APPLY.get(kind, _apply_nothing)(case, event, now))
    changed = (HubCase.update(**updates)
               .where((HubCase.id == case.id) & (HubCase.last_seq == last))
               .execute())
    if changed != 1:
        raise _LostRace()
    return protocol.EventResult(event_id, protocol.STATUS_ACCEPTED)


# --- what each kind does to the county's view of the case ----------------------------------


def _link_attachments(case: CaseView, attachments: Any, writes: Deferred) -> None:
    for item in attachments or []:
        if isinstance(item, dict) and protocol.is_sha256(item.get("sha256")):
            _write(AttachmentLink.insert(station=case.station_id, case_id=case.case_id, sha256=item["sha256"],
                                         filename=str(item.get("filename") or "")[:255] or None,
                                         size=item.get("size") if isinstance(item.get("size"), int) else None,
                                         content_type=str(item.get("content_type") or "")[:100] or None,
                                         linked_at=utcnow())
                   .on_conflict_ignore(), writes)


def _date_or_none(value: Any) -> str | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def _apply_submitted(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    payload = event["payload"]
    applicant = payload.get("applicant") if isinstance(payload.get("applicant"), dict) else {}
    decision = payload.get("decision")
    _link_attachments(case, payload.get("attachments"), writes)
    updates: dict[str, Any] = {
        "snapshot": payload,
        "case_no": str(payload.get("case_no") or "")[:64] or None,
        "query_code": str(payload.get("query_code") or "")[:32] or None,
        "item_code": str(payload.get("item_code") or "")[:64] or None,
        "impl_code": str(payload.get("impl_code") or "")[:64] or None,
        "item_name": str(payload.get("item_name") or "")[:200] or None,
        "applicant_name": str(applicant.get("name") or "")[:100] or None,
        "mode": str(payload.get("mode") or "")[:16] or None,
        "station_decision": str(decision or "")[:16] or None,
        "catalog_version": event["catalog_version"],
        "statutory_due": _date_or_none(payload.get("statutory_due")),
        "committed_due": _date_or_none(payload.get("committed_due")),
        "received_at": str(payload.get("received_at") or "")[:40] or None,
    }
    if case.last_seq == 0:
        # A station holding the power to accept (委托受理) already accepted; a case it could not
        # collect is on record only. Everything else waits for the county's 受理.
        updates["status"] = {"accepted": "accepted", "not_collected": "not_collected"}.get(decision, "submitted")
    return updates


def _apply_materials(case: CaseView, event: dict[str, Any], now: dt.datetime,
                     writes: Deferred = None) -> dict[str, Any]:
    payload = event["payload"]
    snapshot = dict(case.snapshot or {})
    if isinstance(payload.get("materials"), list):
        snapshot["materials"] = payload["materials"]
    if isinstance(payload.get("attachments"), list):
        known = {a.get("sha256") for a in snapshot.get("attachments") or [] if isinstance(a, dict)}
        snapshot["attachments"] = list(snapshot.get("attachments") or []) + [
            a for a in payload["attachments"] if isinstance(a, dict) and a.get("sha256") not in known]
        _link_attachments(case, payload["attachments"], writes)
    updates: dict[str, Any] = {"snapshot": snapshot}
    if case.status == "supplement":
        updates["supplied_at"] = now
    return updates


def _apply_into_snapshot(key: str) -> Callable[..., dict[str, Any]]:
    def apply(case: CaseView, event: dict[str, Any], now: dt.datetime, writes: Deferred = None) -> dict[str, Any]:
        snapshot = dict(case.snapshot or {})
        snapshot[key] = event["payload"]
        return {"snapshot": snapshot}

    return apply


def _apply_nothing(case: CaseView, event: dict[str, Any], now: dt.datetime,
                   writes: Deferred = None) -> dict[str, Any]:
    return {}


_APPLY: dict[str, Callable[..., dict[str, Any]]] = {
    protocol.KIND_CASE_SUBMITTED: _apply_submitted,
    "case.materials_updated": _apply_materials,
    "case.status_changed": _apply_into_snapshot("station_status"),
    "case.delivered": _apply_into_snapshot("delivery"),
    "case.evaluated": _apply_into_snapshot("evaluation"),
    "case.note": _apply_nothing,
}
