"""What a hub process keeps in memory for a few seconds, per database: one mechanism for every such read.

A county's screens and every received batch ask some questions far more often than the answers
change (the county's settings, the catalog head, the statistics page, the dashboard's sums). Each
is kept for its own number of seconds, keyed by the database as well (one process may serve several
hubs: the tests, the demo), and never for more than ``most`` keys. Nothing here is needed for
correctness across nodes: what is kept is either re-read in seconds or checked afresh where it
matters (see each caller).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sync.hub.extensions import db

V = TypeVar("V")


def database_key() -> str:
    """Which database the hub at hand uses, so a figure kept in memory is never served to another hub.

    Every batch asks (the catalog head, the county's settings): the text is worked out once per
    database object, and again only when it is pointed elsewhere (``init`` replaces both).
    """
    obj = db.obj
    params = getattr(obj, "connect_params", None)
    known = _KEYS.get(obj)
    if known is not None and known[0] == obj.database and known[1] is params:
        return known[2]
    key = f"{obj.database}|{sorted((k, str(v)) for k, v in (params or {}).items() if k != 'password')}"
    _KEYS[obj] = (obj.database, params, key)
    return key


#: Per database object, held weakly: the tests and the demo make many, and a key must not keep one alive.
_KEYS: weakref.WeakKeyDictionary[object, tuple[object, object, str]] = weakref.WeakKeyDictionary()


class Kept(Generic[V]):
    """Answers kept ``seconds`` per (database, key); at most ``most`` keys, the oldest going first."""

    def __init__(self, seconds: float, most: int = 64) -> None:
        self.seconds = seconds
        self.most = most
        self._kept: dict[tuple[str, Hashable], tuple[float, V]] = {}

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The answer kept for ``key`` if younger than ``seconds``, else ``load()``'s, kept from now."""
        slot = (database_key(), key)
        hit = self._kept.get(slot)
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        value = load()
        self._kept[slot] = (time.monotonic(), value)
        while len(self._kept) > self.most:
            self._kept.pop(min(self._kept, key=lambda k: self._kept[k][0]), None)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        """Forget ``key`` in this database (it just changed here), or everything."""
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop((database_key(), key), None)
