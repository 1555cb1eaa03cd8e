"""免证办 end to end: a county completion that issues a 残疾人证 satisfies a later case's material
without paper; with the county down the agent sees that the check could not be made."""

from __future__ import annotations

import re

import pytest

from station.extensions import db
from station.models import AccessLog, Case, CaseMaterial, LicenceCheck
from tests.fixtures.e2e import sync
from tests.fixtures.hub import logged_in
from tests.fixtures.intake import GOOD_ID
from tests.fixtures.material_library import lookup, take

pytestmark = pytest.mark.slow

CARD_ITEM, ALLOWANCE_ITEM = "残疾人证办理", "困难残疾人生活补贴"
CERTIFICATE = GOOD_ID + "42"  # a 残疾人证 number is the holder's ID number and two digits
CONSENT = {"library_consent": "1", "mat__id_card__valid_until": "2036-05-01",
           "mat__guardian_id_card__valid_until": "2036-05-01"}


def _county_completes(hub, case_id: str) -> None:  # noqa: ANN001
    from sync.hub.services import decisions

    with hub.app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="县级张")
        decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved",
                                                          certificate_no=CERTIFICATE), clerk="县级张")


def test_a_licence_the_county_issued_satisfies_a_later_case_without_paper(linked, hub, agent):
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubAccessLog, HubCase
    from sync.hub.services import personal

    card_case = take(linked, agent, CARD_ITEM)
    assert not sync(linked).error
    _county_completes(hub, card_case)

    page = lookup(linked, agent, ALLOWANCE_ITEM, **CONSENT)
    assert "电子证照（县级证照库已查到）" in page and "示范县残疾人联合会" in page
    assert CERTIFICATE not in page and "110105**********2X42" in page  # the number holds her ID number: masked
    check_id = re.search(r'name="mat__disability_cert__check" value="(\w+)"', page).group(1)
    case_id = take(linked, agent, ALLOWANCE_ITEM, **CONSENT, mat__disability_cert__status="licensed",
                   mat__disability_cert__check=check_id)
    with linked.app_context(), db.connection_context():
        material = CaseMaterial.get((CaseMaterial.case == case_id) & (CaseMaterial.key == "disability_cert"))
        assert (material.status, material.e_license_no) == ("e_license", CERTIFICATE)
        assert material.origin["licence"]["issuer"] == "示范县残疾人联合会"
        assert Case.get_by_id(case_id).decision in ("collected", "accepted")
        logged = [e.detail for e in AccessLog.select().where(AccessLog.action == "licence_lookup")]
        assert "查询电子证照「残疾人证」：有；理由：收件核验材料：困难残疾人生活补贴" in "\n".join(logged)
    assert not sync(linked).error
    with hub.app.app_context(), hub_db.connection_context():
        stored = HubCase.get(HubCase.case_id == case_id).snapshot
        assert CERTIFICATE not in str(stored)  # the licence number holds her ID number: sealed at rest
        row = {m["key"]: m for m in personal.open_snapshot(stored)["materials"]}["disability_cert"]
        assert row["licence"]["number"] == CERTIFICATE and row["status"] == "e_license"
        asked = HubAccessLog.select().where(HubAccessLog.action == "licence_lookup")
        assert {e.actor_name for e in asked} == {"ST141081102201 王代办"}
    clerk = logged_in(hub.app, "county-clerk", "approver", "县级窗口")
    county_page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "电子证照：残疾人证 110105**********2X42，示范县残疾人联合会" in county_page


def test_with_the_county_down_the_check_says_so_and_paper_is_collected(linked, hub, faults, agent):
    faults.down = True
    page = lookup(linked, agent, ALLOWANCE_ITEM, **CONSENT)
    assert "无法连接县级平台，未能查询电子证照：请按纸质材料收取。" in page
    assert "未能查询电子证照（无法连接县级平台" in page and 'value="licensed"' not in page
    case_id = take(linked, agent, ALLOWANCE_ITEM, **CONSENT)  # the card handed in on paper
    with linked.app_context(), db.connection_context():
        assert CaseMaterial.get((CaseMaterial.case == case_id) & (CaseMaterial.key == "disability_cert")).status \
            == "provided"
        assert LicenceCheck.get().outcome == "unreachable"


def test_a_licence_lookup_without_her_consent_asks_nothing(linked, hub, agent):
    from sync.hub.extensions import db as hub_db
    from sync.hub.models import HubAccessLog

    page = lookup(linked, agent, ALLOWANCE_ITEM)
    assert "申请人未同意查询电子证照" in page and 'value="licensed"' not in page
    with linked.app_context(), db.connection_context():
        assert LicenceCheck.select().count() == 0 and not AccessLog.select().where(
            AccessLog.action == "licence_lookup").exists()
    with hub.app.app_context(), hub_db.connection_context():
        assert not HubAccessLog.select().where(HubAccessLog.action == "licence_lookup").exists()
