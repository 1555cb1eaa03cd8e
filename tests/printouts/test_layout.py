"""Small pure helpers: QR content, deadline wording, date format."""

from __future__ import annotations

from datetime import date, datetime

from printouts.layout import QRCode, deadline_text, query_url
from printouts.text import clean, fmt_date, fmt_datetime


def test_query_url() -> None:
    assert query_url("https://zwfw.example.gov.cn/q", "K7Q4-9MZD") == "https://zwfw.example.gov.cn/q?q=K7Q4-9MZD"
    assert query_url("https://x.cn/q?s=1", "AB") == "https://x.cn/q?s=1&q=AB"
    assert query_url("", "AB") == "AB"  # no progress page configured: the code itself


def test_qr_matrix_has_finder_patterns() -> None:
    qr = QRCode("https://zwfw.example.gov.cn/q?q=K7Q4-9MZD", 80)
    n = qr.count
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):  # three 7x7 finders, dark outer ring
        assert all(qr.modules[r][c + i] for i in range(7))
        assert all(qr.modules[r + i][c] for i in range(7))


def test_deadline_text() -> None:
    assert deadline_text("20个工作日", date(2025, 4, 2), False, "") == "20个工作日，至2025年4月2日"
    assert deadline_text("", date(2027, 1, 5), True, "缺少2027年节假日数据") == "至2027年1月5日（暂定：缺少2027年节假日数据）"
    assert deadline_text("5个工作日", None, True, "x") == "5个工作日"  # no date, nothing provisional to flag


def test_dates_and_clean() -> None:
    assert fmt_date(date(2025, 3, 5)) == "2025年3月5日"
    assert fmt_datetime(datetime(2025, 3, 5, 9, 4)) == "2025年3月5日 09:04"
    assert fmt_date(None) == "" and fmt_datetime(None) == ""
    assert clean("a\x00b\nc") == "a b c"
    assert clean(None) == ""
