"""Statistics for a period at the station: what the township is assessed on.

Counts come from GROUP BY queries over the cases received in the period; the four lines need the
working-day calendar and the county's assessed limits, so they are measured case by case
(a station's month is a few thousand cases at most).
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
from station.services import areas, time_lines
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
    stats = Statistics(period, total, [
        _counted("item", "按事项", list(by_item)),
        _counted("village", "按村（社区）", by_village),
        _counted("agent", "按代办员", list(by_agent)),
        _counted("status", "按状态", by_status),
        _counted("mode", "按办理方式", by_mode),
        _counted("decision", "按收件结果", [(DECISION_CLASSES[k], n) for k, n in decisions.items()]),
    ])
    stats.on_time = _on_time(where, today)
    stats.deferred = _deferred(where, today)
    stats.trend = _trend(min(period.end, today))
    start, stop = period.bounds()
    stats.satisfaction = satisfaction(
        Evaluation.select(Evaluation.level, Evaluation.reason_tag, fn.COUNT(Evaluation.id))
        .where((Evaluation.created_at >= start) & (Evaluation.created_at < stop))
        .group_by(Evaluation.level, Evaluation.reason_tag).tuples())
    return stats


def _on_time(where, today: dt.date) -> list[OnTime]:  # noqa: ANN001
    calendar, assessed = load_calendar(), time_lines.assessed_days()
    tally = {line: Counter() for line in LINES}
    query = Case.select(Case, ServiceItem).join(ServiceItem).where(where & (Case.status != "not_collected"))
    for case in query:
        lines = time_lines.lines_of(case, today, calendar, assessed)
        for line, state in lines.state.items():
            tally[line][state] += 1
    return [OnTime(line, title, tally[line]["on_time"], tally[line]["late"], tally[line]["overdue"])
            for line, title in LINES.items()]


def _deferred(where, today: dt.date) -> Deferred:  # noqa: ANN001
    rows = list(CaseMaterial.select(CaseMaterial.due_date, CaseMaterial.received_at, CaseMaterial.status).join(Case)
            .where(where & CaseMaterial.due_date.is_null(False) & (Case.decision == "deferred")).tuples())
    counted: Counter = Counter()
    for due, received, status in rows:
        outcome = deferred_outcome(status, received.date() if received is not None else None, due)
        counted[outcome] += 1
        counted["overdue"] += outcome == "outstanding" and today > due
    return Deferred(len(rows), counted["on_time"], counted["late"], counted["outstanding"], counted["overdue"])


def _trend(end: dt.date) -> list[tuple[dt.date, int, int]]:
    days = trend_days(end)
    start, stop = dt.datetime.combine(days[0], dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    received = _by_day(Case.select(fn.DATE(Case.received_at), fn.COUNT(Case.id))
                    .where((Case.received_at >= start) & (Case.received_at < stop))
                    .group_by(fn.DATE(Case.received_at)).tuples())
    closed = _by_day(Case.select(fn.DATE(Case.closed_at), fn.COUNT(Case.id))
                  .where((Case.closed_at >= start) & (Case.closed_at < stop) & Case.status.in_(CLOSED))
                  .group_by(fn.DATE(Case.closed_at)).tuples())
    return [(d, received.get(d.isoformat(), 0), closed.get(d.isoformat(), 0)) for d in days]


def _by_day(query) -> dict[str, int]:  # noqa: ANN001
    """{YYYY-MM-DD: count}, whether the driver hands DATE() back as text or as a date."""
    return {str(day)[:10]: n for day, n in query}
