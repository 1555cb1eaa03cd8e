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
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from flask import current_app
from peewee import IntegrityError

from rules import events as rules_events
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Conflict, Event, HubCase, Station, utcnow
from sync.hub.services import attachments, catalog, home_visits, personal, retention, tally
from sync.hub.services.bulk_sql import IN_CLAUSE, prepared_insert, prepared_update, where_in
from sync.hub.services.case_view import APPLY, Deferred, apply_nothing, case_row, new_case, write
from sync.hub.services.classify import Verdict, bad_envelope, classify, named_files, rejected, resent

log = logging.getLogger(__name__)

_RACE_RETRIES = 4


class _LostRace(Exception):
    """Another worker changed the case between our read and our write; classify again."""


def _status_read(changing: Any, status: str | None) -> dict[str, str]:
    """The case's status as the event was applied against, for the update's WHERE, when the event moves it.

    An event whose effect depends on the status (a withdrawal closes only an open case, a handover moves
    only a completed one) must not land on a status a county decision set meanwhile: the decision's own
    update is conditional on the status it checked, and so is this one; the loser is classified again.
    """
    return {"status": status} if "status" in changing and status is not None else {}


def not_handled_here(event: dict[str, Any]) -> protocol.EventResult | None:
    """A peer county's ``case.submitted`` that names another county as 办理地, refused (None: ours).

    A peer forwards the cases whose ``handling_area`` it registered under this hub; one naming
    another county means its link is misconfigured (this hub added under the wrong area code).
    Taken, the case would be decided here by a county that does not handle it. Without its own
    ``AREA_CODE`` a hub cannot tell, and takes the case as before.
    """
    own = str(current_app.config.get("AREA_CODE") or "")
    handling = event["payload"].get("handling_area")
    if not own or handling == own:
        return None
    return rejected(event["event_id"], protocol.CODE_BAD_EVENT,
                    f"本件办理地为 {handling or '（未写明）'}，不是本县（{own}），本平台不予办理；"
                    "请对端县级平台核对其跨域办互联登记（行政区划代码与本平台地址是否对应）。", retryable=False)


def receive_batch(station: Station, batch: dict[str, Any], *, grace_days: int,
                  also: Callable[..., Any] | None = None) -> tuple[list[protocol.EventResult], bool]:
    """Classify and store every event of a batch; return one result per event, in input order,
    and whether ``also`` ran.

    Events are processed per case in ``seq`` order whatever their order in the batch, so a
    batch assembled most-urgent-first still lands in each case's own order. ``also`` (the
    station's heartbeat) is written last in the batch's own transaction when the batch opens one:
    a commit of its own cost the database more than the rest of a small batch's writes (issue 17).
    It is called as ``also(commit=True)`` when the transaction is the batch's own: its COMMIT may
    go with it. If it fails, the batch is taken again event by event without it, so it never costs
    a station its batch; the caller then writes it apart, as it does when no transaction was opened.
    """
    events = batch.get("events") or []
    batch_id = batch.get("batch_id") if protocol.is_client_id(batch.get("batch_id")) else None  # kept, not trusted

    def order_key(index: int) -> tuple[str, int, int]:
        event = events[index]
        if not isinstance(event, dict):
            return ("", 0, index)
        seq = event.get("seq")
        return (str(event.get("case_id")), seq if isinstance(seq, int) else 0, index)

    order = sorted(range(len(events)), key=order_key)
    results: list[protocol.EventResult | None] = [None] * len(events)
    # a home visit's events file a visit, not a case: they take the one-by-one path (a few a day),
    # the batch's case events the path at once
    visits = {i for i in order if isinstance(events[i], dict) and events[i].get("kind") in rules_events.VISIT_KINDS}
    cases = [i for i in order if i not in visits]
    also_ran = False  # only once the batch's transaction committed with it
    try:
        at_once, also_ran = _receive_at_once(station, events, cases, batch_id=batch_id, grace_days=grace_days,
                                             also=also)
        for index, result in zip(sorted(cases), at_once, strict=True):
            results[index] = result
    except (IntegrityError, _LostRace):
        pass  # a concurrent worker touched the same events or cases: take them one by one
    except Exception:  # noqa: BLE001 - the one-by-one path isolates (and logs) the culprit
        log.info("hub: batch %s from %s retried event by event", batch_id, station.code, exc_info=True)
    for index in order:
        if results[index] is None:
            results[index] = receive_event(station, events[index], batch_id=batch_id, grace_days=grace_days)
    tally.fold_sometimes()  # after the batch's own transaction, so a failed fold never undoes the batch
    return [r for r in results if r is not None], also_ran


