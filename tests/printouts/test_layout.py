"""Small pure helpers: QR content, deadline wording, date format."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime

import pytest

from printouts import collection_receipt
from printouts.layout import QRCode, deadline_text, query_url
from printouts.samples import sample_case, sample_station
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


NO_ZBAR = ("!!! zbar-tools (zbarimg) or poppler-utils NOT INSTALLED — the receipt QR codes are NOT being scanned. "
           "Install them: apt-get install zbar-tools poppler-utils !!!")


@pytest.mark.parametrize("layout", ["a4", "roll80"])
def test_the_printed_qr_scans_to_the_residents_progress_page(layout: str, tmp_path) -> None:
    """What a resident's phone does with the paper: rasterise the PDF as a printer would, scan it."""
    zbarimg, pdftoppm = shutil.which("zbarimg"), shutil.which("pdftoppm")
    if zbarimg is None or pdftoppm is None:
        pytest.skip(NO_ZBAR)
    station, case = sample_station(), sample_case()
    (tmp_path / "receipt.pdf").write_bytes(collection_receipt(station, case, layout=layout))
    subprocess.run([pdftoppm, "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", tmp_path / "receipt.pdf",
                    tmp_path / "page"], check=True, timeout=60)
    [page] = tmp_path.glob("page*.png")
    scanned = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", page],
                             capture_output=True, timeout=60)
    assert scanned.returncode == 0, scanned.stderr
    assert scanned.stdout.decode().strip() == query_url(station.query_url_base, case.query_code)
