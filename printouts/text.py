"""Turn residents' text into safe Paragraph markup, and dates into the way Chinese paper writes them.

reportlab's Paragraph parses a mini-HTML, so a name like ``<b>&amp;`` would turn bold or
vanish, and an unclosed ``<`` raises. Everything a person typed goes through :func:`para_text`:
control characters become spaces, markup characters are escaped, and each character is
checked against the font (see :mod:`printouts.fonts`) so that a rare character either prints
in the extension font or shows as a visible 〓(U+XXXXX) — never as an empty box, never as a
different character.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from xml.sax.saxutils import escape

from printouts.fonts import CJKFont, embed, rare_font_for

# The geta mark is the Chinese/Japanese typesetter's sign for "character not available".
MISSING_GLYPH = "〓"


def clean(text: object) -> str:
    """Plain string with control characters turned into spaces (they break layout and some viewers)."""
    if text is None:
        return ""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and ch not in "\u200d"
                   else ch for ch in value)


def placeholder(ch: str) -> str:
    """What prints for a character no available font can draw: visible and reversible."""
    return f"{MISSING_GLYPH}(U+{ord(ch):04X})"


def plain_text(text: object, font: CJKFont) -> str:
    """Text for canvas.drawString (no markup): undrawable characters replaced by the placeholder."""
    value = clean(text)
    if _all_covered(value, font):
        return value
    return "".join(ch if font.has_glyph(ch) or ch.isspace() else placeholder(ch) for ch in value)


def para_text(text: object, font: CJKFont) -> str:
    """Paragraph markup that prints ``text`` literally, whatever it contains."""
    value = clean(text)
    if _all_covered(value, font):
        return escape(value)
    parts: list[str] = []
    for ch in value:
        drawn_by = _drawn_by(ch, font)
        while drawn_by and not embed(drawn_by):  # reportlab refused that font: it is never offered again
            drawn_by = _drawn_by(ch, font)
        if drawn_by == "":
            parts.append(escape(ch))
        elif drawn_by is not None:
            parts.append(f'<font name="{drawn_by}">{escape(ch)}</font>')
        else:
            parts.append(escape(placeholder(ch)))
    return "".join(parts)


def undrawable(text: object, font: CJKFont) -> list[str]:
    """The characters of ``text`` no installed font can draw: paper marks each with 〓 for the pen."""
    value = clean(text)
    if _all_covered(value, font):
        return []
    return [ch for ch in dict.fromkeys(value) if _drawn_by(ch, font) is None]


def _drawn_by(ch: str, font: CJKFont) -> str | None:
    """Which font draws ``ch`` in a paragraph: "" for the main font, the name of the extension font or
    of an installed font that has it, None when none does (it prints as the placeholder)."""
    if ch.isspace() or font.has_glyph(ch):
        return ""
    if font.ext_has_glyph(ch):
        return font.ext_name
    return rare_font_for(ch)


def hand_write_line(chars: list[str]) -> str:
    """The line paper carries when it marked characters: the agent writes them in by hand."""
    marks = "、".join(placeholder(ch) for ch in chars)
    return (f"※ 本机字库缺少 {marks} 所示的生僻字，纸上以“{MISSING_GLYPH}”标出："
            "请经办人在标记处用笔写上正确的字，并请申请人核对。")


def _all_covered(value: str, font: CJKFont) -> bool:
    # Fast path: the common case is ordinary CJK and ASCII, which every candidate font has.
    if value.isascii():
        return True
    return all(font.has_glyph(ch) or ch.isspace() for ch in value)


def fmt_date(value: date | datetime | None) -> str:
    """2025年3月5日 — the form official paper uses; empty when unknown."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def fmt_datetime(value: datetime | None) -> str:
    """2025年3月5日 14:30."""
    if value is None:
        return ""
    return f"{fmt_date(value)} {value:%H:%M}"
