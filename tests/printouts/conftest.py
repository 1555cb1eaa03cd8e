"""Fixtures for the paper tests: sample data, a font switch (embedded TTF / CID fallback), text extraction."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from printouts.data import CaseDoc, StationInfo
from printouts.fonts import CID_FONT_NAME, FORCE_CID, cjk_font, reset_font_cache
from printouts.samples import sample_case, sample_station

NO_POPPLER = ("!!! poppler-utils (pdftotext/pdfinfo) NOT INSTALLED — printouts are NOT being checked. "
              "Install it: apt-get install poppler-utils !!!")


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(NO_POPPLER)
    return exe


def pdftotext(pdf: bytes, first: int | None = None, last: int | None = None, *extra: str) -> str:
    """Extract the text back, as a reader or a screen reader would get it."""
    args = [_need("pdftotext"), "-enc", "UTF-8", *extra]
    if first is not None:
        args += ["-f", str(first)]
    if last is not None:
        args += ["-l", str(last)]
    done = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, timeout=60, check=True)
    return done.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Text with all whitespace removed, so a value wrapped across lines still matches."""
    return re.sub(r"\s+", "", text)


def pdfinfo(pdf: bytes) -> dict[str, str]:
    """pdfinfo's key/value answer."""
    done = subprocess.run([_need("pdfinfo"), "-"], input=pdf, capture_output=True, timeout=60, check=True)
    out = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


@pytest.fixture(autouse=True)
def _fresh_font_cache() -> Iterator[None]:
    """Every test chooses its font afresh and leaves no choice behind."""
    reset_font_cache()
    yield
    reset_font_cache()


@pytest.fixture(params=["ttf", "cid"])
def font_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the embedded TrueType subset and with the STSong-Light fallback."""
    monkeypatch.delenv("STATION_CJK_FONT", raising=False)
    if request.param == "cid":
        assert cjk_font(FORCE_CID).name == CID_FONT_NAME
    else:
        font = cjk_font()
        if not font.embedded:
            pytest.skip("!!! NO CJK TrueType FONT ON THIS MACHINE — the embedded-font path is NOT tested. "
                        "Install one: apt-get install fonts-wqy-microhei fonts-wqy-zenhei !!!")
    return str(request.param)


@pytest.fixture
def station() -> StationInfo:
    return sample_station()


@pytest.fixture
def case() -> CaseDoc:
    return sample_case()
