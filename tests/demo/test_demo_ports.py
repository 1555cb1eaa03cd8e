"""The README's demo command on a PC where a port it wants is taken: told in Chinese, at once."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from demo.station_and_hub import run_demo


def test_a_taken_port_is_said_before_anything_is_prepared(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as busy, socket.socket() as free:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        free.bind(("127.0.0.1", 0))
        free_port = free.getsockname()[1]
        free.close()
        taken = busy.getsockname()[1]
        assert run_demo(str(tmp_path / "demo"), "127.0.0.1", free_port, taken) == 2
    said = capsys.readouterr().err
    assert f"端口 {taken} 已被其他程序占用" in said and f"--hub-port {taken + 1}" in said
    assert not (tmp_path / "demo").exists()  # nothing prepared, nothing to clean up
