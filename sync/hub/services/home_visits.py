"""Home visits (上门服务) at the county: filed from each station's visit events, listed per station.

A visit's events form a stream of their own (``case_id`` is the visit's id): ``visit.recorded``
first, then one ``visit.case_taken`` per case taken during the visit. The ingest path classifies
them with the same rules as a case's events (exactly once, in order) with the visit row in the
case's place, and calls :func:`problem` and :func:`apply` here. The resident's name, phone and
address are sealed; pages and ledgers show them masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import fn

from printouts.data import HomeVisitRow
from rules import events
from rules.home_visits import OUTCOMES
from rules.periods import Period
from rules.privacy import mask_address, mask_name, mask_numbers_in
from sync.hub.extensions import db, key_ring
from sync.hub.models import Event, HubHomeVisit, Station
from sync.hub.services import county_settings


def stream_of(visit_id: str) -> HubHomeVisit | None:
    """The visit a stream's events build (None before its ``visit.recorded``)."""
    return HubHomeVisit.get_or_none(HubHomeVisit.visit_id == visit_id)


def problem(visit: HubHomeVisit | None, event: dict[str, Any]) -> str | None:
    """Why an otherwise well-formed visit event cannot be filed, in Chinese (None: it can)."""
    if event["kind"] == events.VISIT_RECORDED and (visit is not None or event["seq"] != 1):
        return "上门服务记录只能作为该记录的第 1 条事件登记一次。"
    if event["kind"] == events.VISIT_CASE_TAKEN and visit is None:
        return "上门服务所收办件须在该上门服务记录之后报送。"
    return None


def apply(station: Station, visit: HubHomeVisit | None, event: dict[str, Any], now: dt.datetime) -> bool:
    """File an accepted event (after :func:`problem`); False when another worker got there first."""
    body = event["payload"]
    if event["kind"] == events.VISIT_RECORDED:
        HubHomeVisit.create(visit_id=event["case_id"], station=station, last_seq=event["seq"], received_at=now,
                            **_recorded(body))
        return True
    if visit is None:  # problem() refuses a case taken before its visit
        raise ValueError("visit.case_taken before visit.recorded")
    return (HubHomeVisit.update(last_seq=event["seq"], cases_taken=HubHomeVisit.cases_taken + 1,
                                case_numbers=_with_case(visit.case_numbers, body))
            .where((HubHomeVisit.id == visit.id) & (HubHomeVisit.last_seq == visit.last_seq)).execute()) == 1


def _recorded(body: dict[str, Any]) -> dict[str, Any]:
    """The columns a ``visit.recorded`` body files: what was done, when, by whom, for whom (sealed)."""
    resident = body["resident"]
    return {"visited_on": dt.date.fromisoformat(body["visited_on"]), "started_at": body["started_at"],
            "ended_at": body.get("ended_at") or "", "staff": body["staff"][:200],
            "village_code": body.get("village_code") or "",
            "resident_name_stored": key_ring.seal(resident["name"]),
            "resident_phone_stored": key_ring.seal(resident["phone"]) if resident.get("phone") else "",
            "address_stored": key_ring.seal(resident["address"]) if resident.get("address") else "",
            "purpose": key_ring.seal(body["purpose"]), "outcome": body["outcome"],
            "outcome_note": key_ring.seal(body["outcome_note"]) if body.get("outcome_note") else ""}


def opened(stored: str) -> str:
    """A visit's words (what was done, the outcome note) as the station sent them; sealed at rest as its station
    seals them (0032: a number typed into them is a resident's); a value stored before reads as it is."""
    return key_ring.unseal(stored) if key_ring.is_sealed(stored) else stored


_RESIDENT_COLUMNS = ("resident_name_stored", "resident_phone_stored", "address_stored")


def _with_case(numbers: str, body: dict[str, Any]) -> str:
    """The visit's case numbers with a ``visit.case_taken`` body's added, in the order taken."""
    return "、".join(n for n in (numbers, body["case_no"][:64]) if n)


def held(visit_id: str) -> HubHomeVisit | None:
    """The visit, locked until the transaction ends, so a purge cannot clear it between a read and a write.

    PostgreSQL: FOR UPDATE. SQLite: the hub's write transactions begin IMMEDIATE (see tally.current).
    """
    query = HubHomeVisit.select().where(HubHomeVisit.visit_id == visit_id)
    return (query.for_update() if db.for_update else query).first()


def replacement_problem(place: Event, body: Any, visit: HubHomeVisit | None) -> str | None:
    """Why ``body`` cannot take the place of ``visit``'s stored event ``place``, in Chinese (None: it can).

    The county settling a conflict puts one copy in the place of another: it must be a visit event of
    the same visit at the same position, and one the hub would have accepted there (:func:`problem`).
    """
    if not isinstance(body, dict) or body.get("kind") not in events.VISIT_KINDS:
        return "该份记录不是上门服务事件，不能放入上门服务记录。"
    if body.get("case_id") != place.case_id or body.get("seq") != place.seq:
        return "两份记录不属于同一上门服务记录的同一条事件，不能互相替换；请保留县级记录并与站点核实。"
    bad = events.body_problem(body["kind"], body.get("payload"))
    if bad:
        return bad
    return problem(None if place.seq == 1 else visit, body)  # the visit as it stood before this place


