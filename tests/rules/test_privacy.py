"""Masking: what a screen, a list, a log or a paper shows of a personal number."""

from __future__ import annotations

import pytest

from rules.privacy import mask_id_number, mask_numbers_in, mask_phone, number_at, numbered_pieces, numbers_in


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("110105194912310021", "110105********0021"),  # resident ID: first 6 and last 4
        ("11010519491231002X", "110105********002X"),
        (" 110105194912310021 ", "110105********0021"),  # typed with spaces
        ("110105491231002", "110105*****1002"),  # old 15-digit ID
        ("E12345678", "E1*****78"),  # passport: first 2 and last 2
        ("1234", "****"),  # too short to show any of it
        ("", ""),
        (None, ""),
    ],
)
def test_an_id_number_keeps_only_what_tells_two_documents_apart(number, shown):
    assert mask_id_number(number) == shown


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13800001234", "138****1234"),  # mobile: the middle four
        ("0351-12345678", "0351-****5678"),  # landline: the four digits around the middle
        ("0351-1234567", "0351-***4567"),  # the area code whole, not 035*-***4567
        ("035112345678", "0351****5678"),
        ("010-12345678", "010-****5678"),  # a three-digit area code
        ("02012345678", "020****5678"),
        ("123456", "******"),  # too short to be a number worth half-showing
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_number_hides_its_middle_digits(phone, shown):
    assert mask_phone(phone) == shown
    assert mask_phone(shown) == shown  # masked again (a record retention cleared) it stays as it was


@pytest.mark.parametrize(("text", "hidden", "shown"), [
    ("身份证110105194912310021，电话13812345678", ["110105194912310021", "13812345678"],
     ["110105********0021", "138****5678"]),
    ("退款到卡6222021234567890123（19位）", ["6222021234567890123"], ["622202*********0123"]),
    ("卡号 6222 0212 3456 7890", [], ["6222 0212 3456 7890"]),  # grouped: no single number to mask (left as typed)
    ("电子证照号 12345678901234567890", ["12345678901234567890"], ["123456**********7890"]),
])
def test_numbers_in_free_text_are_masked_whatever_their_length(text, hidden, shown):
    """A note may carry a bank card (16–19 digits) or a 20-digit licence number, not only IDs and phones."""
    masked = mask_numbers_in(text)
    for number in hidden:
        assert number not in masked
    for part in shown:
        assert part in masked


@pytest.mark.parametrize("text", [
    "父亲电话13911113333，母亲电话13722224444",
    "身份证110105194912310021，电话13812345678",
    "85050288909277１23２7920056",  # a full-width digit after an ID: the ID and a phone found across it
])
def test_the_numbers_a_clerk_may_reveal_are_the_parts_the_page_masks(text):
    """Each number is revealed alone by its place in ``numbers_in``: the pieces, masked, read as the page shows
    the text, and never overlap (an overlap would show the same characters twice, or part of a number in full)."""
    rebuilt, at = "", 0
    for start, end, masked in numbers_in(text):
        assert start >= at and masked != text[start:end]
        rebuilt += text[at:start] + masked
        at = end
    assert rebuilt + text[at:] == mask_numbers_in(text)


@pytest.mark.parametrize(("key", "value", "numbers"), [
    ("relatives", "父亲电话13911113333，母亲电话13722224444", ["13911113333", "13722224444"]),
    ("id_number", "E12345678", ["E12345678"]),  # a field named for its number: masked whole, a passport too
    ("employer_name", "示范县东关镇农机站", []),
])
def test_a_field_is_cut_into_masked_numbers_each_revealed_alone_by_its_path(key, value, numbers):
    """The case pages (county and station) show these pieces and reveal one by ``<head>/<n>``."""
    pieces = numbered_pieces(key, value, f"form_values/{key}")
    shown = "".join(text for text, _path in pieces)
    assert [path for _text, path in pieces if path] == [f"form_values/{key}/{n}" for n in range(len(numbers))]
    for n, number in enumerate(numbers):
        assert number not in shown
        assert number_at(key, value, str(n)) == (number, f"第{n + 1}个号码" if len(numbers) > 1 else "号码")
    assert number_at(key, value, str(len(numbers))) is None
    assert number_at(key, value, "00") is None


@pytest.mark.parametrize(("certificate", "shown"), [
    ("11010519491231002X42", "110105**********2X42"),  # a 残疾人证: the holder's ID number and two digits
    ("11010519491231002142", "110105**********2142"),
    ("GLJT-2026-0042", "GLJT-2026-0042"),  # an ordinary certificate stays whole, to match it against the paper
    ("残证13912345678号", "残证139****5678号"),
    ("", ""),
])
def test_a_certificate_number_is_masked_only_where_it_holds_a_personal_number(certificate, shown):
    from rules.privacy import mask_certificate_number

    assert mask_certificate_number(certificate) == shown
