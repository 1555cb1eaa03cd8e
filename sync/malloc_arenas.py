"""Fewer glibc malloc arenas for the long-running servers (station and hub) on Linux.

glibc gives each new thread its own malloc arena, up to eight per core, and memory freed in one
arena is not handed back to the system while a neighbour in it is alive. Under waitress's
threads that left a station at ~134 MB after a dozen receipts where two arenas held ~119 MB, and
a hub of 24 threads grows the same way (docs/benchmarks.md, session 8). Python's own allocator
takes small objects from its arenas anyway; with the GIL, threads seldom contend for malloc's
lock, so two arenas cost no measurable time. Windows and macOS allocate otherwise: nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def limit_malloc_arenas(most: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads started from now on; True when the cap was set.

    An operator's own ``MALLOC_ARENA_MAX`` wins (glibc read it at start); outside glibc this
    does nothing.
    """
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, most))
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