def _receive_at_once(station: Station, events: list[Any], order: list[int], *, batch_id: str | None,
                     grace_days: int, also: Callable[..., Any] | None = None) -> tuple[list[protocol.EventResult], bool]:
    """Classify a whole batch, then store it in one transaction (``also`` last in it); raise to make
    the caller go one by one. Returns the results, and whether ``also`` was written.

    The same :func:`~sync.hub.services.classify.classify` as :func:`receive_event`, in the same
    (case, seq) order, but the rows already at the hub are read up front and the new ones written
    together at the end. Reading, classifying and preparing the rows happen outside the write
    transaction — on SQLite that transaction holds the one write lock every hub worker needs, and
    it used to hold it for the whole batch. Nothing read is trusted to be unchanged by the time of
    writing: a new event or case meets the unique indexes, an existing case the compare-and-set
    on the ``last_seq`` that was read, and any collision rolls the batch back for the one-by-one
    path. What was read and cannot change (a stored event, a case's station) stays true.
    """
    now = utcnow()
    results: list[protocol.EventResult | None] = [None] * len(events)
    named: list[tuple[int, dict[str, Any], str]] = []  # events with an id to look up, and their digests
    for index in order:
        event = events[index]
        if isinstance(event, dict) and protocol.is_client_id(event.get("event_id")):
            named.append((index, event, protocol.event_digest(event)))
        else:
            results[index] = bad_envelope(event)  # no id: refused whatever else it holds
    event_ids = list({event["event_id"] for _i, event, _d in named})
    known, open_conflicts = _stored_and_waiting(station, event_ids, list({
        event["case_id"] for _i, event, _d in named if protocol.is_client_id(event.get("case_id"))}))
    valid: list[tuple[int, dict[str, Any], str]] = []
    for index, event, digest in named:
        results[index] = resent(station.id, digest, known.get(event["event_id"])) or bad_envelope(event)
        if results[index] is None:
            valid.append((index, event, digest))
    # An event the hub already holds is judged against the stored one alone (classify): its case,
    # files and conflicts are read only for the others, so a batch sent again after a lost
    # answer (every station does so after an outage) costs one read, not four and a transaction.
    fresh = [event for _i, event, _d in valid if event["event_id"] not in known]
    case_ids = list({event["case_id"] for event in fresh})
    cases: dict[str, HubCase] = {
        case.case_id: case
        for sql, chunk in where_in(HubCase, None, "case_id", case_ids)
        for case in HubCase.from_sql(sql, chunk)}
    read_seq = {case_id: case.last_seq for case_id, case in cases.items()}
    read_status = {case_id: case.status for case_id, case in cases.items()}
    held = attachments.held_by(station, [sha for event in fresh for sha in named_files(event)])
    if open_conflicts is None:
        open_conflicts = _open_conflicts(station, case_ids)
    latest = catalog.head_for_batches()
    new_cases: dict[str, Any] = {}
    writes: list[Callable[[], Any]] = []
    changed: dict[str, set[str]] = {}
    stored: list[dict[str, Any]] = []
    taken: dict[tuple[str, int], str] = {}  # (case_id, seq) -> event_id accepted in this batch

    def seq_holder(case_id: str, seq: int) -> Any:
        holder = taken.get((case_id, seq))
        if holder is not None:
            return known[holder]
        return Event.get_or_none((Event.case_id == case_id) & (Event.seq == seq))

    def stale(event: dict[str, Any]) -> protocol.EventResult | None:
        if station.is_peer:
            return not_handled_here(event)  # checked against the peer county's own catalog there
        if latest is None or event["catalog_version"] == latest.version:
            return None  # the current catalog: no need to ask the database
        return catalog.check_grace(event, grace_days=grace_days, now=now)

    for index, event, digest in valid:
        event_id, case_id, seq, kind = event["event_id"], event["case_id"], event["seq"], event["kind"]
        case = cases.get(case_id)
        verdict = classify(station.id, event, digest, existing=known.get(event_id), case=case,
                           seq_holder=seq_holder, stale=stale,
                           not_held=lambda digests: [d for d in digests if d not in held],
                           conflict_open=open_conflicts.__contains__)
        results[index] = _settle(station, event, digest, verdict, writes)
        if verdict.conflict:
            open_conflicts.add(case_id)  # later events of the case in this batch wait too
        if not verdict.accepted:
            continue
        stored.append({"event_id": event_id, "station": station.id, "case_id": case_id, "seq": seq, "kind": kind,
                       "digest": digest, "occurred_at": event["occurred_at"],
                       "catalog_version": event["catalog_version"], "deadline": event.get("deadline"),
                       "batch_id": batch_id, "body": personal.seal_body(event), "received_at": now})
        known[event_id] = SimpleNamespace(event_id=event_id, station_id=station.id, digest=digest)
        taken[(case_id, seq)] = event_id
        if case is None:
            case = new_case(case_id, station.id, now)
            cases[case_id] = new_cases[case_id] = case
        updates: dict[str, Any] = {"last_seq": seq, "updated_at": now}
        updates.update(APPLY.get(kind, apply_nothing)(case, event, now, writes))
        for name, value in updates.items():
            setattr(case, name, value)
        changed.setdefault(case_id, set()).update(updates)
    insert_cases = prepared_insert(HubCase, [case_row(case) for case in new_cases.values()])
    updates = [prepared_update(HubCase, {name: getattr(cases[case_id], name) for name in names},
                               {"id": cases[case_id].id, "last_seq": read_seq[case_id],
                                **_status_read(names, read_status[case_id])})
               for case_id, names in changed.items() if case_id not in new_cases]
    insert_events = prepared_insert(Event, stored)
    if not (writes or new_cases or updates or stored):
        return [r for r in results if r is not None], False  # nothing new: no transaction to open
    outermost = not db.in_transaction()  # inside a caller's transaction this one is a savepoint
    with db.atomic():
        for pending in writes:
            pending()
        insert_cases()
        # a case whose counted columns stay as they are (a note, a reminder) moves no figure: no lock read
        recounted = {case_id for case_id, names in changed.items()
                     if case_id not in new_cases and not names.isdisjoint(tally.COUNTED)}
        held_now = tally.current([cases[case_id].id for case_id in recounted])
        for update in updates:
            if update() != 1:
                raise _LostRace()
        insert_events()
        counted: Counter = Counter()
        for case_id, names in changed.items():
            case = cases[case_id]
            if case_id in new_cases:
                tally.add(station.id, tally.figures(case), counted)
            elif case_id in recounted:
                row = held_now[case.id]
                tally.difference(station.id, tally.figures(row),
                                 tally.figures(row, **{name: getattr(case, name) for name in names}), counted)
        tally.write(counted)
        if also is not None:  # last: it locks the station's row, which the station's other batches update too
            also(commit=outermost)  # and the transaction's COMMIT goes with it (one round trip fewer)
    return [r for r in results if r is not None], also is not None


