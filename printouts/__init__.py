"""Every paper document a station hands a resident: pure builders, data in, PDF bytes out.

No Flask and no database here (STYLE.md): the station adapts its models to the dataclasses in
:mod:`printouts.data` and calls a builder. Fonts are found once by :mod:`printouts.fonts`.
"""

from printouts.data import (
    CaseDoc,
    DeliveryDoc,
    Handover,
    LedgerRow,
    MaterialLine,
    StationInfo,
    SuppliedLine,
    TransferDoc,
    TransferLine,
)
from printouts.documents import (
    authorization_letter,
    collection_receipt,
    commitment_letter,
    completion_notice,
    deferral_notice,
    delivery_slip,
    notice_missing,
    rejection_notice,
    supplement_notice,
    supplement_receipt,
)
from printouts.fonts import cjk_font, register_cjk_font, reset_font_cache
from printouts.registry import PRINTABLE_DOCUMENTS, PrintableDocument, applicable_documents
from printouts.sheets import ledger, transfer_sheet

__all__ = [
    "PRINTABLE_DOCUMENTS", "CaseDoc", "DeliveryDoc", "Handover", "LedgerRow", "MaterialLine", "PrintableDocument", "StationInfo",
    "SuppliedLine", "TransferDoc", "TransferLine", "applicable_documents", "authorization_letter", "cjk_font", "collection_receipt",
    "commitment_letter", "completion_notice", "deferral_notice", "delivery_slip", "ledger", "notice_missing", "register_cjk_font", "rejection_notice",
    "reset_font_cache", "supplement_notice", "supplement_receipt", "transfer_sheet",
]
