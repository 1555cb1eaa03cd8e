"""A per-address rate limit for pages anyone may open (the resident's progress page on both apps).

Counted in the app's database, in the ``LoginThrottle``-shaped table the login guard uses (keys
prefixed ``public:``), so every worker of the hub shares one count and no migration is needed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from peewee import Model

from websec.logins import count_in_window, utcnow

MESSAGE = "查询过于频繁，请约 {minutes} 分钟后再试。如需帮助，请联系服务站。"


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` lookups per ``window`` from one client address, counted in ``model``.

    ``model`` has ``key`` (unique), ``failures`` (the count), ``window_started_at`` and
    ``locked_until`` — the login throttle's table. Every lookup counts, found or not, so guessing
    codes costs the same as reading one's own.
    """

    model: type[Model]
    limit: int = 30
    window: dt.timedelta = dt.timedelta(minutes=10)
    prefix: str = "public:"

    def key(self, address: str | None) -> str:
        return self.prefix + (address or "unknown")[:100]

    def hit(self, address: str | None, now: dt.datetime | None = None) -> str | None:
        """Count one lookup; a Chinese refusal when this address is over its limit, else None."""
        now = now or utcnow()
        # locked_until keeps the login guard's pruning off a row still counting
        _row_id, start, count = count_in_window(self.model, self.key(address), self.window, now,
                                                locked_until=now + self.window)
        if count > self.limit:
            left = (start + self.window - now).total_seconds()
            return MESSAGE.format(minutes=max(1, math.ceil(left / 60)))
        return None
