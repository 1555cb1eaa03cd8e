"""Font choice and rare characters: never a blank box, never a different character."""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFError

from printouts import collection_receipt, fonts, register_cjk_font
from printouts.data import StationInfo
from printouts.fonts import CID_FONT_NAME, ENV_EXT_FONT, ENV_FONT, cjk_font, reset_font_cache
from printouts.samples import sample_case
from printouts.text import MISSING_GLYPH, para_text, placeholder
from station.services.paper import hand_write_notice
from tests.fixtures.pdf import flat, pdftotext

MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DROID = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


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


def _probe(tmp_path: Path, source: str, stem: str) -> str:
    """The font under a name no other test registers with reportlab (its registry lives as long as the process)."""
    _need_file(source)
    link = tmp_path / f"{stem}-{uuid.uuid4().hex[:8]}{Path(source).suffix}"
    link.symlink_to(source)
    return str(link)


def test_the_case_page_question_loads_no_truetype_font_and_the_receipt_embeds_it(
        tmp_path: Path, station: StationInfo) -> None:
    font = cjk_font(_probe(tmp_path, MICROHEI, "probe"))
    assert font.embedded and font.has_glyph("中") and font.has_glyph("\U00010400") and not font.has_glyph("\U00020BB7")
    assert hand_write_notice("吉𠮷祥") == "" or "U+20BB7" in hand_write_notice("吉𠮷祥")  # what the case page asks
    assert font.name not in pdfmetrics.getRegisteredFontNames()  # ~24 MB not spent on a page that draws nothing
    pdf = collection_receipt(station, sample_case(applicant_name="王\U00010400兰"))
    assert font.name in pdfmetrics.getRegisteredFontNames()
    line = next(x for x in _fonts_in(pdf).splitlines() if "WenQuanYi" in x)
    assert "TrueType" in line and " yes yes " in line  # embedded, subset
    assert "王\U00010400兰" in flat(pdftotext(pdf))


def test_a_font_reportlab_refuses_when_printing_is_replaced_and_the_receipt_still_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, station: StationInfo) -> None:
    probe = _probe(tmp_path, MICROHEI, "refused")
    refused = cjk_font(probe)
    real = fonts.TTFont

    def picky(name: str, path: str, **kwargs: object) -> object:
        if path == probe:
            raise TTFError("cannot load")  # its cmap read well, reportlab refuses it all the same
        return real(name, path, **kwargs)

    monkeypatch.setattr(fonts, "TTFont", picky)
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name="王秀兰"))))
    assert "王秀兰" in text
    assert cjk_font().name != refused.name  # chosen again, without it, for every later page
    assert refused.name not in pdfmetrics.getRegisteredFontNames()


def test_the_character_map_read_alone_is_the_one_reportlab_reads() -> None:
    checked = 0
    for path, index in ((MICROHEI, 0), (MICROHEI, 1), (ZENHEI, 1), (DROID, 0), (DEJAVU, 0)):
        if not Path(path).is_file():
            continue
        face = ttfonts.TTFontFile(path, validate=0, subfontIndex=index)
        coverage = fonts._read_coverage(path, index)
        assert coverage is not None
        drawn = {cp for cp, glyph in face.charToGlyph.items() if glyph}  # glyph 0 is the empty box
        assert len(coverage) == len(drawn) and all(cp in coverage for cp in drawn), f"{path}#{index}"
        checked += 1
    if checked == 0:
        pytest.skip("!!! no TrueType font installed — the character-map reader is NOT tested !!!")


def test_a_font_reportlab_would_refuse_is_not_chosen_from_its_character_map_either(tmp_path: Path) -> None:
    _need_file(DEJAVU)
    original = Path(DEJAVU).read_bytes()
    directory = {original[12 + 16 * i:16 + 16 * i]: struct.unpack(">L", original[20 + 16 * i:24 + 16 * i])[0]
                 for i in range(struct.unpack(">H", original[4:6])[0])}
    loca = original.index(b"loca", 12, 12 + 16 * len(directory))
    for label, data in (("cff.otf", b"OTTO" + original[4:]),  # PostScript outlines
                        ("no-loca.ttf", original[:loca] + b"LOCA" + original[loca + 4:])):  # no glyph locations
        path = tmp_path / label
        path.write_bytes(data)
        with pytest.raises(TTFError):
            ttfonts.TTFontFile(str(path), validate=0)
        assert fonts._read_coverage(str(path), 0) is None, label
    assert fonts._read_coverage(DEJAVU, 0) is not None


def test_a_character_the_font_maps_to_the_empty_box_does_not_count_as_drawn() -> None:
    # format 4 (the BMP): A–C looked up in the glyph array, B there as glyph 0; a–b by delta; the 0xFFFF end mark
    ends, starts, deltas, offsets, glyph_ids = (0x43, 0x62, 0xFFFF), (0x41, 0x61, 0xFFFF), (0, 10, 1), (6, 0, 0), (5, 0, 7)
    body = struct.pack(">3H", *ends) + b"\0\0" + struct.pack(">3H", *starts) + struct.pack(">3h", *deltas)
    body += struct.pack(">3H", *offsets) + struct.pack(">3H", *glyph_ids)
    table = struct.pack(">7H", 4, 14 + len(body), 0, 6, 4, 1, 2) + body
    coverage = fonts.Coverage(fonts._format4_runs(table))
    assert [chr(cp) for cp in range(0x10000) if cp in coverage] == ["A", "C", "a", "b"]
    # format 12 (every plane): a group whose first code is glyph 0
    groups = struct.pack(">3L", 0x20000, 0x20002, 0) + struct.pack(">3L", 0x30, 0x31, 5)
    coverage = fonts.Coverage(fonts._format12_runs(groups, 2))
    assert [cp for cp in (0x30, 0x31, 0x20000, 0x20001, 0x20002) if cp in coverage] == [0x30, 0x31, 0x20001, 0x20002]


def test_two_first_prints_at_once_load_the_font_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a second load is dropped by reportlab, its ~24 MB mostly kept by the allocator all the same
    font = cjk_font(_probe(tmp_path, MICROHEI, "together"))
    real, made = fonts.TTFont, []

    def slow(name: str, path: str, **kwargs: object) -> object:
        time.sleep(0.2)  # the others ask meanwhile
        made.append(real(name, path, **kwargs))
        return made[-1]

    monkeypatch.setattr(fonts, "TTFont", slow)
    threads = [threading.Thread(target=fonts.embed, args=(font.name,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and font.name in pdfmetrics.getRegisteredFontNames()
