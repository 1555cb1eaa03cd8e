"""Fixtures for the paper tests: sample data, a font switch (embedded TTF / CID fallback), text extraction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from printouts.data import CaseDoc, StationInfo
from printouts.fonts import CID_FONT_NAME, FORCE_CID, cjk_font, reset_font_cache
from printouts.samples import sample_case, sample_station


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
