"""Masking of personal numbers: the one place that decides what a screen, a list, a log or a paper shows.

Every personal number leaves the database through these functions, so that encryption at rest
and masking rules change in one module (DOMAIN.md "Personal information").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_DIGITS = re.compile(r"\d")


def typed_number(text: str | None) -> str:
    """A number as typed into a search box: a Chinese input method's full-width digits and letters
    (１１０１…ｘ) read as the ones they show, spaces (a full-width one too) dropped.

    Intake takes such a number; every search must find what intake stored, and must know an ID
    number when it sees one, so that it goes into no address in the clear.
    """
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def mask_id_number(number: str | None) -> str:
    """Keep the first 6 and last 4 characters of an 18-character resident ID (110105********0021).

    Other certificate numbers (passport, permits, credit codes) keep their first 2 and last 2
    characters so staff can still tell two documents apart without reading the number.
    """
    if not number:
        return ""
    value = number.strip()
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_phone(phone: str | None) -> str:
    """Hide the middle of a phone number (138****1234; a landline keeps its area code and last four:
    0351-****5678, 0351-***4567, 010-****5678).

    A number masked already (a record cleared by retention keeps it so) comes back as it is, not
    blurred further: four stars and at most the 8 digits a masked landline keeps.
    """
    if not phone:
        return ""
    value = phone.strip()
    digit_positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    if "***" in value and len(digit_positions) <= 8:  # 0351-***4567 keeps three stars
        return value
    if len(digit_positions) < 7:
        return "*" * len(value)
    if len(digit_positions) == 11 and value.startswith("1"):
        hidden = digit_positions[3:7]
    elif value.startswith("0") and len(digit_positions) >= 10:
        # a landline with its area code (010 and 02x have three digits, the others four): the code
        # stays whole, the local number shows its last four — 035*-***4567 hid half the code instead
        area = 3 if value[1:2] in ("1", "2") else 4
        hidden = digit_positions[area:-4]
    else:
        middle = len(digit_positions) // 2
        hidden = digit_positions[middle - 2 : middle + 2]
    chars = list(value)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


# 15–22 characters: resident IDs (15, 18), bank cards (16–19), 20-digit licence numbers; the first 6
# and last 4 kept, as a bank's own statements show a card
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{14,21}[0-9Xx](?![0-9A-Za-z])")
_PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z*-])(?:\d{3,4}-)?\d{7,11}(?![0-9A-Za-z*])")
_SEVEN_DIGITS = re.compile(r"\d{7}")


def _find_numbers(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with every ID-like and phone-like number masked, and where each was found.

    The IDs first, then the phones in the text with the IDs masked, so that no part of an ID is taken
    for a phone. Masking keeps the length (an ID match has 15 or more characters), so every position
    is one of ``text``. Two finds may overlap (a full-width digit after an ID starts a phone there).
    """
    spans: list[tuple[int, int]] = []

    def mask_with(rule: Callable[[str], str]) -> Callable[[re.Match[str]], str]:
        def masked(match: re.Match[str]) -> str:
            spans.append(match.span())
            return rule(match.group(0))
        return masked

    if not _SEVEN_DIGITS.search(text):  # both kinds hold 7 digits in a row; most text has none
        return text, spans
    masked = _ID_LIKE.sub(mask_with(mask_id_number), text)
    return _PHONE_LIKE.sub(mask_with(mask_phone), masked), spans


def numbers_in(text: str) -> list[tuple[int, int, str]]:
    """Each personal number inside free text, in order: ``(start, end, masked)``, exactly the parts
    :func:`mask_numbers_in` masks (overlapping finds taken as one), so that a county clerk can reveal
    one of them by its place in this list."""
    masked, spans = _find_numbers(text)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end, masked[start:end]) for start, end in merged]


def mask_numbers_in(text: str | None) -> str:
    """Mask every ID-like and phone-like number inside free text (a search typed into a list, a log line).

    The access log keeps what someone searched for, never the number they searched with.
    """
    if not text:
        return ""
    return _find_numbers(text)[0]


def mask_name(name: str | None) -> str:
    """A name as a public page or a shared list may show it: 赵*英, 张*, 欧**娜; the first and last character only.

    Enough to tell cases apart and for a resident to recognise her own, not enough to name her.
    """
    value = (name or "").strip()
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


