"""One serving station per instance folder, on Windows as on Linux.

Task Scheduler starts the station at logon and an operator may double-click start.bat as well.
On Windows waitress's SO_REUSEADDR lets the second process bind the same port without an error,
so two stations would serve one database and run two sync schedulers. A lock on a file in the
instance folder — ``msvcrt.locking`` on Windows, ``fcntl.flock`` elsewhere, both released by the
operating system when the process ends, even when it is killed — lets only the first one start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

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
    path = Path(folder) / LOCK_NAME
    handle = open(path, "a+b")  # noqa: SIM115 - held open until the process ends
    try:
        if sys.platform.startswith("win"):
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise AlreadyRunning(str(folder)) from None
    return handle
