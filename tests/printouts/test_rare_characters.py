"""Rare characters on paper: drawn from any installed font that has them, else marked for the pen.

The receipt is rasterised (pdftoppm) as the agent would see it printed. Which installed font has
which character differs per machine, so the test asks the system's font index the same way
the code must (``fc-list :charset=``) and expects "drawn" exactly where it says a font exists.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError

from printouts import collection_receipt, fonts
from printouts.data import StationInfo
from printouts.layout import Builder, get_layout
from printouts.linebreak import NO_LINE_START
from printouts.samples import sample_case
from printouts.text import placeholder
from tests.fixtures.pdf import flat, pdftotext

RARE = ("𠮷", "䶮")  # Extension B (few fonts have it) and Extension A (in Droid Sans Fallback, Zen Hei)
HAND_WRITE = "请经办人在标记处用笔写上正确的字"


def _installed_ttf_has(ch: str) -> bool:
    exe = shutil.which("fc-list")
    if exe is None:
        pytest.skip("!!! fontconfig (fc-list) NOT INSTALLED — rare-character lookup NOT tested !!!")
    out = subprocess.run([exe, "-f", "%{file}\n", f":charset={ord(ch):x}"], capture_output=True, text=True).stdout
    return any(line.lower().endswith((".ttf", ".ttc")) for line in out.splitlines())


def _ink(pdf: bytes) -> int:
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("!!! pdftoppm (poppler-utils) NOT INSTALLED — paper NOT rasterised !!!")
    png = subprocess.run([exe, "-r", "100", "-gray", "-png", "-f", "1", "-l", "1", "-"], input=pdf,
                         capture_output=True, check=True).stdout
    image = Image.open(BytesIO(png))
    return sum(image.histogram()[:128])  # dark pixels


def test_a_receipt_draws_each_rare_character_an_installed_font_has_and_marks_the_rest_for_the_pen(
        station: StationInfo):
    pdf = collection_receipt(station, sample_case(applicant_name="王𠮷䶮兰"))
    text = flat(pdftotext(pdf))
    for ch in RARE:
        if _installed_ttf_has(ch):
            assert f"{ch}" in text and placeholder(ch) not in text, f"{ch} should be drawn from an installed font"
            blank = collection_receipt(station, sample_case(applicant_name="王𠮷䶮兰".replace(ch, "\u3000")))
            assert _ink(pdf) > _ink(blank), f"{ch} left no ink on the rasterised receipt"
        else:
            assert placeholder(ch) in text, f"{ch} should carry the visible mark"
            assert HAND_WRITE in text and placeholder(ch) in text.split("※", 1)[1]
    if all(_installed_ttf_has(ch) for ch in RARE):
        assert HAND_WRITE not in text  # nothing marked, nothing to write by hand


def test_without_any_font_for_it_the_paper_marks_the_character_and_says_to_write_it(
        station: StationInfo, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(fonts, "_fonts_with", lambda cp: [])
    fonts.reset_font_cache()
    pdf = collection_receipt(station, sample_case(applicant_name="王䶮兰"))
    text = flat(pdftotext(pdf))
    assert "王〓(U+4DAE)兰" in text and HAND_WRITE in text
    assert _ink(pdf) > 0


def test_an_ordinary_receipt_has_no_hand_write_line(station: StationInfo):
    assert HAND_WRITE not in flat(pdftotext(collection_receipt(station, sample_case())))


@pytest.mark.parametrize("mark", list("，。）、"))
def test_no_line_starts_with_closing_punctuation(mark: str):
    b = Builder(fonts.cjk_font(), get_layout("a4"))
    style = b.s.body
    starts = []
    for lead in range(1, 40):  # slide the mark across every position of a line
        para = b.p("字" * lead + mark + "办理材料齐全" * 12, style)
        para.wrap(60 * 2.8346, 1000)  # a 60 mm column
        lines = ["".join(line[1]) if isinstance(line, tuple) else "".join(w.text for w in line.words)
                 for line in para.blPara.lines]
        starts += [line[0] for line in lines[1:] if line]
    assert mark not in starts
    assert set(NO_LINE_START) >= set("，。）、")


def test_without_fontconfig_the_font_folders_are_read_and_only_the_font_that_draws_it_is_loaded_when_printed(
        tmp_path, monkeypatch: pytest.MonkeyPatch, station: StationInfo):
    latin, cjk = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
    for path in (latin, cjk):
        if not Path(path).is_file():
            pytest.skip(f"!!! {path} NOT INSTALLED — the font-folder scan is NOT tested !!!")
    folder = tmp_path / "Fonts"
    folder.mkdir()
    (folder / "a-latin-probe.ttf").symlink_to(latin)  # read first, lacks 䶮
    (folder / "b-cjk-probe.ttf").symlink_to(cjk)
    (folder / "c-never-read.ttf").symlink_to(latin)
    monkeypatch.setattr(fonts, "_fc_list_charset", lambda cp: None)  # as on Windows
    monkeypatch.setattr(fonts, "_font_folders", lambda: [folder])
    fonts.reset_font_cache()
    probes = {"CJK-a-latin-probe-0", "CJK-b-cjk-probe-0", "CJK-c-never-read-0"}
    assert not fonts.cjk_font().has_glyph("䶮")
    assert fonts.rare_font_for("䶮") == "CJK-b-cjk-probe-0"
    assert fonts.rare_font_for("𠮷") is None  # none of them has it
    assert not probes & set(pdfmetrics.getRegisteredFontNames())  # asked about, none loaded
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name="王䶮兰"))))
    assert "王䶮兰" in text
    assert probes & set(pdfmetrics.getRegisteredFontNames()) == {"CJK-b-cjk-probe-0"}  # printed: only it loaded
    fonts.reset_font_cache()


def test_a_rare_character_font_reportlab_refuses_is_passed_over_and_what_none_draws_is_marked_for_the_pen(
        tmp_path, monkeypatch: pytest.MonkeyPatch, station: StationInfo):
    main = fonts.cjk_font()
    cjk = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
    if not main.embedded or main.has_glyph("䶮") or not Path(cjk).is_file():
        pytest.skip("!!! needs an embedded main font without 䶮 and Droid Sans Fallback — NOT tested here !!!")
    probes = []
    for n in range(2):  # two installed fonts with 䶮, under names no other test has loaded
        probe = tmp_path / f"refused-{n}-{uuid.uuid4().hex[:8]}.ttf"
        probe.symlink_to(cjk)
        probes.append((str(probe), 0))
    monkeypatch.setattr(fonts, "_fonts_with", lambda cp: iter(probes))
    real = fonts.TTFont

    def only_the_main_font(name: str, path: str, **kwargs: object) -> object:
        if path != main.path:
            raise TTFError("cannot load")  # their cmaps read well; reportlab refuses them
        return real(name, path, **kwargs)

    monkeypatch.setattr(fonts, "TTFont", only_the_main_font)
    b = Builder(main, get_layout("a4"))
    assert b.esc("王䶮兰") == f"王{placeholder('䶮')}兰"
    assert list(b.marked) == ["䶮"]  # the first time it is printed, it is marked for the pen
    text = flat(pdftotext(collection_receipt(station, sample_case(applicant_name="王䶮兰"))))
    assert "王〓(U+4DAE)兰" in text
    assert HAND_WRITE in text and placeholder("䶮") in text.split("※", 1)[1]
