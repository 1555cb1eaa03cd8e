"""The shape of a statistics page, shared by the station and the county: counted tables, on-time
rates per line, 容缺 materials brought on time, a 30-day trend — plain data a chart and a table
beneath it are both drawn from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rules.evaluations import BAD_LEVELS, LEVELS, REASON_TAGS
from rules.labels import NOT_HANDED_IN
from rules.periods import Period

#: The intake decision as the statistics count it (a case counts once, first match wins):
#: 一次性告知 (not collected), 容缺 (a material deferred), 承诺 (a material replaced by a signed
#: commitment), else 收件 (every material handed in).
DECISION_CLASSES: Mapping[str, str] = {"not_collected": "一次性告知", "deferred": "容缺", "commitment": "承诺",
                                       "collected": "收件"}


def decision_class(decision: str | None, commitment: bool) -> str:
    """The DECISION_CLASSES key of one case: its intake decision and whether a material was promised."""
    if decision == "not_collected":
        return "not_collected"
    if decision == "deferred":
        return "deferred"
    return "commitment" if commitment else "collected"


def deferred_outcome(status: str | None, brought_on: str | dt.date | None, due: str | dt.date) -> str:
    """How one 容缺 material stands — ``on_time``, ``late`` or ``outstanding`` — at the station and the county alike.

    Brought means handed in: a material still deferred, or whose promise the agent recorded as unkept
    (逾期未补), was never brought and stays outstanding — counted as 逾期补交 it sent the station head
    looking for a material nobody brought. Dates compare as days (``YYYY-MM-DD`` text or dates).
    """
    if status == "deferred" or status in NOT_HANDED_IN:
        return "outstanding"
    brought = str(brought_on or "")[:10]
    return "on_time" if brought and brought <= str(due)[:10] else "late"


@dataclass(frozen=True)
class Counted:
    """One table: a title, and (label, count) rows, largest first."""

    key: str
    title: str
    rows: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(n for _label, n in self.rows)


@dataclass(frozen=True)
class OnTime:
    """Closed cases against one line: on time, late; open cases already past it."""

    line: str
    title: str
    on_time: int
    late: int
    open_overdue: int

    @property
    def rate(self) -> float | None:
        """Share of closed cases closed on time (None when none closed)."""
        closed = self.on_time + self.late
        return self.on_time / closed if closed else None


@dataclass(frozen=True)
class Deferred:
    """容缺 materials of the period's cases: brought on time, brought late, still outstanding (and of those, overdue)."""

    total: int
    on_time: int
    late: int
    outstanding: int
    outstanding_overdue: int | None  # None where it is not known (the county keeps no per-material dates)

    @property
    def rate(self) -> float | None:
        brought = self.on_time + self.late
        return self.on_time / brought if brought else None


@dataclass(frozen=True)
class Satisfaction:
    """好差评 given in the period: how many, by level, and the reasons the 差评 gave.

    好评 are the three better levels (非常满意, 满意, 基本满意), 差评 the last two, as the national
    好差评 system counts them; the satisfaction rate is 好评 over all ratings (首次 and 追评 alike).
    """

    total: int
    good: int
    levels: list[tuple[str, int]]  # every level, best first
    bad_reasons: list[tuple[str, int]]  # the reason a 差评 chose, most first

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def rate(self) -> float | None:
        return self.good / self.total if self.total else None


NO_REASON = "未选原因"


def satisfaction(counted: Iterable[tuple[str, str, int]]) -> Satisfaction:
    """The figures from (level, reason tag, ratings) counted by a GROUP BY on either side."""
    levels: dict[str, int] = dict.fromkeys(LEVELS, 0)
    reasons: dict[str, int] = {}
    for level, tag, n in counted:
        levels[level] = levels.get(level, 0) + int(n)
        if level in BAD_LEVELS:
            word = REASON_TAGS[level].get(tag or "", tag or NO_REASON)
            reasons[word] = reasons.get(word, 0) + int(n)
    total = sum(levels.values())
    good = sum(n for level, n in levels.items() if level in LEVELS and level not in BAD_LEVELS)
    return Satisfaction(total, good, [(LEVELS.get(level, level), n) for level, n in levels.items()],
                        sorted(reasons.items(), key=lambda p: (-p[1], p[0])))


@dataclass
class Statistics:
    period: Period
    total: int
    tables: list[Counted] = field(default_factory=list)
    on_time: list[OnTime] = field(default_factory=list)
    deferred: Deferred | None = None
    trend: list[tuple[dt.date, int, int]] = field(default_factory=list)  # day, received, closed
    ranking: list[tuple[str, int, int, float | None]] = field(default_factory=list)  # station, cases, overdue, rate
    satisfaction: Satisfaction | None = None  # ratings given in the period (by when the resident rated)
    counted_at: dt.datetime | None = None  # when the figures were counted (the county keeps them a short while)

    def table(self, key: str) -> Counted:
        return next(t for t in self.tables if t.key == key)


def trend_days(end: dt.date, days: int = 30) -> list[dt.date]:
    """The `days` days ending on `end`, oldest first."""
    return [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"
