"""What must hold on a Windows station PC as on Linux: a GBK console, one station per instance folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from station.single_instance import AlreadyRunning, hold_instance_lock

ROOT = Path(__file__).resolve().parents[2]


def _station(*args: str, encoding: str = "gbk", timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION_")}
    env["PYTHONIOENCODING"] = encoding  # what a Chinese Windows console or a redirected log uses
    return subprocess.run([sys.executable, "-m", "station", *args], cwd=ROOT, env=env, capture_output=True,
                          timeout=timeout)


def test_commands_print_on_a_gbk_console_even_what_gbk_cannot_show(tmp_path: Path):
    instance = tmp_path / "吉𠮷村"  # a folder name with a character outside GBK
    done = _station("--instance", str(instance), "init", "--code", "ST141081102201")
    said = done.stdout.decode("gbk") + done.stderr.decode("gbk")
    assert done.returncode == 0, said
    assert "数据库已就绪" in said and "吉?村" in said and "UnicodeEncodeError" not in said


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_station_on_the_same_instance_folder_is_refused(tmp_path: Path):
    assert _station("--instance", str(tmp_path), "init").returncode == 0  # `run` refuses a folder without a station
    first = hold_instance_lock(tmp_path)
    try:
        with pytest.raises(AlreadyRunning):
            hold_instance_lock(tmp_path)
        # a second `run` (start.bat double-clicked while the logon task runs) says so and stops
        done = _station("--instance", str(tmp_path), "run", "--port", str(_free_port()), timeout=90)
        assert done.returncode == 1
        assert "本站已在运行" in done.stderr.decode("gbk")
    finally:
        first.close()
    hold_instance_lock(tmp_path).close()  # released with its holder: the next start works
