"""Ending a conflict: the county keeps its copy, takes the station's, or merges the two, with a note.

The decision changes the county's view of the case where it must (the station's copy applied,
or the fields only the station's copy had) — or of the home visit, when the event is one of a
visit's stream: the visit is filed again as accepting the decided copy would have —, closes every
open conflict of that event, and goes down the changes feed (``conflict.resolved``) in the same
transaction, so the station can settle the event it set aside and send the case's (or visit's)
later events, which the hub held back meanwhile.
"""

from __future__ import annotations

from typing import Any

from rules import events as rules_events
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Conflict, Event, HubCase, utcnow
from sync.hub.services import changes, home_visits, personal, retention, tally, users
from sync.hub.services.case_view import APPLY, apply_nothing, new_case
from sync.hub.services.errors import NotFound, ValidationError

RESOLUTION_LABELS = {
    protocol.RESOLVE_KEEP_COUNTY: "保留县级记录",
    protocol.RESOLVE_TAKE_STATION: "采用站点记录",
    protocol.RESOLVE_MERGE: "合并两份记录",
}


#: The note goes down to the station with the resolution and stays on both conflict pages.
NOTE_MAX = 500


def resolve(conflict_id: int, resolution: str, note: str, *, clerk: str) -> Conflict:
    """Settle one conflict as the county decided; raise ``ValidationError``/``NotFound`` in Chinese."""
    note = (note or "").strip()
    if resolution not in RESOLUTION_LABELS:
        raise ValidationError("请选择处理方式：保留县级记录、采用站点记录或合并。")
    if not note:
        raise ValidationError("请填写处理说明。")
    if len(note) > NOTE_MAX:
        raise ValidationError(f"处理说明最多 {NOTE_MAX} 个字（现在 {len(note)} 个），请精简后再提交。")
    with db.atomic():
        conflict = Conflict.get_or_none(Conflict.id == conflict_id)
        if conflict is None:
            raise NotFound("没有找到这条冲突记录。")
        if conflict.resolved_at is not None:
            raise ValidationError("这条冲突已处理过。")
        original = _original(conflict)
        if resolution != protocol.RESOLVE_KEEP_COUNTY and original is not None:
            _rewrite(conflict, original, resolution)
        now = utcnow()
        (Conflict.update(resolved_at=now, resolved_by=clerk, resolution_note=note, resolution=resolution)
         .where((Conflict.event_id == conflict.event_id) & (Conflict.station == conflict.station_id)
                & Conflict.resolved_at.is_null())
         .execute())
        changes.emit(protocol.CHANGE_CONFLICT_RESOLVED, {
            "event_id": conflict.event_id, "seq": conflict.seq, "resolution": resolution, "note": note,
            "resolved_by": clerk, "resolved_by_name": users.person_name(clerk), "resolved_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            station=conflict.station, case_id=conflict.case_id)
        if HubCase.get_or_none(HubCase.case_id == conflict.case_id) is not None:
            # the station may hold dates of its own copy (a case.submitted, a recount note) that the county's
            # decision did not take: the county's stand (served as they are when pulled; the same dates do nothing)
            changes.emit(protocol.CHANGE_CASE_DUES, {"reason": "conflict_resolved"}, station=conflict.station,
                         case_id=conflict.case_id)
    conflict.resolution, conflict.resolution_note = resolution, note
    return conflict


def _original(conflict: Conflict) -> Event | None:
    """The event the hub holds in the conflicting copy's place (same id, or same case and seq)."""
    if conflict.existing_event_id:
        found = Event.get_or_none(Event.event_id == conflict.existing_event_id)
        if found is not None:
            return found
    return Event.get_or_none((Event.case_id == conflict.case_id) & (Event.seq == conflict.seq))


def _rewrite(conflict: Conflict, original: Event, resolution: str) -> None:
    """Put the station's copy (or the merge) in the original's place and apply it to the case or visit."""
    body = _decided_copy(conflict, original, resolution)
    if original.kind in rules_events.VISIT_KINDS:
        _refile_visit(original, body)
        return
    problem = _case_replacement_problem(original, body)
    if problem:
        raise ValidationError(f"不能这样处理：{problem}")
    _store(original, body)
    case = HubCase.get_or_none(HubCase.case_id == original.case_id)  # the place's case, never the copy's word
    if case is not None:
        updates = APPLY.get(body.get("kind"), apply_nothing)(case, body, utcnow())
        if updates and original.seq < case.last_seq:
            updates.update(_replayed(case))
        if updates:
            held_now = tally.current([case.id])[case.id]
            HubCase.update(**updates).where(HubCase.id == case.id).execute()
            tally.record(held_now, **updates)


#: What a case's events make of it, read again from them all when an earlier event is replaced.
REPLAYED = ("snapshot", "deferred_total", "deferred_on_time", "deferred_late")


def _replayed(case: HubCase) -> dict[str, Any]:
    """The case's snapshot and 容缺 figures as its stored events now make them, replayed in order.

    The copy taken in an earlier event's place was applied on top of the later ones: the case went
    back to that event's view — a material brought since read as still owed in the statistics, a
    later materials list or handover record gone. The replay only rebuilds what the events write
    into the case (nothing else is written again: links, ratings and batches were stored once
    already); the county's decisions (status, 已补正待审) stay as they are.
    """
    view = new_case(case.case_id, case.station_id, utcnow())
    for event in Event.select().where(Event.case_id == case.case_id).order_by(Event.seq):
        body = personal.open_body(event.body)
        for name, value in APPLY.get(body.get("kind"), apply_nothing)(view, body, utcnow(), []).items():
            setattr(view, name, value)
        view.last_seq = event.seq
    return {name: getattr(view, name) for name in REPLAYED}


def _case_replacement_problem(place: Event, body: Any) -> str | None:
    """Why ``body`` cannot take the place of a case's stored event ``place``, in Chinese (None: it can).

    The station's copy clashed before its body was checked, and it names its own case: taken as it
    is, a copy naming another case would have been applied to that case, and a malformed one stored.
    """
    kind = body.get("kind") if isinstance(body, dict) else None
    if kind not in rules_events.KINDS or kind in rules_events.VISIT_KINDS:
        return "该份记录不是办件事件，不能放入办件记录。"
    if body.get("case_id") != place.case_id or body.get("seq") != place.seq:
        return "两份记录不属于同一办件的同一条事件，不能互相替换；请保留县级记录并与站点核实。"
    return rules_events.body_problem(kind, body.get("payload"))


def _decided_copy(conflict: Conflict, original: Event, resolution: str) -> dict[str, Any]:
    """The event the county decided on: the station's copy, or the county's with what only the station's had."""
    station_copy: dict[str, Any] = dict(personal.open_body(conflict.body))  # both stored sealed
    county_copy: dict[str, Any] = dict(personal.open_body(original.body))
    if resolution == protocol.RESOLVE_MERGE:
        # the county's copy wins where both say something; what only the station's had is added
        payload = {**(station_copy.get("payload") or {}), **(county_copy.get("payload") or {})}
        return {**county_copy, "payload": payload}
    return {**station_copy, "event_id": original.event_id}  # the place keeps its id: the station's own is settled


def _store(original: Event, body: dict[str, Any]) -> None:
    (Event.update(body=personal.seal_body(body), digest=protocol.event_digest(body),
                  kind=body.get("kind") or original.kind)
     .where(Event.id == original.id).execute())


def _refile_visit(original: Event, body: dict[str, Any]) -> None:
    """A home visit's event replaced: the county's visit record filed again as accepting it would have.

    Refused (nothing changed) when the hub would not have accepted that copy in this place. A visit
    cleared by retention stays cleared: the copy is stored with its resident cleared, whatever was
    read before the visit was locked (a purge may have cleared it meanwhile).
    """
    visit = home_visits.held(original.case_id)
    problem = home_visits.replacement_problem(original, body, visit)
    if problem:
        raise ValidationError(f"不能这样处理：{problem}")
    if visit is not None and visit.personal_purged_at is not None:
        body = retention.scrub_visit_event(body)
    _store(original, body)
    if visit is not None:
        stream = Event.select(Event.body).where(Event.case_id == original.case_id).order_by(Event.seq)
        home_visits.refile(visit, [personal.open_body(e.body) for e in stream])
