"""Which documents apply to which case state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from printouts import PRINTABLE_DOCUMENTS, applicable_documents
from printouts.data import DeliveryDoc, MaterialLine
from printouts.samples import sample_bundle_case, sample_case

PROVIDED = (MaterialLine("居民身份证", "original_and_copy", 1, "provided"),)


def _keys(**changes: object) -> set[str]:
    base = sample_case(materials=PROVIDED, mode="assisted", supplement_items=(), supplement_reason="", result=None,
                       decision="collected")
    return {k for k, _ in applicable_documents(replace(base, **changes))}  # type: ignore[arg-type]


def test_registry_keys_and_titles() -> None:
    assert set(PRINTABLE_DOCUMENTS) == {"receipt", "receipt_roll", "notice_missing", "deferral", "commitment",
                                        "authorization", "supplement", "completion", "supplement_receipt",
                                        "delivery_slip", "bundle_receipt", "rejection", "withdrawal"}
    for doc in PRINTABLE_DOCUMENTS.values():
        assert doc.title and callable(doc.build) and callable(doc.applies)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, {"receipt", "receipt_roll"}),
    ({"decision": "not_collected"}, {"notice_missing"}),
    # collected with an auxiliary material missing: a receipt, and the notice lists what to bring
    ({"materials": (*PROVIDED, MaterialLine("照片", status="missing"))}, {"receipt", "receipt_roll", "notice_missing"}),
    ({"materials": (*PROVIDED, MaterialLine("社保卡", status="deferred"))}, {"receipt", "receipt_roll", "deferral"}),
    ({"materials": (*PROVIDED, MaterialLine("承诺", status="commitment"))},
     {"receipt", "receipt_roll", "commitment"}),
    ({"mode": "proxy"}, {"receipt", "receipt_roll", "authorization"}),
    # turned away: only the one-time notice (and the proxy's letter), never a 容缺 notice or a 告知承诺书 that
    # would say the case was taken in while the notice beside it says it was not
    ({"decision": "not_collected", "mode": "proxy", "materials": (
        MaterialLine("鉴定报告", status="missing"), MaterialLine("社保卡", status="deferred"),
        MaterialLine("承诺", status="commitment"))}, {"notice_missing", "authorization"}),
    ({"supplement_items": ("复印件不清晰",)}, {"receipt", "receipt_roll", "supplement"}),
    ({"supplement_reason": "请补充居住证明"}, {"receipt", "receipt_roll", "supplement"}),  # asked by words alone
    ({"rejected_at": datetime(2025, 3, 10, 9, 0)}, {"receipt", "receipt_roll", "rejection"}),
    ({"withdrawn_at": datetime(2025, 3, 10, 9, 0)}, {"receipt", "receipt_roll", "withdrawal"}),
    ({"result": "approved"}, {"receipt", "receipt_roll", "completion"}),
    ({"result": "denied"}, {"receipt", "receipt_roll", "completion"}),
    ({"supplied_at": datetime(2025, 3, 11, 9, 0)}, {"receipt", "receipt_roll", "supplement_receipt"}),
    ({"result": "approved", "delivery": DeliveryDoc("post", date(2025, 3, 14), ems_no="EA123456789CN")},
     {"receipt", "receipt_roll", "completion", "delivery_slip"}),
])
def test_predicates(changes: dict, expected: set[str]) -> None:
    assert _keys(**changes) == expected


def test_a_bundles_items_share_one_combined_receipt_instead_of_one_each() -> None:
    """Issue 19: the 新生儿出生 bundle once printed five receipts; its items now offer the one."""
    bundle = sample_bundle_case().bundle
    assert _keys(bundle=bundle) == {"bundle_receipt"}
    assert _keys(bundle=bundle, decision="not_collected") == {"bundle_receipt", "notice_missing"}


def test_receipt_title_in_listing() -> None:
    titles = dict(applicable_documents(sample_case(materials=PROVIDED, decision="accepted")))
    assert titles["receipt"] == "受理凭证"
    assert titles["receipt_roll"].startswith("受理凭证")
