"""The wheelhouse a village PC installs from without internet: which platforms, and what each must hold.

A station PC is Windows x64 or a domestic Linux (统信 UOS, 银河麒麟) on x86_64 or ARM (aarch64).
``pip download --only-binary=:all:`` fetches, for each, a wheel of every pinned station
requirement; the compiled speed-ups the station can do without (``OPTIONAL_SPEEDUPS``) are
fetched one by one, so a platform without their wheel still gets a complete wheelhouse and the
station takes the pure-Python path there.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: CPython versions the station supports (pyproject ``requires-python``): one wheel set each.
PYTHON_VERSIONS = ("3.11",)
#: Compiled speed-ups with a pure-Python path: orjson (sync/protocol.py falls back to ``json``),
#: rl_accel (reportlab measures strings in Python without it).
OPTIONAL_SPEEDUPS = frozenset({"orjson", "rl-accel"})


@dataclass(frozen=True)
class Platform:
    """One kind of station PC: a folder-safe name and the wheel platform tags pip may take for it."""

    name: str
    label: str
    tags: tuple[str, ...]


#: manylinux_2_28 (glibc 2.28) is what UOS 20 and Kylin V10 ship; some wheels (pillow,
#: cryptography) exist only for it, others only for the older 2014 (glibc 2.17) tag.
PLATFORMS = {
    p.name: p for p in (
        Platform("windows-x64", "Windows x64", ("win_amd64",)),
        Platform("linux-x86_64", "Linux x86_64", ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
                                                  "manylinux2014_x86_64")),
        Platform("linux-aarch64", "Linux aarch64 (ARM)", ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64",
                                                          "manylinux2014_aarch64")),
    )
}


class WheelhouseError(Exception):
    """pip could not fetch a wheel a station cannot run without (message in Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Requirement:
    """A pinned ``name==version`` line of requirements-station.txt."""

    name: str  # normalised: lower case, runs of -_. as one -
    version: str
    line: str


def normalise(name: str) -> str:
    """PEP 503 name form, so ``Flask_Login`` in a file name matches ``Flask-Login`` in a pin."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[Requirement]:
    """The pinned lines of a requirements file (comments and blank lines skipped).

    Only exact pins are accepted: the wheelhouse must be reproducible.
    """
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise WheelhouseError(f"{path.name}：“{line}”没有固定版本（须写成 名称==版本）。")
        found.append(Requirement(normalise(name.strip()), version.strip(), line))
    return found


def platform_flags(platform: Platform, python_version: str) -> list[str]:
    """pip's flags for fetching another machine's wheels."""
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version]
    for tag in platform.tags:
        flags += ["--platform", tag]
    return flags


def _pip_download(args: list[str], dest: Path, cache: Path | None) -> subprocess.CompletedProcess[str]:
    """Fetch into ``dest``: from ``cache`` alone when it has everything, else from the index (filling ``cache``)."""
    base = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet"]
    if cache is not None:
        offline = subprocess.run(base + ["--no-index", "--find-links", str(cache), "-d", str(dest)] + args,
                                 capture_output=True, text=True)
        if offline.returncode == 0:
            return offline
        online = subprocess.run(base + ["-d", str(cache)] + args, capture_output=True, text=True)
        if online.returncode != 0:
            return online
        return subprocess.run(base + ["--no-index", "--find-links", str(cache), "-d", str(dest)] + args,
                              capture_output=True, text=True)
    return subprocess.run(base + ["-d", str(dest)] + args, capture_output=True, text=True)


@dataclass(frozen=True)
class PlatformResult:
    """What one platform's wheelhouse holds: every requirement, less the speed-ups without a wheel."""

    platform: Platform
    python_version: str
    pure_python_path: tuple[str, ...]  # optional speed-ups with no wheel here


def download_platform(requirements: list[Requirement], platform: Platform, python_version: str,
                      dest: Path, cache: Path | None = None) -> PlatformResult:
    """Fetch one platform's wheels into ``dest``; raise :class:`WheelhouseError` if a needed one is missing."""
    dest.mkdir(parents=True, exist_ok=True)
    flags = platform_flags(platform, python_version)
    needed = [r.line for r in requirements if r.name not in OPTIONAL_SPEEDUPS]
    done = _pip_download(flags + needed, dest, cache)
    if done.returncode != 0:
        raise WheelhouseError(f"{platform.label}（Python {python_version}）缺少必需的安装包：\n"
                              + _last_lines(done.stderr))
    skipped = []
    for req in requirements:
        if req.name in OPTIONAL_SPEEDUPS:
            got = _pip_download(flags + ["--no-deps", req.line], dest, cache)
            if got.returncode != 0:
                skipped.append(req.name)
    return PlatformResult(platform, python_version, tuple(skipped))


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("WARNING: Location")]
    return "\n".join(lines[-count:])


# --- checking a wheelhouse -------------------------------------------------------------------

_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def _python_fits(py_tags: str, abi: str, python_version: str) -> bool:
    major, minor = (int(x) for x in python_version.split("."))
    for tag in py_tags.split("."):
        if tag in ("py3", f"py{major}{minor}"):
            return True
        if tag.startswith("cp"):
            tag_minor = int(tag[3:]) if tag[2:3] == str(major) and tag[3:].isdigit() else None
            if tag_minor == minor or (abi == "abi3" and tag_minor is not None and tag_minor <= minor):
                return True
    return False


def wheel_for(wheels: list[str], req: Requirement, platform: Platform, python_version: str) -> str | None:
    """The wheel file in ``wheels`` that installs ``req`` on ``platform`` (pure Python counts), or None."""
    for filename in wheels:
        match = _WHEEL.match(filename)
        if not match or normalise(match["name"]) != req.name or match["version"] != req.version:
            continue
        plats = set(match["plat"].split("."))
        if ("any" in plats or plats & set(platform.tags)) and _python_fits(match["py"], match["abi"], python_version):
            return filename
    return None


def missing_wheels(folder: Path, requirements: list[Requirement], platform: Platform,
                   python_version: str) -> list[str]:
    """Requirements with no wheel for ``platform`` in ``folder`` — speed-ups with a pure-Python path excepted."""
    wheels = [p.name for p in folder.glob("*.whl")]
    return [r.line for r in requirements
            if r.name not in OPTIONAL_SPEEDUPS and wheel_for(wheels, r, platform, python_version) is None]
