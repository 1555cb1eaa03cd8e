"""Which documents apply to a case, so the station can offer one click per applicable document.

The predicates read only the case's state, so the list on screen and the paper in the tray
cannot disagree about, say, whether a 容缺受理通知书 is due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from printouts.bundle_receipt import TITLE as BUNDLE_RECEIPT_TITLE
from printouts.bundle_receipt import bundle_receipt
from printouts.data import CaseDoc, StationInfo
from printouts.documents import (
    authorization_letter,
    collection_receipt,
    commitment_letter,
    completion_notice,
    deferral_notice,
    delivery_slip,
    notice_missing,
    receipt_title,
    rejection_notice,
    supplement_notice,
    supplement_receipt,
    withdrawal_confirmation,
)


@dataclass(frozen=True)
class PrintableDocument:
    """One entry of :data:`PRINTABLE_DOCUMENTS`."""

    title: str  # Chinese title for the button
    build: Callable[[StationInfo, CaseDoc], bytes]
    applies: Callable[[CaseDoc], bool]


def _has(status: str) -> Callable[[CaseDoc], bool]:
    return lambda case: any(m.status == status for m in case.materials)


def _collected_with(status: str) -> Callable[[CaseDoc], bool]:
    """A material of ``status`` in a case the station took in: a case turned away for a missing essential
    material was collected by no one, so no 容缺 notice says "主要申请材料齐全，现予容缺收件" beside the
    一次性告知书 that says they are not, and no 告知承诺书 is signed for it until she comes back."""
    has = _has(status)
    return lambda case: case.decision != "not_collected" and has(case)


def _receipt_applies(case: CaseDoc) -> bool:
    # A case turned away for missing essential materials gets the 一次性告知书, not a receipt; a
    # collected case may still lack an auxiliary material, and its resident still needs a receipt.
    # A bundle's items share one combined receipt instead (issue 19).
    return case.decision != "not_collected" and case.bundle is None


def _bundle_receipt_applies(case: CaseDoc) -> bool:
    return case.bundle is not None and any(line.decision != "not_collected" for line in case.bundle.items)


PRINTABLE_DOCUMENTS: dict[str, PrintableDocument] = {
    "receipt": PrintableDocument("收件回执/受理凭证（A4）", collection_receipt, _receipt_applies),
    "receipt_roll": PrintableDocument("收件回执/受理凭证（80mm小票）", partial(collection_receipt, layout="roll80"),
                                      _receipt_applies),
    "bundle_receipt": PrintableDocument(BUNDLE_RECEIPT_TITLE, bundle_receipt, _bundle_receipt_applies),
    "notice_missing": PrintableDocument(
        "一次性告知书", notice_missing,
        lambda case: case.decision == "not_collected" or _has("missing")(case)),
    "deferral": PrintableDocument("容缺受理通知书", deferral_notice, _collected_with("deferred")),
    "commitment": PrintableDocument("告知承诺书", commitment_letter, _collected_with("commitment")),
    "authorization": PrintableDocument("代办委托书", authorization_letter, lambda case: case.mode == "proxy"),
    # the county may ask by a description alone, with no material ticked: the resident needs it on paper too
    "supplement": PrintableDocument("补正材料通知书", supplement_notice,
                                    lambda case: bool(case.supplement_items or case.supplement_reason)),
    "rejection": PrintableDocument("不予受理告知书", rejection_notice, lambda case: case.rejected_at is not None),
    "withdrawal": PrintableDocument("撤回申请确认单", withdrawal_confirmation,
                                    lambda case: case.withdrawn_at is not None),
    "completion": PrintableDocument("办结及领取通知书", completion_notice, lambda case: case.result is not None),
    "supplement_receipt": PrintableDocument("补正材料收取凭证", supplement_receipt,
                                            lambda case: case.supplied_at is not None),
    "delivery_slip": PrintableDocument("送达回证", delivery_slip, lambda case: case.delivery is not None),
}


def applicable_documents(case: CaseDoc) -> list[tuple[str, str]]:
    """(key, title) of every document that applies to ``case``, in registry order.

    The receipt's title follows the case (受理凭证 / 代办回执 / 收件回执).
    """
    out = []
    for key, doc in PRINTABLE_DOCUMENTS.items():
        if doc.applies(case):
            title = doc.title
            if key.startswith("receipt"):
                title = receipt_title(case) + ("（80mm小票）" if key == "receipt_roll" else "")
            out.append((key, title))
    return out
