"""`python -m station package`: a USB-stick installer that installs and starts a station without internet.

The build downloads each platform's wheels once into a cache (STATION_WHEEL_CACHE, default
~/.cache/bianmin-station/wheels); later runs build from the cache alone.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from station.packaging.build import SOURCE_ROOT, build_package
from station.packaging.wheelhouse import PLATFORMS, Requirement, missing_wheels, read_requirements

pytestmark = pytest.mark.slow
CACHE = Path(os.environ.get("STATION_WHEEL_CACHE", Path.home() / ".cache" / "bianmin-station" / "wheels"))
STATION_REQUIREMENTS = read_requirements(SOURCE_ROOT / "requirements-station.txt")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("usb") / "station-installer"
    build_package(out, cache=CACHE)
    return out


def test_the_station_needs_no_postgresql_driver():
    names = {r.name for r in STATION_REQUIREMENTS}
    assert not any(name.startswith("psycopg") for name in names)
    everything = (SOURCE_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "-r requirements-station.txt" in everything and "psycopg2-binary==" in everything


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platform_has_a_wheel_for_every_station_requirement(package: Path, platform: str):
    wheels = package / "wheels"
    assert missing_wheels(wheels, STATION_REQUIREMENTS, PLATFORMS[platform], "3.11") == []
    assert not list(wheels.glob("psycopg*")), "the hub's PostgreSQL driver has no place on a station"
    assert list(wheels.glob("bianmin_station-*.whl"))


def test_a_platform_without_a_wheel_is_reported(tmp_path: Path):
    (tmp_path / "flask-3.1.3-py3-none-any.whl").touch()
    (tmp_path / "markupsafe-3.0.4-cp311-cp311-win_amd64.whl").touch()
    reqs = [Requirement("flask", "3.1.3", "Flask==3.1.3"), Requirement("markupsafe", "3.0.4", "MarkupSafe==3.0.4")]
    assert missing_wheels(tmp_path, reqs, PLATFORMS["windows-x64"], "3.11") == []
    assert missing_wheels(tmp_path, reqs, PLATFORMS["linux-aarch64"], "3.11") == ["MarkupSafe==3.0.4"]
    assert missing_wheels(tmp_path, reqs, PLATFORMS["windows-x64"], "3.12") == ["MarkupSafe==3.0.4"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, deadline: float) -> tuple[int, str]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                return answer.status, answer.read().decode("utf-8")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_installed_from_the_wheelhouse_alone_the_station_starts_and_shows_its_login_page(package: Path,
                                                                                          tmp_path: Path):
    home, station_home, port = tmp_path / "home", tmp_path / "station", _free_port()
    home.mkdir()
    # the wheelhouse alone: no index, and none of this machine's pip settings (find-links, mirrors)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "STATION_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, STATION_HOME=str(station_home), STATION_PORT=str(port),
               STATION_NEW_PASSWORD="admin-pass-123", PYTHON=str(Path(sys.base_prefix) / "bin" / "python3.11"))
    installed = subprocess.run(["sh", str(package / "install.sh")], env=env, capture_output=True, text=True,
                               cwd=tmp_path, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert "安装完成" in installed.stdout
    venv_python = station_home / "venv" / "bin" / "python"
    probe = subprocess.run([str(venv_python), "-c", "import importlib.util as u; print(u.find_spec('psycopg2'))"],
                           capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == "None"
    autostart = home / ".config" / "systemd" / "user" / "bianmin-station.service"
    assert f"ExecStart={station_home}/start.sh" in autostart.read_text(encoding="utf-8")

    server = subprocess.Popen(["sh", str(station_home / "start.sh")], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        status, page = _get(f"http://127.0.0.1:{port}/login", time.monotonic() + 60)
        assert status == 200 and "登录" in page and 'name="password"' in page
        stylesheet = re.search(r'rel="stylesheet" href="([^"]+)"', page)
        assert stylesheet and _get(f"http://127.0.0.1:{port}{stylesheet[1]}", time.monotonic() + 10)[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