def receive_event(station: Station, event: Any, *, batch_id: str | None = None,
                  grace_days: int = 30, now: dt.datetime | None = None) -> protocol.EventResult:
    """Classify one event as accepted, duplicate, conflict or rejected, storing what it must."""
    named = isinstance(event, dict) and protocol.is_client_id(event.get("event_id"))
    digest = protocol.event_digest(event) if named else ""
    if named:  # sent again? answered as a batch answers it (classify.resent)
        again = resent(station.id, digest, Event.get_or_none(Event.event_id == event["event_id"]))
        if again is not None:
            return again
    refused = bad_envelope(event)
    if refused is not None:
        return refused
    event_id = event["event_id"]
    for _ in range(_RACE_RETRIES):
        try:
            with db.atomic():
                return _classify_and_store(station, event, digest, batch_id=batch_id,
                                           grace_days=grace_days, now=now or utcnow())
        except (IntegrityError, _LostRace):
            continue
        except Exception:  # one broken event must not sink the batch; the station retries it
            log.exception("hub: event %s from %s failed", event_id, station.code)
            return rejected(event_id, protocol.CODE_INTERNAL, "平台处理该事件时出错，将自动重试。", retryable=True)
    return rejected(event_id, protocol.CODE_INTERNAL, "平台繁忙，请稍后重试。", retryable=True)


def _stored_and_waiting(station: Station, event_ids: list[str],
                        case_ids: list[str]) -> tuple[dict[str, Any], set[str] | None]:
    """The events of ``event_ids`` the hub holds (by id), and those of ``case_ids`` with a conflict
    from this station not resolved yet: one read for a batch of up to :data:`IN_CLAUSE` of each
    (beyond that the conflicts are None: the caller reads them for the events it does not hold).

    Every statement a request sends costs the database far more in place than its own work (its
    data and code fall out of the caches while the hub's Python runs in between: docs/benchmarks.md,
    "Session 11"), so the conflicts ride with the events' read. The conflicts of a batch's cases
    are read even for the events already held (a resent batch), whose answers never ask for them.
    """
    if not event_ids:
        return {}, set()
    reads = where_in(Event, ("event_id", "station_id", "digest"), "event_id", event_ids)
    waiting: set[str] | None = None
    if len(event_ids) <= IN_CLAUSE and 0 < len(case_ids) <= IN_CLAUSE:
        (events_sql, _ids), = reads
        # "NULL, NULL, case_id": a conflict's row has no event id, which every stored event has
        reads = [(f'{events_sql} UNION ALL SELECT NULL, NULL, "case_id" FROM "{Conflict._meta.table_name}" '
                  f'WHERE "case_id" IN ({", ".join([db.param] * len(case_ids))}) '
                  f'AND "station_id" = {db.param} AND "resolved_at" IS NULL', [*event_ids, *case_ids, station.id])]
        waiting = set()
    known: dict[str, Any] = {}
    for sql, params in reads:
        for event_id, station_id, digest in db.execute_sql(sql, params).fetchall():
            if event_id is None:
                waiting.add(digest)  # the UNION's conflict rows: their case id
            else:
                known[event_id] = SimpleNamespace(event_id=event_id, station_id=station_id, digest=digest)
    return known, waiting


