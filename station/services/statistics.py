"""Statistics for a period at the station: what the township is assessed on.

Counts come from GROUP BY queries over the cases received in the period; the four lines need the
working-day calendar and the county's assessed limits, so they are measured case by case
(a station's month is a few thousand cases at most). The station's cases taken on its other
devices (a laptop on a home visit), held here as read-only copies, are counted with them — by item,
village, agent, status, mode, intake decision, 容缺 materials and the trend's "received" —
as the county counts them for the station; the four lines, the trend's "closed" and the ratings are
this device's own cases only (a copy carries neither the day the county closed it nor the ratings
given on the other device).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from peewee import fn

from rules.labels import CASE_STATUSES, MODES
from rules.periods import Period
from rules.statistics import (
    DECISION_CLASSES,
    Counted,
    Deferred,
    OnTime,
    Statistics,
    decision_class,
    deferred_outcome,
    satisfaction,
    trend_days,
)
from rules.time_lines import LINES
from station.models import Case, CaseMaterial, Evaluation, ServiceItem, User
from station.services import areas, shared_cases, time_lines
from station.services.calendar import load_calendar

CLOSED = ("completed", "rejected", "delivered")


def _in(period: Period):  # noqa: ANN202 - a peewee expression
    start, stop = period.bounds()
    return (Case.received_at >= start) & (Case.received_at < stop)


def _counted(key: str, title: str, pairs: list[tuple[str, int]]) -> Counted:
    merged: Counter = Counter()
    for label, n in pairs:
        merged[label] += n
    return Counted(key, title, sorted(merged.items(), key=lambda p: (-p[1], p[0])))


def compute(period: Period, today: dt.date) -> Statistics:
    """Every figure of the statistics page for cases received in `period`."""
    where = _in(period)
    total = Case.select().where(where).count()
    by_item = (Case.select(ServiceItem.name, fn.COUNT(Case.id)).join(ServiceItem).where(where)
               .group_by(ServiceItem.name).tuples())
    names = areas.names()
    by_village = [(areas.name_of(code, names), n) for code, n in
                  Case.select(Case.applicant_area_code, fn.COUNT(Case.id)).where(where)
                  .group_by(Case.applicant_area_code).tuples()]
    by_agent = (Case.select(User.name, fn.COUNT(Case.id)).join(User).where(where).group_by(User.id, User.name)
                .tuples())
    by_status = [(CASE_STATUSES.get(s, s), n) for s, n in
                 Case.select(Case.status, fn.COUNT(Case.id)).where(where).group_by(Case.status).tuples()]
    by_mode = [(MODES.get(m, m), n) for m, n in
               Case.select(Case.mode, fn.COUNT(Case.id)).where(where).group_by(Case.mode).tuples()]
    promised = {cid for (cid,) in CaseMaterial.select(CaseMaterial.case).join(Case)
                .where(where & (CaseMaterial.status == "commitment")).distinct().tuples()}
    decisions = Counter(decision_class(d, cid in promised)
                        for cid, d in Case.select(Case.id, Case.decision).where(where).tuples())
    copies = shared_cases.received_between(*period.bounds())
    theirs = _copies_counted(copies, names)
    stats = Statistics(period, total + len(copies), [
        _counted("item", "按事项", [*by_item, *theirs["item"]]),
        _counted("village", "按村（社区）", [*by_village, *theirs["village"]]),
        _counted("agent", "按代办员", [*by_agent, *theirs["agent"]]),
        _counted("status", "按状态", [*by_status, *theirs["status"]]),
        _counted("mode", "按办理方式", [*by_mode, *theirs["mode"]]),
        _counted("decision", "按收件结果", [(DECISION_CLASSES[k], n) for k, n in decisions.items()]
                 + theirs["decision"]),
    ])
    stats.on_time = _on_time(where, today)
    stats.deferred = _deferred(where, today, copies)
    stats.trend = _trend(min(period.end, today))
    start, stop = period.bounds()
    stats.satisfaction = satisfaction(
        Evaluation.select(Evaluation.level, Evaluation.reason_tag, fn.COUNT(Evaluation.id))
        .where((Evaluation.created_at >= start) & (Evaluation.created_at < stop))
        .group_by(Evaluation.level, Evaluation.reason_tag).tuples())
    return stats


def _copies_counted(copies: list[shared_cases.Received], names: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    """What the other devices' cases add to each table, read from their copies (states in the station's words)."""
    out: dict[str, list[tuple[str, int]]] = {key: [] for key in ("item", "village", "agent", "status", "mode",
                                                                 "decision")}
    for received in copies:
        snapshot, copy = received.snapshot, received.copy
        applicant = snapshot.get("applicant") if isinstance(snapshot.get("applicant"), dict) else {}
        agent = snapshot.get("agent") if isinstance(snapshot.get("agent"), dict) else {}
        promised = any(isinstance(m, dict) and m.get("status") == "commitment" for m in snapshot.get("materials") or [])
        mode = str(snapshot.get("mode") or "")
        out["item"].append((copy.item_name or str(snapshot.get("item_name") or "—"), 1))
        out["village"].append((areas.name_of(str(applicant.get("area_code") or ""), names), 1))
        out["agent"].append((str(agent.get("name") or "—"), 1))
        out["status"].append((CASE_STATUSES.get(received.status, received.status), 1))
        out["mode"].append((MODES.get(mode, mode or "—"), 1))
        out["decision"].append((DECISION_CLASSES[decision_class(snapshot.get("decision"), promised)], 1))
    return out


def _on_time(where, today: dt.date) -> list[OnTime]:  # noqa: ANN001
    calendar, assessed = load_calendar(), time_lines.assessed_days()
    tally = {line: Counter() for line in LINES}
    query = Case.select(Case, ServiceItem).join(ServiceItem).where(where & Case.status.not_in(time_lines.NO_CLOCK))
    for case in query:
        lines = time_lines.lines_of(case, today, calendar, assessed)
        for line, state in lines.state.items():
            tally[line][state] += 1
    return [OnTime(line, title, tally[line]["on_time"], tally[line]["late"], tally[line]["overdue"])
            for line, title in LINES.items()]


def _deferred(where, today: dt.date, copies: list[shared_cases.Received]) -> Deferred:  # noqa: ANN001
    rows = [(due, received.date() if received is not None else None, status) for due, received, status in
            CaseMaterial.select(CaseMaterial.due_date, CaseMaterial.received_at, CaseMaterial.status).join(Case)
            .where(where & CaseMaterial.due_date.is_null(False) & (Case.decision == "deferred")).tuples()]
    for copy in copies:  # the other devices' 容缺 materials, as their latest list stands
        if copy.snapshot.get("decision") != "deferred":
            continue
        for m in copy.snapshot.get("materials") or []:
            due = _date(m.get("due_date")) if isinstance(m, dict) else None
            if due is not None:
                rows.append((due, str(m.get("received_at") or "")[:10] or None, str(m.get("status") or "")))
    counted: Counter = Counter()
    for due, received, status in rows:
        outcome = deferred_outcome(status, received, due)
        counted[outcome] += 1
        counted["overdue"] += outcome == "outstanding" and today > due
    return Deferred(len(rows), counted["on_time"], counted["late"], counted["outstanding"], counted["overdue"])


def _trend(end: dt.date) -> list[tuple[dt.date, int, int]]:
    days = trend_days(end)
    start, stop = dt.datetime.combine(days[0], dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    received = Counter(_by_day(Case.select(fn.DATE(Case.received_at), fn.COUNT(Case.id))
                               .where((Case.received_at >= start) & (Case.received_at < stop))
                               .group_by(fn.DATE(Case.received_at)).tuples()))
    received.update(copy.received_at.date().isoformat() for copy in shared_cases.received_between(start, stop))
    closed = _by_day(Case.select(fn.DATE(Case.closed_at), fn.COUNT(Case.id))
                  .where((Case.closed_at >= start) & (Case.closed_at < stop) & Case.status.in_(CLOSED))
                  .group_by(fn.DATE(Case.closed_at)).tuples())
    return [(d, received.get(d.isoformat(), 0), closed.get(d.isoformat(), 0)) for d in days]


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


def _by_day(query) -> dict[str, int]:  # noqa: ANN001
    """{YYYY-MM-DD: count}, whether the driver hands DATE() back as text or as a date."""
    return {str(day)[:10]: n for day, n in query}