_PLACE_END = re.compile(r"^.*(?:村|社区|居委会|组)")


def mask_address(address: str | None) -> str:
    """An address as paper and lists show it: up to the village (or its 组), the house number hidden.

    示范县东关镇东关村三组12号 → 示范县东关镇东关村三组***; with no village word, the first 6 characters.
    """
    value = (address or "").strip()
    if not value:
        return ""
    match = _PLACE_END.match(value)
    kept = match.group(0) if match else value[:6]
    return kept + ("***" if len(kept) < len(value) else "")


def mask_licence_number(number: str | None) -> str:
    """A licence number as a screen shows it: the first 6 and last 4 characters.

    A 残疾人证 number is the holder's ID number followed by two digits, so it is masked like one.
    """
    if not number:
        return ""
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_STARTS_WITH_ID = re.compile(r"^\d{17}[\dXx]")


def mask_certificate_number(number: str | None) -> str:
    """A result's certificate number as a screen or a paper shows it: whole, unless it holds a personal number.

    A 残疾人证's number is its holder's ID number and two digits (11010519491231002X42): masked as a licence
    number (110105**********2X42); any other ID- or phone-like number inside is masked as in free text;
    an ordinary number (GLJT-2026-0042) stays whole, so staff can match it against the certificate.
    """
    value = (number or "").strip()
    if _STARTS_WITH_ID.match(value):
        return mask_licence_number(value)
    return mask_numbers_in(value)


# --- numbers a page shows masked, one of them revealed on purpose (the county's and the station's case page) ---

#: Every screen's masking filters, by the name templates use, for the station and the county alike: one
#: masking rule for every page (a template of either app says ``x|mask_id``, never a rule of its own).
MASKING_FILTERS: dict[str, Callable[[str | None], str]] = {
    "mask_id": mask_id_number,
    "mask_phone": mask_phone,
    "mask_name": mask_name,  # 赵*英 on lists (and the 四条线 a leader puts on a screen)
    "mask_licence": mask_licence_number,  # a licence number can hold the ID number
    "mask_certificate": mask_certificate_number,  # a 残疾人证's holds the ID number
    "mask_numbers": mask_numbers_in,  # free text someone typed (a county's reason, a note)
}


#: Wherever one of these keys stands (a person's entry, a form's field, a material row), its value is that one
#: number, masked whole; any other text is searched with :func:`numbers_in`.
MASK_BY_KEY: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number, "phone": mask_phone, "e_license_no": mask_licence_number,
}


def field_numbers(key: str, value: object) -> list[tuple[int, int, str]]:
    """The masked numbers of one field (or one note) as a page shows them: ``(start, end, masked)``.

    A field named for what it holds (:data:`MASK_BY_KEY`) is one number, masked whole; any other text
    holds as many as :func:`numbers_in` finds. A value that is not text has none to reveal.
    """
    if not isinstance(value, str):
        return []
    rule = MASK_BY_KEY.get(key)
    found = [(0, len(value), rule(value))] if rule is not None else numbers_in(value)
    return [(start, end, masked) for start, end, masked in found if masked != value[start:end]]


def numbered_pieces(key: str, value: str, head: str) -> list[tuple[str, str]]:
    """``value`` cut for a page into ``(text, path)`` pieces: each masked number named ``<head>/<n>`` (n from 0,
    in order) so one can be revealed by that path, the text around them with an empty path.

    Joined, the texts read as the page shows the field masked; the full numbers are never in them.
    """
    cut, at = [], 0
    for n, (start, end, masked) in enumerate(field_numbers(key, value)):
        cut += [(value[at:start], ""), (masked, f"{head}/{n}")]
        at = end
    cut.append((value[at:], ""))
    return [(text, path) for text, path in cut if text]


def number_at(key: str, value: object, index: str) -> tuple[str, str] | None:
    """The full number ``<head>/<index>`` of :func:`numbered_pieces` names, and which it is in words
    ("号码", or "第2个号码" where the field holds several); None if the field has no such number.

    ``index`` is compared as text, never parsed: "01", "-1" or "1.0" name nothing.
    """
    numbers = field_numbers(key, value)
    for n, (start, end, _masked) in enumerate(numbers):
        if str(n) == index:
            return str(value)[start:end], (f"第{n + 1}个号码" if len(numbers) > 1 else "号码")
    return None
