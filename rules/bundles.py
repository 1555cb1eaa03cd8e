"""一件事一次办 as one thing (issue 19 item 6): the bundle's state, the same on screen, paper and hub.

A bundle is as far along as its slowest item: a resident told "已办结" while her 户口登记 still
waits for a 补正 would come back for nothing. The order below is the way a case moves, from
turned away at the station to handed over; a status this table does not know (a newer hub's)
counts as least advanced, so it is shown rather than hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Case statuses (the station's and the county's) from least to most advanced.
PROGRESS: tuple[str, ...] = (
    "not_collected",  # turned away at the station: nothing of it is under way
    "deferred",  # waiting on a 容缺 material from the resident
    "supplement",  # waiting on a 补正 from the resident
    "collected",  # at the station, going up
    "submitted",  # at the county, not yet accepted
    "accepted",
    "withdrawn",  # final: the applicant withdrew it
    "rejected",  # final: refused
    "completed",
    "delivered",
)
_RANK = {status: n for n, status in enumerate(PROGRESS)}


def least_advanced(statuses: Iterable[str]) -> str:
    """The status of the member least far along (an unknown status first); "" for no members."""
    ordered = sorted(statuses, key=lambda s: _RANK.get(s, -1))
    return ordered[0] if ordered else ""
