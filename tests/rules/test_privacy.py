"""Masking: what a screen, a list, a log or a paper shows of a personal number."""

from __future__ import annotations

import pytest

from rules.privacy import mask_id_number, mask_phone


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
        ("0351-1234567", "035*-***4567"),
        ("123456", "******"),  # too short to be a number worth half-showing
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_number_hides_its_middle_digits(phone, shown):
    assert mask_phone(phone) == shown
