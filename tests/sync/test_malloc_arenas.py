"""The servers' threads share two glibc malloc arenas instead of one each (station and hub memory)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_THREADS = """
import ctypes, threading, sys
sys.path.insert(0, {root!r})
from sync.malloc_arenas import limit_malloc_arenas
if {limit}:
    assert limit_malloc_arenas()
together = threading.Barrier(8)
def work():
    kept = [bytearray(200_000) for _ in range(20)]  # past pymalloc: malloc's own arenas
    together.wait()  # all alive at once, as waitress's threads are
    del kept
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(limit: bool) -> int:
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", _THREADS.format(root=root, limit=limit)],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas: Linux only")
def test_threads_share_two_malloc_arenas():
    assert _arenas(limit=False) > 2  # glibc's default: an arena per thread, up to eight per core
    assert _arenas(limit=True) <= 2

