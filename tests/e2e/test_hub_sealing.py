"""What a stolen county server gives away: no resident's ID number, phone or address in its files or tables.

Intakes taken through the station's real intake reach the hub through the real push (with a
scan that carries the ID number in its bytes); then every byte the hub keeps is searched —
on SQLite every file of the instance folder (database, WAL, attachments), on PostgreSQL every
row of every hub table as text, and the stored files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from stdnum.cn import ric

from station.extensions import db
from station.models import Case, User
from station.services import intake
from station.services.attachments import add_attachment
from tests.fixtures.e2e import queue_cases, sync
from tests.fixtures.intake import form_for, item_named, proxy_fields


def _resident_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


APPLICANT_ID = _resident_id("14108119370212406")
PROXY_ID = _resident_id("14108119830517221")
APPLICANT_PHONE = "13977001234"
PROXY_PHONE = "15866002468"
ADDRESS = "示范县东关镇槐树坪村七组甲23号"


def _needles() -> list[bytes]:
    """Each personal value as the bytes it would be stored as: UTF-8, and JSON's \\u escapes."""
    found = []
    for value in (APPLICANT_ID, PROXY_ID, APPLICANT_PHONE, PROXY_PHONE, ADDRESS):
        found.append(value.encode("utf-8"))
        found.append(json.dumps(value).strip('"').encode("ascii"))
    return list(dict.fromkeys(found))


def _intakes_pushed(linked, hub) -> list[str]:
    """Two applications (one by a proxy) and a scan carrying the ID number, pushed to the hub."""
    with linked.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        agent = User.get(User.username == "agent")
        forms = [form_for([item], applicant_id_number=APPLICANT_ID, applicant_phone=APPLICANT_PHONE,
                          applicant_address=ADDRESS),
                 form_for([item], applicant_id_number=APPLICANT_ID, applicant_phone=APPLICANT_PHONE,
                          applicant_address=ADDRESS,
                          **proxy_fields(proxy_id_number=PROXY_ID, proxy_phone=PROXY_PHONE))]
        ids = []
        for data in forms:
            draft = intake.check_input([item], data, dt.date.today())
            [case] = intake.create_cases([item], draft, agent, allow_duplicate=True)
            ids.append(case.id)
        scan = b"%PDF-1.4\n" + f"居民身份证 {APPLICANT_ID} {ADDRESS}".encode() + os.urandom(3000)
        add_attachment(Case.get_by_id(ids[0]), agent, "身份证.pdf", scan, linked.config["ATTACHMENT_DIR"],
                       10 * 1024 * 1024)
    ids += queue_cases(linked, 2)  # other residents alongside
    summary = sync(linked)
    assert not summary.error and summary.acknowledged >= 4 and summary.attachments_uploaded == 1, summary
    return ids


def _files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [f"{path.relative_to(folder)}: {needle!r}" for needle in needles if needle in data]
    return hits


def _rows_holding(hub_app, needles: list[bytes]) -> list[str]:
    """Every row of every table in the hub's schema, as PostgreSQL prints it, searched."""
    from sync.hub.extensions import db as hub_db

    texts = [n.decode("utf-8") for n in needles]
    hits = []
    with hub_app.app_context(), hub_db.connection_context():
        tables = [t for (t,) in hub_db.execute_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
        assert "hub_case" in tables and "hub_event" in tables
        for table in tables:
            for (row,) in hub_db.execute_sql(f'SELECT t::text FROM "{table}" t'):
                hits += [f"{table}: {text}" for text in texts if text in row]
    return hits


def test_no_id_number_phone_or_address_is_kept_in_clear_at_the_hub(linked, hub):
    _intakes_pushed(linked, hub)
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import Event, HubCase

    with hub.app.app_context(), hub_db.connection_context():  # what was pushed is all there
        assert Event.select().count() >= 4 and HubCase.select().count() == 4
    needles = _needles()
    instance = Path(hub.app.instance_path)
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert any(p.parent.parent.name == "attachments" for p in files), "the scan reached the hub's store"
    assert _files_holding(instance, needles) == []
    if hub.app.config.get("DATABASE_URL"):
        assert _rows_holding(hub.app, needles) == []
    else:
        assert any(p.name.endswith("-wal") for p in files) or any(p.suffix == ".sqlite3" for p in files)
