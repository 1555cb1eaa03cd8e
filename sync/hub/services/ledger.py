"""The county's ledger (台账) for a period, all stations or one, as PDF, .xlsx or CSV.

The stations' home visits (上门服务) of the period follow the cases, as in a station's ledger.
Numbers come from the snapshot already masked (the full ID number is never opened for a
ledger); villages print by the names the county set; every export is in the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from printouts.data import LedgerRow, StationInfo
from printouts.ledger_files import ledger_csv, ledger_xlsx
from printouts.sheets import ledger, ledger_pdf_refusal
from rules.labels import HUB_CASE_STATUSES
from rules.periods import Period
from sync.hub.models import HubCase, HubUser, Station
from sync.hub.services import access_log, county_settings, home_visits, personal, workdays
from sync.hub.services.errors import ValidationError

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


def _received(period: Period, station: Station | None) -> Any:
    """The cases received in `period` (China time), all stations or one: a query, not yet read."""
    start, stop = period.bounds()
    query = HubCase.select().where((HubCase.received_time >= start) & (HubCase.received_time < stop))
    return query.where(HubCase.station == station.id) if station is not None else query


def rows(period: Period, station: Station | None = None) -> list[LedgerRow]:
    """The cases received in `period` (China time), oldest first, numbers masked, villages named."""
    query = (_received(period, station).select(HubCase, Station).join(Station)
             .order_by(HubCase.received_time, HubCase.id))
    names = county_settings.area_names()
    out = []
    for case in query:
        applicant = personal.masked_snapshot(case.snapshot, show_address=False).get("applicant") or {}
        out.append(LedgerRow(
            received_at=case.received_time, case_no=case.case_no or case.case_id, item_name=case.item_name or "",
            applicant_name=case.applicant_name or "", applicant_id_number=str(applicant.get("id_number") or ""),
            village=names.get(case.area_code, case.area_code), agent_name=case.agent_name, mode=case.mode or "",
            status_text=HUB_CASE_STATUSES.get(case.status, case.status), statutory_due=case.statutory_due,
            committed_due=case.committed_due, station_name="" if station is not None else case.station.name,
            # a 2027 date counted without that year's holidays carries its * as on the station's ledger (DOMAIN.md)
            statutory_provisional=bool(workdays.provisional_warning(case.received_time, case.statutory_due,
                                                                    counted_on=case.dues_counted_on)),
            committed_provisional=bool(workdays.provisional_warning(case.received_time, case.committed_due,
                                                                    counted_on=case.dues_counted_on)),
            closed_at=case.closed_at,
        ))
    return out


def export(period: Period, fmt: str, user: HubUser, address: str | None, station: Station | None = None) -> LedgerFile:
    """Build the ledger in `fmt` and record who exported what, when."""
    if fmt not in FORMATS:
        raise ValidationError("导出格式只能是 PDF、Excel 或 CSV。")
    refusal = ledger_pdf_refusal(_received(period, station).count()) if fmt == "pdf" else None
    if refusal:  # counted before a single case is read: a county's year would take minutes to read
        raise ValidationError(refusal)
    found = rows(period, station)
    visits = home_visits.rows(period, station)  # the 帮办代办 service the stations gave at residents' homes
    scope = station.name if station is not None else "全县"
    if fmt == "pdf":
        info = StationInfo(name=scope if station is not None else "县级政务服务平台（全县）",
                           code=station.code if station is not None else "COUNTY")
        data = ledger(info, period.start, found, period.end, visits=visits)
    elif fmt == "xlsx":
        data = ledger_xlsx(f"台账 {period.slug}", found, visits)
    else:
        data = ledger_csv(found, visits)
    name, mimetype = FORMATS[fmt]
    access_log.record(user, "ledger", address=address, obj=period.slug,
                      detail=f"导出{scope}{period.label}台账（{name}，{len(found)} 件"
                             + (f"，上门服务 {len(visits)} 次" if visits else "") + "）")
    suffix = f"-{station.code}" if station is not None else ""
    return LedgerFile(data, f"ledger{suffix}-{period.slug}.{fmt}", mimetype, len(found))


__all__ = ["FORMATS", "LedgerFile", "export", "rows"]
