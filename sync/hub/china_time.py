"""China time for the county's pages: hub rows are naive UTC, station times arrive as ISO text with an offset."""

from __future__ import annotations

import datetime as dt
from typing import Any

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
CHINA_OFFSET = dt.timedelta(hours=8)


def to_china(value: Any) -> dt.datetime | None:
    """An aware datetime in China time, or None for nothing or text that is not a time."""
    if not value:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA_TZ)


def china_naive(value: Any) -> dt.datetime | None:
    """China time without a zone, as the county's statistics columns hold it (days split at midnight in China)."""
    china = to_china(value)
    return china.replace(tzinfo=None) if china is not None else None


def china_today() -> dt.date:
    """Today's date in China (the county's working day), whatever the server's zone."""
    return dt.datetime.now(CHINA_TZ).date()
