"""The material library under retention and in backups: kept materials past their validity leave
with their files, a purged case's scan comes back from the kept copy, a backup carries the library."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from station import create_app
from station.extensions import db
from station.models import AccessLog, Attachment, Case, KeptMaterial
from station.services import attachments, backups, retention
from sync.outbox import OutboxEvent
from tests.fixtures.config import station_test_config
from tests.fixtures.material_library import ID_SCAN, SECOND_ITEM, first_visit, kept_ids, lookup, take


def test_a_purge_deletes_kept_materials_past_their_validity_with_their_files(app, agent):
    first_visit(app, agent)
    root = app.config["ATTACHMENT_DIR"]
    with app.app_context(), db.connection_context():
        hukou = KeptMaterial.get(KeptMaterial.key == "hukou_book")
        KeptMaterial.update(valid_until=dt.date.today()).where(KeptMaterial.id == hukou.id).execute()
        id_card = KeptMaterial.get(KeptMaterial.key == "id_card")
        tomorrow = dt.date.today() + dt.timedelta(days=1)
        assert retention.purge_library(root, tomorrow, dry_run=True) == retention.LibraryPurge(1, 0)
        assert Path(root, "library", hukou.id).exists()  # a dry run deletes nothing
        assert retention.purge_library(root, tomorrow) == retention.LibraryPurge(1, 0)
        assert [k.key for k in KeptMaterial.select()] == ["id_card"]
        assert "删除过期的已核验材料 1 份" in AccessLog.get(AccessLog.action == "library_purge").detail
    assert not Path(root, "library", hukou.id).exists() and Path(root, "library", id_card.id).exists()


def test_a_reuse_after_the_first_case_was_purged_brings_its_scan_back(app, agent):
    first = first_visit(app, agent)
    root = app.config["ATTACHMENT_DIR"]
    with app.app_context(), db.connection_context():  # closed years ago and acknowledged: retention takes it
        Case.update(status="completed", closed_at=dt.datetime(2020, 1, 1)).where(Case.id == first).execute()
        OutboxEvent.update(state="acked").execute()
        assert [c.case_id for c in retention.purge(24, root)] == [first]
        sha256 = KeptMaterial.get(KeptMaterial.key == "id_card").sha256
        assert not attachments.blob_path(root, sha256).exists()
    offered = kept_ids(lookup(app, agent, SECOND_ITEM))
    second = take(app, agent, SECOND_ITEM, mat__id_card__status="reused", mat__id_card__kept=offered["id_card"])
    with app.app_context(), db.connection_context():
        assert Attachment.select().where((Attachment.case == second) & (Attachment.sha256 == sha256)).exists()
        assert attachments.read_blob(root, sha256) == ID_SCAN


def test_a_backup_carries_the_library_and_a_restore_brings_it_back(app, agent, tmp_path):
    first_visit(app, agent)
    with app.app_context(), db.connection_context():
        kept = {k.id for k in KeptMaterial.select()}
        made = backups.backup_station(app, str(tmp_path / "usb"))
    assert {p.name for p in (made.attachments / "library").iterdir()} == kept
    restored = tmp_path / "restored"
    backups.restore(str(made.database), str(restored))
    again = create_app(station_test_config(restored), instance_path=str(restored))
    assert {p.name for p in Path(again.config["ATTACHMENT_DIR"], "library").iterdir()} == kept
    with again.app_context(), db.connection_context():
        from station.services import material_library

        for row in KeptMaterial.select():
            assert material_library.read_kept(again.config["ATTACHMENT_DIR"], row) is not None


def test_after_a_key_rotation_her_library_is_still_found_and_opens(app, agent):
    from station import keys
    from station.models import LicenceCheck, ResidentConsent
    from station.services import protection

    first_visit(app, agent)
    lookup(app, agent, SECOND_ITEM)  # a licence check (the link is down: unreachable, still stored)
    root = app.config["ATTACHMENT_DIR"]
    with app.app_context(), db.connection_context():
        assert LicenceCheck.select().count() >= 1
        old_index = ResidentConsent.get().resident_index
        files = {p: p.read_bytes()[:12] for p in Path(root, "library").iterdir()}
        protection.rotate_key(root)
        ring = keys.ring()
        assert len(ring.keys) == 1 and ResidentConsent.get().resident_index != old_index
        assert {c.resident_index for c in LicenceCheck.select()} == {ResidentConsent.get().resident_index}
        assert all(p.read_bytes()[:12] != head for p, head in files.items())  # sealed again under the new key
    page = lookup(app, agent, SECOND_ITEM)
    assert page.count('value="reused"') == 2
    offered = kept_ids(page)
    take(app, agent, SECOND_ITEM, mat__id_card__status="reused", mat__id_card__kept=offered["id_card"])
