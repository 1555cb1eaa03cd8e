"""Issue 11's check: after real intakes, an uploaded scan and a sync, no resident's number or address is on disk.

Every byte of every file the station keeps — the instance folder (key ring, secret), the database,
its WAL and shared-memory files, the attachment folder — is searched like ``grep -a`` for each ID
number, phone and address the intakes used (UTF-8 and the JSON-escaped form), and for the hub
secret.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

from flask import Flask

from rules.privacy import mask_phone
from station.extensions import db
from station.models import Case
from station.samples import complete_form
from station.services import personal
from sync import state as sync_state
from sync.hub.services.attachments import blob_path as hub_blob_path
from sync.hub.services.attachments import read_plain
from tests.fixtures.e2e import assert_exactly_once, sync
from tests.fixtures.intake import item_named, proxy_fields
from tests.fixtures.scans import pdf_bytes
from tests.fixtures.station import StationClient

APPLICANT_IDS = ["11010519491231002X", "141081195603150028", "141081197204050010"]
PROXY_ID = "141081199001010018"
PHONES = ["13912340001", "13912340002", "13912340003", "13800000001"]
ADDRESSES = ["示范县东关镇东关村三组12号", "示范县西河乡西河村五组7号", "示范县城关镇幸福路88号", "示范县北坡村二组3号"]
MAILING = "太原市小店区北格镇张花村九组17号"
NOTE_PHONE = "13512349876"


def _intake(app: Flask, agent: StationClient, item_name: str, data: dict[str, str]) -> str:
    with app.app_context(), db.connection_context():
        item = item_named(item_name)
        form = complete_form([item], data.pop("applicant_id_number"), **data)
    response = agent.post(f"/intake/item/{item.id}", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 302, [line for line in page.splitlines() if "error" in line or "duplicate" in line]
    return response.headers["Location"].rstrip("/").split("/")[-1].split("?")[0]


def station_files(app: Flask) -> list[Path]:
    """Every file the station keeps: instance folder, database with WAL and -shm, attachments."""
    database = Path(app.config["DATABASE"])
    roots = [Path(app.instance_path), Path(app.config["ATTACHMENT_DIR"])]
    files = {p for root in roots for p in root.rglob("*") if p.is_file()}
    files |= {p for p in database.parent.iterdir() if p.name.startswith(database.name)}
    return sorted(files)


def findings(files: list[Path], needles: list[str]) -> list[str]:
    found = []
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            forms = {needle.encode("utf-8"), json.dumps(needle)[1:-1].encode("ascii")}
            if any(form in data for form in forms):
                found.append(f"{needle} in {path.name}")
    return found


def test_no_number_phone_address_or_secret_in_any_station_file(app, agent, linked, hub):
    first = _intake(app, agent, "高龄津贴申领", {
        "applicant_id_number": APPLICANT_IDS[0], "applicant_phone": PHONES[0], "applicant_address": ADDRESSES[0]})
    _intake(app, agent, "居民户口迁移", {
        "applicant_id_number": APPLICANT_IDS[1], "applicant_phone": PHONES[1], "applicant_address": ADDRESSES[1],
        "field__move_in_address": ADDRESSES[3], **proxy_fields(proxy_id_number=PROXY_ID, proxy_phone=PHONES[3])})
    _intake(app, agent, "社会保障卡申领", {
        "applicant_id_number": APPLICANT_IDS[2], "applicant_phone": PHONES[2], "applicant_address": ADDRESSES[2],
        "field__mailing_address": MAILING})
    # an ID-card scan whose content carries the number, uploaded through the case page
    scan = pdf_bytes(extra_objects=f"4 0 obj ({APPLICANT_IDS[0]} {ADDRESSES[0]}) endobj\n".replace(
        ADDRESSES[0], ADDRESSES[0].encode("utf-8").hex()) + f"% {APPLICANT_IDS[0]}\n")
    upload = agent.post(f"/cases/{first}/attachments", {"file": (io.BytesIO(scan), "身份证.pdf", "application/pdf")},
                        content_type="multipart/form-data")
    assert upload.status_code == 302
    # a staff note with a phone number in it (free text is sealed too)
    note = agent.post(f"/cases/{first}/notes", {"text": f"申请人另留电话{NOTE_PHONE}"})
    assert note.status_code == 302
    summary = sync(linked)
    assert not summary.error and summary.attachments_uploaded == 1
    assert_exactly_once(linked, hub)

    with app.app_context(), db.connection_context():
        cases = list(Case.select())
        assert sorted(personal.applicant_id_number(c) for c in cases) == sorted(APPLICANT_IDS)  # all still open
        secret = sync_state.get_value(sync_state.SECRET)
    assert len(secret) >= 16
    needles = [*APPLICANT_IDS, PROXY_ID, *PHONES, *ADDRESSES, MAILING, NOTE_PHONE, secret]
    files = station_files(app)
    assert any(p.name.endswith("-wal") for p in files) and any(p.stat().st_size > 1000 for p in files)
    assert findings(files, needles) == []
    # the hub received the scan as it was scanned (same bytes, same SHA-256)
    with hub.app.app_context():  # the hub keeps it sealed too: opened, it is the file the station scanned
        stored = hub_blob_path(hub.app.config["ATTACHMENT_DIR"], hashlib.sha256(scan).hexdigest())
        assert read_plain(stored) == scan
    page = agent.get(f"/cases/{first}").get_data(as_text=True)  # the note reads back, its number masked on screen
    assert NOTE_PHONE not in page and mask_phone(NOTE_PHONE) in page
    [path] = re.findall(r'name="path" value="(timeline/[^"]+)"', page)
    shown = agent.post(f"/cases/{first}/reveal/number", {"path": path, "reason": "contact_resident"})
    assert NOTE_PHONE in shown.get_data(as_text=True)  # and opens in full on a reason
    # and staff still download the plain scan
    with app.app_context(), db.connection_context():
        attachment = Case.get_by_id(first).attachments.get()
    assert agent.get(f"/cases/{first}/attachments/{attachment.id}").data == scan
