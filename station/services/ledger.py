"""The ledger (台账) for a period, as PDF, .xlsx or CSV — and who took it, when.

The period's home visits (上门服务) are part of it in every format. A ledger carries every resident of the period (names, masked ID numbers): each export is
recorded in the access log with the user, the address, the period, the format and the count,
like printing a receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

from printouts.ledger_files import ledger_csv, ledger_xlsx
from printouts.sheets import ledger, ledger_pdf_refusal
from rules.periods import Period
from station.models import User
from station.services import access_log, home_visits, paper
from station.services.errors import DomainError

#: format → (what the user calls it, MIME type)
FORMATS = {
    "pdf": ("PDF", "application/pdf"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("CSV", "text/csv; charset=utf-8"),
}


@dataclass(frozen=True)
class LedgerFile:
    data: bytes
    filename: str
    mimetype: str
    count: int


def export(period: Period, fmt: str, user: User, address: str | None) -> LedgerFile:
    """Build the period's ledger in `fmt` and record the export in the access log."""
    if fmt not in FORMATS:
        raise DomainError("导出格式只能是 PDF、Excel 或 CSV。")
    rows = paper.ledger_rows(period.start, period.end)
    refusal = ledger_pdf_refusal(len(rows)) if fmt == "pdf" else None
    if refusal:
        raise DomainError(refusal)
    visits = home_visits.ledger_rows(period.start, period.end)  # the 帮办代办 service outside the station
    info = paper.station_info()
    if fmt == "pdf":
        data = ledger(info, period.start, rows, period.end, visits=visits)
    elif fmt == "xlsx":
        data = ledger_xlsx(f"台账 {period.slug}", rows, visits)
    else:
        data = ledger_csv(rows, visits)
    name, mimetype = FORMATS[fmt]
    access_log.record("ledger", user=user, address=address, obj=period.slug,
                      detail=f"导出{period.label}台账（{name}，{len(rows)} 件"
                             + (f"，上门服务 {len(visits)} 次" if visits else "") + "）")
    return LedgerFile(data, f"ledger-{period.slug}.{fmt}", mimetype, len(rows))
