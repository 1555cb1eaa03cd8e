"""首办核验、接办免收 end to end: a reused material reaches the county with its original verification,
and its file, which the county already holds for this station, is not uploaded again."""

from __future__ import annotations

import datetime as dt

import pytest

from station.extensions import db
from station.models import Case
from tests.fixtures.e2e import sync
from tests.fixtures.hub import logged_in
from tests.fixtures.material_library import SECOND_ITEM, first_visit, kept_ids, lookup, take

pytestmark = pytest.mark.slow


def test_the_second_case_reuses_both_materials_and_the_hub_gets_no_second_upload(linked, hub, faults, agent):
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import AttachmentLink, HubCase

    first = first_visit(linked, agent)
    assert not sync(linked).error
    uploads_after_first = len(faults.uploads)
    assert uploads_after_first == 2  # ID card and 户口簿, once each

    offered = kept_ids(lookup(linked, agent, SECOND_ITEM))
    second = take(linked, agent, SECOND_ITEM, mat__id_card__status="reused", mat__id_card__kept=offered["id_card"],
                  mat__hukou_book__status="reused", mat__hukou_book__kept=offered["hukou_book"])
    summary = sync(linked)
    assert not summary.error and summary.queue_left == 0
    assert len(faults.uploads) == uploads_after_first  # the hub already holds both files for this station

    with linked.app_context(), db.connection_context():
        first_no = Case.get_by_id(first).case_no
    with hub.app.app_context(), hub_db.connection_context():
        case = HubCase.get(HubCase.case_id == second)
        rows = {m["key"]: m for m in case.snapshot["materials"]}
        assert rows["id_card"]["reused"]["case_no"] == first_no
        assert rows["hukou_book"]["reused"]["station_code"] == "ST141081102201"
        linked_files = {a.sha256 for a in AttachmentLink.select().where(AttachmentLink.case_id == second)}
        assert linked_files == {rows["id_card"]["reused"]["sha256"], rows["hukou_book"]["reused"]["sha256"]}

    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    page = clerk.get(f"/cases/{second}").get_data(as_text=True)
    today = dt.date.today().isoformat()
    assert page.count(f"复用 {today} 示范县东关镇东关村便民服务站 核验") == 2
    assert "尚未上传" not in page  # both files are there for the county to open
