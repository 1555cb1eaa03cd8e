"""One serving station per instance folder, on Windows as on Linux.

Task Scheduler starts the station at logon and an operator may double-click start.bat as well.
On Windows waitress's SO_REUSEADDR lets the second process bind the same port without an error,
so two stations would serve one database and run two sync schedulers. A lock on a file in the
instance folder (sync/instance_lock.py), released by the operating system when the process ends,
even when it is killed, lets only the first one start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from sync.instance_lock import LockHeld, hold_lock

LOCK_NAME = "station.lock"


class AlreadyRunning(Exception):
    """Another process serves this instance folder; ``message`` is for the operator, in Chinese."""

    def __init__(self, folder: str) -> None:
        self.message = (f"本站已在运行（{folder}）：请直接用浏览器打开，不要重复启动。"
                        "如果确实没有在运行，请重启电脑后再试。")
        super().__init__(self.message)


def hold_instance_lock(folder: str | os.PathLike[str]) -> IO[bytes]:
    """Take this instance folder's lock for the life of the process; return the open file to keep.

    Raises :class:`AlreadyRunning` when another process holds it.
    """
    try:
        handle = hold_lock(Path(folder) / LOCK_NAME)
    except LockHeld:
        raise AlreadyRunning(str(folder)) from None
    assert handle is not None  # an exclusive lock is always taken
    return handle
