"""`python -m station package OUT`: the offline installer folder a station gets on a USB stick.

OUT/
  wheels/       every station requirement for Windows x64, Linux x86_64 and Linux aarch64, and
                the station itself (bianmin_station-<version>-py3-none-any.whl)
  install.bat, start.bat   Windows (batch files in GBK, the code page of a Chinese Windows console)
  install.sh,  start.sh    Linux
  python/       optional: a Python 3.11 installer given with --python-installer
  speedups.txt  compiled speed-ups installed where the platform has their wheels (else pure Python)
  manifest.json what was built, for which platforms, and which speed-ups a platform goes without
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from station.packaging.wheelhouse import (
    OPTIONAL_SPEEDUPS,
    PLATFORMS,
    PYTHON_VERSIONS,
    Platform,
    PlatformResult,
    WheelhouseError,
    download_platform,
    missing_wheels,
    read_requirements,
)

SOURCE_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).with_name("scripts")
#: What goes into the station's own wheel: the packages a station runs, and the templates.
PROJECT_FILES = ("station", "sync", "printouts", "rules", "websec", "templates", "pyproject.toml",
                 "requirements-station.txt")
REQUIREMENTS = "requirements-station.txt"


@dataclass
class PackageReport:
    """What `package` built: per platform the result, the station's wheel, sizes and seconds."""

    out: Path
    project_wheel: str = ""
    platforms: list[PlatformResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    wheelhouse_bytes: int = 0


def build_package(out: Path, platform_names: list[str] | None = None, python_versions: tuple[str, ...] = PYTHON_VERSIONS,
                  cache: Path | None = None, python_installer: Path | None = None) -> PackageReport:
    """Build the installer folder in ``out`` (created; must be empty if it exists).

    ``cache`` keeps downloaded wheels between builds: a wheelhouse it already holds is copied
    from it without touching the network. Raises :class:`WheelhouseError` with a Chinese message.
    """
    if not (SOURCE_ROOT / "pyproject.toml").exists():
        raise WheelhouseError("只能在软件源代码目录中打包（找不到 pyproject.toml）。")
    unknown = [n for n in platform_names or [] if n not in PLATFORMS]
    if unknown:
        raise WheelhouseError(f"不认识的平台：{'、'.join(unknown)}（可选：{'、'.join(PLATFORMS)}）。")
    if out.exists() and any(out.iterdir()):
        raise WheelhouseError(f"{out} 不是空文件夹：请换一个新文件夹，以免覆盖别的文件。")
    platforms: list[Platform] = [PLATFORMS[n] for n in platform_names] if platform_names else list(PLATFORMS.values())
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    report = PackageReport(out)
    requirements = read_requirements(SOURCE_ROOT / REQUIREMENTS)

    for platform in platforms:
        for version in python_versions:
            started = time.monotonic()
            result = download_platform(requirements, platform, version, wheels, cache)
            missing = missing_wheels(wheels, requirements, platform, version)
            if missing:
                raise WheelhouseError(f"{platform.label}（Python {version}）缺少：{'、'.join(missing)}")
            report.platforms.append(result)
            report.seconds[f"{platform.name}-py{version}"] = round(time.monotonic() - started, 2)

    started = time.monotonic()
    report.project_wheel = build_project_wheel(wheels)
    report.seconds["project"] = round(time.monotonic() - started, 2)
    write_scripts(out)
    (out / "speedups.txt").write_text("".join(f"{r.line}\n" for r in requirements if r.name in OPTIONAL_SPEEDUPS),
                                      encoding="utf-8")
    if python_installer is not None:
        (out / "python").mkdir(exist_ok=True)
        shutil.copy2(python_installer, out / "python" / python_installer.name)
    report.wheelhouse_bytes = sum(p.stat().st_size for p in wheels.glob("*.whl"))
    (out / "manifest.json").write_text(json.dumps(manifest(report), ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    return report


def build_project_wheel(dest: Path) -> str:
    """Build the station's own wheel from a clean copy of its sources (no build/ left in the checkout)."""
    with tempfile.TemporaryDirectory(prefix="station-wheel-") as tmp:
        root = Path(tmp) / "src"
        root.mkdir()
        for name in PROJECT_FILES:
            source = SOURCE_ROOT / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, root / name)
        # the speed-ups are installed apart (speedups.txt), so a platform without their wheels installs
        (root / REQUIREMENTS).write_text("".join(
            f"{r.line}\n" for r in read_requirements(SOURCE_ROOT / REQUIREMENTS) if r.name not in OPTIONAL_SPEEDUPS),
            encoding="utf-8")
        built = Path(tmp) / "dist"
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--quiet",
                               "--no-deps", "-w", str(built), str(root)], capture_output=True, text=True)
        if done.returncode != 0:
            raise WheelhouseError("打包本软件失败：\n" + done.stderr[-2000:])
        (wheel,) = built.glob("*.whl")
        shutil.copy2(wheel, dest / wheel.name)
        return wheel.name


def write_scripts(out: Path) -> None:
    """The install and start scripts: shell scripts as they are, batch files in GBK with CRLF.

    cmd.exe reads a batch file in the console's code page, which is 936 (GBK) on a Chinese
    Windows; UTF-8 would print its Chinese lines as mojibake.
    """
    for script in SCRIPTS.glob("*.sh"):
        target = out / script.name
        target.write_bytes(script.read_bytes())
        target.chmod(0o755)
    for script in SCRIPTS.glob("*.bat"):
        text = script.read_text(encoding="utf-8")
        (out / script.name).write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("gbk"))


def manifest(report: PackageReport) -> dict:
    """manifest.json: what the package holds, to read before installing it somewhere new."""
    return {
        "project_wheel": report.project_wheel,
        "platforms": [{"platform": r.platform.label, "python": r.python_version,
                       "pure_python_path": list(r.pure_python_path)} for r in report.platforms],
        "wheelhouse_bytes": report.wheelhouse_bytes,
        "seconds": report.seconds,
    }
