"""From paper to the county's public page: once the county's PUBLIC_URL has come down by sync,
the receipt's QR code scans to ``<PUBLIC_URL>/q/<code>`` and that page shows the case."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from station.extensions import db
from station.models import Case, User
from station.services import paper
from tests.fixtures.e2e import queue_cases, sync

pytestmark = pytest.mark.slow
PUBLIC = "https://zwfw.example.gov.cn/xianji"


def _scan_receipt(app, case_id: str, tmp_path) -> str:
    zbarimg, pdftoppm = shutil.which("zbarimg"), shutil.which("pdftoppm")
    if zbarimg is None or pdftoppm is None:
        pytest.skip("!!! zbarimg or pdftoppm NOT INSTALLED — the receipt's QR code was NOT scanned !!!")
    with app.app_context(), db.connection_context():
        pdf, _title = paper.render(Case.get_by_id(case_id), "receipt", User.get(User.username == "agent"))
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    for old in tmp_path.glob("page*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", tmp_path / "receipt.pdf",
                    tmp_path / "page"], check=True, timeout=60)
    [page] = tmp_path.glob("page*.png")
    scanned = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", page],
                             capture_output=True, timeout=60, check=True)
    return scanned.stdout.decode().strip()


def test_the_receipt_qr_points_at_the_countys_public_page_once_synced(linked, hub, tmp_path):
    from sync.hub.extensions import db as hub_db
    from sync.hub.services import stations as hub_stations

    [case_id] = queue_cases(linked, 1)
    with linked.app_context(), db.connection_context():
        code = Case.get_by_id(case_id).query_code
    assert _scan_receipt(linked, case_id, tmp_path) == f"http://station.local/q?q={code}"  # no public address yet

    with hub.app.app_context(), hub_db.connection_context():
        assert hub_stations.broadcast_public_url(PUBLIC + "/")  # what the hub does at start with PUBLIC_URL
    assert not sync(linked).error
    url = _scan_receipt(linked, case_id, tmp_path)
    assert url == f"{PUBLIC}/q/{code}"

    page = hub.app.test_client().get(url.removeprefix(PUBLIC))
    assert page.status_code == 200 and "高龄津贴申领" in page.get_data(as_text=True)

    with hub.app.app_context(), hub_db.connection_context():
        assert hub_stations.broadcast_public_url("")  # withdrawn: the station's own page again
    assert not sync(linked).error
    assert _scan_receipt(linked, case_id, tmp_path) == f"http://station.local/q?q={code}"