def _open_conflicts(station: Station, case_ids: list[str]) -> set[str]:
    """Those of ``case_ids`` with a conflict from this station the county has not resolved."""
    found: set[str] = set()
    for sql, chunk in where_in(Conflict, ("case_id",), "case_id", case_ids):
        found.update(case_id for (case_id,) in db.execute_sql(
            f'{sql} AND "station_id" = {db.param} AND "resolved_at" IS NULL', [*chunk, station.id]))
    return found


def _settle(station: Station, event: dict[str, Any], digest: str, verdict: Verdict,
            writes: Deferred = None) -> protocol.EventResult:
    """Keep a conflict's clashing copy for a person (once per distinct content); return the answer."""
    if verdict.conflict:
        write(Conflict.insert(event_id=event["event_id"], station=station, case_id=event["case_id"],
                              seq=event["seq"], kind=event["kind"], digest=digest, code=verdict.result.code,
                              existing_event_id=verdict.existing_event_id,
                              body=personal.seal_body(retention.clashing_copy(event)),
                              created_at=utcnow())
              .on_conflict_ignore(), writes)
    return verdict.result


def _classify_and_store(station: Station, event: dict[str, Any], digest: str, *,
                        batch_id: str | None, grace_days: int, now: dt.datetime) -> protocol.EventResult:
    """One event in the caller's transaction: every lookup read now, every write made now."""
    event_id, case_id, seq, kind = event["event_id"], event["case_id"], event["seq"], event["kind"]
    visit_stream = kind in rules_events.VISIT_KINDS  # a home visit's stream: the visit row stands for the case
    existing = Event.get_or_none(Event.event_id == event_id)
    case: Any = None
    if existing is None:
        case = home_visits.stream_of(case_id) if visit_stream else HubCase.get_or_none(HubCase.case_id == case_id)
    verdict = classify(
        station.id, event, digest, existing=existing, case=case,
        seq_holder=lambda case_id, seq: Event.get_or_none((Event.case_id == case_id) & (Event.seq == seq)),
        stale=not_handled_here if station.is_peer  # checked against the peer county's own catalog there
        else (lambda event: catalog.check_grace(event, grace_days=grace_days, now=now)),
        not_held=lambda digests: [d for d in digests if d not in attachments.held_by(station, digests)],
        conflict_open=lambda case_id: bool(_open_conflicts(station, [case_id])))
    if not verdict.accepted:
        return _settle(station, event, digest, verdict)
    if visit_stream:
        problem = home_visits.problem(case, event)
        if problem:
            return rejected(event_id, protocol.CODE_BAD_EVENT, problem, retryable=False)
    last = case.last_seq if case is not None else 0
    Event.create(event_id=event_id, station=station, case_id=case_id, seq=seq, kind=kind, digest=digest,
                 occurred_at=event["occurred_at"], catalog_version=event["catalog_version"],
                 deadline=event.get("deadline"), batch_id=batch_id, body=personal.seal_body(event),
                 received_at=now)
    if visit_stream:
        if not home_visits.apply(station, case, event, now):
            raise _LostRace()
        return verdict.result
    if case is None:
        case = HubCase.create(case_id=case_id, station=station, last_seq=0, created_at=now, updated_at=now)
    updates: dict[str, Any] = {"last_seq": seq, "updated_at": now}
    updates.update(APPLY.get(kind, apply_nothing)(case, event, now))
    held_now = tally.current([case.id])[case.id]  # as it stands, locked: a county decision may have moved it
    as_read = _status_read(updates, case.status)
    changed = (HubCase.update(**updates)
               .where((HubCase.id == case.id) & (HubCase.last_seq == last),
                      *[HubCase.status == as_read["status"]] if as_read else [])
               .execute())
    if changed != 1:
        raise _LostRace()
    tally.record(held_now, **updates)
    return verdict.result
