"""Whether this PC keeps China's time zone: the station dates everything by its own wall clock.

Cases, deadlines, ledgers and 容缺 dates take "today" from the PC (the time printed on paper). A PC set
to another zone (a 信创 Linux installed with UTC, a laptop brought from elsewhere) dates a case taken at
07:30 in Beijing as yesterday's, and the county, which splits days at China's midnight, counts it on
another day. The sync page says so, so the admin can set the zone once.
"""

from __future__ import annotations

import datetime as dt

CHINA_OFFSET = dt.timedelta(hours=8)


def zone_problem(now: dt.datetime | None = None) -> str:
    """A Chinese sentence when this PC's zone is not UTC+8, else ""."""
    offset = (now or dt.datetime.now().astimezone()).utcoffset() or dt.timedelta()
    if offset == CHINA_OFFSET:
        return ""
    hours = offset.total_seconds() / 3600
    return (f"本机时区为 UTC{hours:+g}，不是北京时间（UTC+8）：办件日期、期限和台账按本机日期计算，"
            "会与县级平台差一天。请在系统设置中把时区设为“(UTC+08:00) 北京”。")
