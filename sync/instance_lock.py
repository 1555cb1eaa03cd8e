"""A lock on a file in an instance folder, released by the operating system when the process ends.

The station serves one instance folder from one process only (station/single_instance.py); the
hub's workers, several per node, share theirs and a key rotation must run alone (sync/hub/cli.py).
``fcntl.flock`` elsewhere, ``msvcrt.locking`` on Windows: both are dropped when the process ends,
even when it is killed, so no stale lock outlives a crash and nobody has to delete a file by hand.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO


class LockHeld(Exception):
    """Another process holds the lock in a way this one cannot share."""


def hold_lock(path: str | os.PathLike[str], shared: bool = False) -> IO[bytes] | None:
    """Take the lock on ``path`` for as long as the returned file stays open; raise :class:`LockHeld`.

    ``shared``: many holders at once (the hub's workers), none while an exclusive holder has it.
    Windows has no shared file lock; there a shared lock is not taken (returns None) and only
    exclusive holders see each other.
    """
    if shared and sys.platform.startswith("win"):
        return None
    handle = open(Path(path), "a+b")  # noqa: SIM115 - held open until the process ends
    try:
        if sys.platform.startswith("win"):
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise LockHeld(str(path)) from None
    return handle
