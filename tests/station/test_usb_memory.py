"""A big USB bundle never needs its size in memory: written to a file in chunks, read back in chunks.

Twenty cases with a 2 MiB scan each make a 40 MiB bundle; export and opening (every record
checked, every scan read back and hashed) each peak at a few copies of one scan, well under half of that (tracemalloc counts
every Python allocation, the cipher's buffers included).
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest

from station.extensions import db
from station.models import Case, User
from station.services.attachments import add_attachment
from station.services.usb_bundles import export
from station.sync_hooks import station_hooks
from sync.transport import HubLink
from sync.usb_bundle import open_bundle
from tests.fixtures.e2e import queue_cases

pytestmark = pytest.mark.slow

SECRET = "village-secret-0123456789abcdef"
SCAN_BYTES = 2 * 1024 * 1024


def peak_mib(run):  # noqa: ANN001, ANN201
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def test_a_40_mib_bundle_is_exported_and_opened_in_a_fraction_of_its_size(app, tmp_path):
    ids = queue_cases(app, 20)
    digests = set()
    with app.app_context(), db.connection_context():
        HubLink("http://127.0.0.1:9", "ST141081102201", SECRET).save()
        agent = User.get(User.username == "agent")
        for case_id in ids:
            scan = b"%PDF-1.4\n" + os.urandom(SCAN_BYTES).replace(b"/", b"_")
            digests.add(hashlib.sha256(scan).hexdigest())
            add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", scan, app.config["ATTACHMENT_DIR"],
                           10 * 1024 * 1024)
        target = tmp_path / "离线包.bmz"
        with open(target, "wb") as out:
            made, export_peak = peak_mib(lambda: export(out, station_hooks(app)))
    size_mib = target.stat().st_size / 1024 / 1024
    assert made.files == 20 and size_mib > 40

    def read_back() -> set[str]:
        with open(target, "rb") as src:
            opened = open_bundle(src, SECRET)
            lengths = [b["length"] for b in opened.content["batches"]] + [f["length"] for f in opened.content["files"]]
            return {hashlib.sha256(p).hexdigest() for p in opened.iter_parts(lengths)}

    found, open_peak = peak_mib(read_back)
    assert digests <= found  # every scan came back whole
    print(f"bundle {size_mib:.1f} MiB: export peak {export_peak:.1f} MiB, open peak {open_peak:.1f} MiB")
    # bounded by a few copies of the largest scan (read, opened from its seal, cut into records), not by the bundle
    bound = 8 * SCAN_BYTES / 1024 / 1024
    assert export_peak < bound < size_mib / 2, export_peak
    assert open_peak < bound, open_peak