def refile(visit: HubHomeVisit, stream: list[dict[str, Any]]) -> None:
    """File a visit again from its events (bodies in ``seq`` order) after one of them was replaced.

    As accepting them in turn would have: ``visit.recorded`` sets the visit's columns and each
    ``visit.case_taken`` adds its case number. A visit cleared by retention keeps the resident the
    purge left (services/retention.py): a county decision does not bring the person back.
    """
    columns: dict[str, Any] = {"case_numbers": "", "cases_taken": 0}
    for event in stream:
        if event["kind"] == events.VISIT_RECORDED:
            columns.update(_recorded(event["payload"]))
        elif event["kind"] == events.VISIT_CASE_TAKEN:
            columns["case_numbers"] = _with_case(columns["case_numbers"], event["payload"])
            columns["cases_taken"] += 1
    if visit.personal_purged_at is not None:
        for name in _RESIDENT_COLUMNS:
            columns.pop(name, None)
    HubHomeVisit.update(**columns).where(HubHomeVisit.id == visit.id).execute()


def _in(period: Period, station: Station | None) -> Any:
    query = HubHomeVisit.select().where(HubHomeVisit.visited_on.between(period.start, period.end))
    return query.where(HubHomeVisit.station == station.id) if station is not None else query


@dataclass(frozen=True)
class StationVisits:
    """A station's visits in a period: how many, how many cases taken during them."""

    station: Station
    visits: int
    cases: int


def per_station(period: Period) -> list[StationVisits]:
    """Every station with visits in the period, most visits first."""
    counts = {row.station_id: (row.n, row.cases or 0) for row in
              _in(period, None).select(HubHomeVisit.station, fn.COUNT(HubHomeVisit.id).alias("n"),
                                       fn.SUM(HubHomeVisit.cases_taken).alias("cases")).group_by(HubHomeVisit.station)}
    stations = Station.select().where(Station.id.in_(list(counts))) if counts else []
    return sorted((StationVisits(s, *counts[s.id]) for s in stations), key=lambda r: (-r.visits, r.station.code))


def rows(period: Period, station: Station | None = None) -> list[HomeVisitRow]:
    """The period's visits for the county's ledger and page, oldest first; full names (the builders mask)."""
    names = county_settings.area_names()
    query = (_in(period, station).select(HubHomeVisit, Station).join(Station)
             .order_by(HubHomeVisit.visited_on, HubHomeVisit.started_at, HubHomeVisit.id))
    return [HomeVisitRow(
        time=v.started_at + (f"–{v.ended_at}" if v.ended_at else ""),
        staff=(v.staff if station is not None else f"{v.station.name}：{v.staff}"),
        resident_name=key_ring.unseal(v.resident_name_stored),
        address=key_ring.unseal(v.address_stored) if v.address_stored else "",
        purpose=opened(v.purpose), outcome=OUTCOMES.get(v.outcome, v.outcome),
        case_numbers=tuple(n for n in v.case_numbers.split("、") if n), visited_on=v.visited_on,
        village=names.get(v.village_code, v.village_code),
        resident_phone=key_ring.unseal(v.resident_phone_stored) if v.resident_phone_stored else "")
        for v in query]


@dataclass(frozen=True)
class VisitLine:
    """A visit as the county page lists it: masked."""

    station: str
    visited_on: dt.date
    time: str
    staff: str
    village: str
    resident: str
    address: str
    purpose: str
    outcome: str
    case_numbers: str
    purged: bool = False  # past retention: name and phone stored masked, no address (services/retention.py)


def lines(period: Period, station: Station | None = None, limit: int = 500) -> list[VisitLine]:
    """The period's visits for the page, newest first, masked."""
    names = county_settings.area_names()
    query = (_in(period, station).select(HubHomeVisit, Station).join(Station)
             .order_by(HubHomeVisit.visited_on.desc(), HubHomeVisit.started_at.desc()).limit(limit))
    return [VisitLine(v.station.name, v.visited_on, v.started_at + (f"–{v.ended_at}" if v.ended_at else ""), v.staff,
                      names.get(v.village_code, v.village_code), _resident(v),
                      mask_address(key_ring.unseal(v.address_stored)) if v.address_stored else "",
                      mask_numbers_in(opened(v.purpose)),
                      OUTCOMES.get(v.outcome, v.outcome), v.case_numbers, v.personal_purged_at is not None)
            for v in query]


def _resident(visit: HubHomeVisit) -> str:
    """The resident's name masked; a visit cleared by retention holds it masked already."""
    name = key_ring.unseal(visit.resident_name_stored)
    return name if visit.personal_purged_at is not None else mask_name(name)
