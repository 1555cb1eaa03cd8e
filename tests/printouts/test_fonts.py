"""Font choice and rare characters: never a blank box, never a different character."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from printouts import collection_receipt, register_cjk_font
from printouts.data import StationInfo
from printouts.fonts import CID_FONT_NAME, ENV_EXT_FONT, ENV_FONT, cjk_font, reset_font_cache
from printouts.samples import sample_case
from printouts.text import MISSING_GLYPH, para_text, placeholder
from tests.fixtures.pdf import flat, pdftotext

MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def _need_file(path: str) -> None:
    import os

    if not os.path.isfile(path):
        pytest.skip(f"!!! {path} NOT INSTALLED — this font path is NOT tested (apt-get install fonts-wqy-*) !!!")


def _fonts_in(pdf: bytes) -> str:
    exe = shutil.which("pdffonts")
    if exe is None:
        pytest.skip("!!! pdffonts (poppler-utils) NOT INSTALLED !!!")
    return subprocess.run([exe, "-"], input=pdf, capture_output=True, timeout=60, check=True).stdout.decode()


def test_forced_cid_font_is_not_embedded(station: StationInfo) -> None:
    assert register_cjk_font("cid") == CID_FONT_NAME
    fonts = _fonts_in(collection_receipt(station, sample_case()))
    assert "STSong-Light" in fonts


def test_ttf_is_embedded_as_subset(station: StationInfo) -> None:
    _need_file(MICROHEI)
    name = register_cjk_font(MICROHEI)
    assert name.startswith("CJK-wqy-microhei")
    fonts = _fonts_in(collection_receipt(station, sample_case()))
    line = next(x for x in fonts.splitlines() if "WenQuanYi" in x)
    assert "TrueType" in line and " yes yes " in line  # embedded, subset


def test_env_var_and_subfont_index(monkeypatch: pytest.MonkeyPatch) -> None:
    _need_file(ZENHEI)
    monkeypatch.setenv(ENV_FONT, f"{ZENHEI}#0")
    assert cjk_font().name == "CJK-wqy-zenhei-0"
    reset_font_cache()
    monkeypatch.setenv(ENV_FONT, "cid")
    assert cjk_font().name == CID_FONT_NAME


def test_unusable_configured_font_falls_back(tmp_path: pytest.TempPathFactory) -> None:
    bogus = tmp_path / "broken.ttf"  # type: ignore[operator]
    bogus.write_bytes(b"not a font")
    font = cjk_font(str(bogus))
    assert font.name != ""  # a system font or the CID font, never a crash
    assert font.has_glyph("中")


def test_choice_is_cached_until_reset() -> None:
    first = cjk_font()
    assert cjk_font() is first
    assert cjk_font(None) is first


def test_cid_font_rare_character_prints_placeholder_not_garbage(station: StationInfo) -> None:
    register_cjk_font("cid")
    case = sample_case(applicant_name="吉𠮷祥", applicant_address="𡒄村三组")
    text = flat(pdftotext(collection_receipt(station, case)))
    # reportlab would otherwise encode the surrogate halves and print 䋟 — a different name.
    assert "吉〓(U+20BB7)祥" in text
    assert "〓(U+21484)村三组" in text
    assert "䋟" not in text


def test_ttf_non_bmp_character_in_font_prints_and_extracts(station: StationInfo) -> None:
    _need_file(MICROHEI)
    register_cjk_font(MICROHEI)
    assert cjk_font().has_glyph("\U00010400")  # Deseret: outside the BMP, present in Micro Hei
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name="王\U00010400兰"))))
    assert "王\U00010400兰" in text


def test_ttf_rare_character_missing_from_font_prints_placeholder(station: StationInfo) -> None:
    _need_file(MICROHEI)
    font = cjk_font(MICROHEI)
    if font.has_glyph("𠮷") or font.ext_has_glyph("𠮷"):
        pytest.skip("a font on this machine has 𠮷; the placeholder path is not reachable here")
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name="吉𠮷祥"))))
    assert "吉〓(U+20BB7)祥" in text


def test_extension_font_draws_what_the_main_font_lacks(monkeypatch: pytest.MonkeyPatch,
                                                        station: StationInfo) -> None:
    _need_file(MICROHEI)
    _need_file(ZENHEI)
    monkeypatch.setenv(ENV_EXT_FONT, ZENHEI)
    font = cjk_font(MICROHEI)
    ch = "\U00010000"  # Linear B: in Zen Hei, not in Micro Hei — stands in for SimSun-ExtB's 𠮷
    assert not font.has_glyph(ch) and font.ext_has_glyph(ch)
    assert f'<font name="{font.ext_name}">' in para_text(f"王{ch}", font)
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name=f"王{ch}兰"))))
    assert f"王{ch}兰" in text


def test_para_text_escapes_and_placeholder() -> None:
    font = cjk_font("cid")
    assert para_text("<b>&amp;", font) == "&lt;b&gt;&amp;amp;"
    assert placeholder("𠮷") == f"{MISSING_GLYPH}(U+20BB7)"
    assert para_text("𠮷<", font) == f"{MISSING_GLYPH}(U+20BB7)&lt;"
