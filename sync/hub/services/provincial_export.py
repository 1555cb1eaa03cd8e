"""Cases for the provincial platform as JSON and CSV, with the national standard's 办件 field
names and code values (GB/T 39046-2020; ../shared/DOMAIN.md).

One table (FIELDS) maps our columns to the standard's: a province whose platform spells a
field differently changes that table, nothing else. Date-times are ``YYYYMMDDThhmmss`` and
dates ``YYYYMMDD`` (GB/T 7408, basic format). A time limit leaves as its number and its unit (a
bare 1 is one working day for one item and one hour for another), taken from the catalog version
the case was taken under. 申报地, 受理地 and 办结地 are three fields, as 跨域办 needs: a case taken
here for another county is received here and accepted and concluded there. The field names follow the 办件 exchange
vocabulary common to provincial platforms (unverified against the standard's own text:
change them here when the province confirms). Personal numbers leave masked, as on paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from rules.periods import Period
from sync.hub.models import CatalogVersion, Decision, HubCase, HubHomeVisit, HubUser, Station
from sync.hub.services import catalog, export_files, personal, stations
from sync.hub.services.tally import CLOSED

#: 办件类型 (A.6) from the catalog item's kind
INFO_TYPES = {"instant": "1", "committed": "2"}
#: 服务对象 (A.4) from the applicant's kind
APPLYER_TYPES = {"person": "1", "enterprise": "2"}
#: 办件状态 as the evaluation standard counts it: 1 待受理, 2 已受理, 3 已办结. It has no code for a case the
#: applicant withdrew (撤回申请): such a case is not exported at all (see :func:`rows`); add its code here
#: when the province's own table names one, and take it out of NOT_EXPORTED.
HANDLE_STATES = {"submitted": "1", "supplement": "1", "accepted": "2", "completed": "3",
                 "rejected": "3", "delivered": "3"}
#: Statuses not sent to the province: never collected (on record only), withdrawn (no code for it).
NOT_EXPORTED = ("not_collected", "withdrawn")
#: 申报来源 (A.5): a station's counter is a 窗口; a case taken at her home on a 上门服务 visit came by
#: none of 窗口/电脑端/移动端/快递, so 9 其他 (the visit itself is in the county's 上门服务 records)
APPLY_FROM_WINDOW = "1"
APPLY_FROM_HOME_VISIT = "9"
#: 证件类型 of an enterprise's 统一社会信用代码: GA/T 2000.156 has none for it, so 990 其他 (unverified against
#: the province's code table: change it here when it names one). The code itself is no personal number
#: and leaves whole (APPLYERTYPE 2 says it is an enterprise's).
ENTERPRISE_CERT_TYPE = "990"
#: 办理结果
RESULTS = {"approved": "1", "denied": "2"}
#: 办结时限单位 from a catalog limit's unit (unverified against the standard's code table: change it
#: here when the province confirms)
LIMIT_UNITS = {"working_days": "1", "natural_days": "2", "hours": "3"}


def stamp(value: dt.datetime | None) -> str:
    """GB/T 7408 basic format: 20261103T093400."""
    return value.strftime("%Y%m%dT%H%M%S") if value else ""


def day(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


@dataclass(frozen=True)
class Row:
    case: HubCase
    applicant: dict[str, Any]
    item: dict[str, Any]
    result: str
    county: str = ""  # this county's 6-digit code (AREA_CODE): 受理地 of the cases it handles itself
    home_visit: bool = False  # taken at her home on a 上门服务 visit

    @property
    def enterprise(self) -> bool:
        return self.applicant.get("kind") == "enterprise"

    @property
    def accepted_in(self) -> str:
        """受理地: the county that handles the case — another one for a 跨域办 case taken here."""
        return self.case.handling_area or self.county

    def limit(self, name: str) -> tuple[str, str]:
        """(number, unit code) of the item's ``statutory_limit`` or ``committed_limit``; blank when unknown."""
        limit = self.item.get(name)
        if not isinstance(limit, dict) or limit.get("value") is None:
            return "", ""
        return str(limit["value"]), LIMIT_UNITS.get(str(limit.get("unit") or ""), "")


#: (standard field name, what it holds, value)
FIELDS: list[tuple[str, str, Callable[[Row], str]]] = [
    ("PROJID", "办件编号（平台）", lambda r: r.case.hub_case_no or r.case.case_no or ""),
    ("SBLSH", "申办流水号（服务站编号）", lambda r: r.case.case_no or ""),
    ("PROJPWD", "查询码", lambda r: r.case.query_code or ""),
    ("SERVICECODE", "事项编码", lambda r: r.case.item_code or ""),
    ("IMPLEMENTCODE", "实施编码", lambda r: r.case.impl_code or ""),
    ("SERVICENAME", "事项名称", lambda r: r.case.item_name or ""),
    ("SERVICETYPE", "事项类型（A.1）", lambda r: str(r.item.get("item_type") or "")),
    ("INFOTYPE", "办件类型（A.6）", lambda r: INFO_TYPES.get(str(r.item.get("kind") or ""), "9")),
    ("APPLYERTYPE", "服务对象（A.4）", lambda r: APPLYER_TYPES.get(str(r.applicant.get("kind") or "person"), "6")),
    ("APPLYERNAME", "申请人名称", lambda r: r.case.applicant_name or ""),
    ("APPLYERPAGETYPE", "申请人证件类型", lambda r: ENTERPRISE_CERT_TYPE if r.enterprise
     else str(r.applicant.get("cert_type") or "")),
    ("APPLYERPAGECODE", "申请人证件号码（个人已遮蔽；企业为统一社会信用代码）", lambda r: str(r.applicant.get("id_number") or "")),
    ("APPLYFROM", "申报来源（A.5）", lambda r: APPLY_FROM_HOME_VISIT if r.home_visit else APPLY_FROM_WINDOW),
    ("HANDLEMODE", "帮办/代办", lambda r: {"assisted": "帮办", "proxy": "代办"}.get(r.case.mode or "", "")),
    ("APPLYAREACODE", "申报地区划代码（收件地）", lambda r: r.case.received_area or r.case.area_code or ""),
    ("ACCEPTAREACODE", "受理地区划代码（办理地）", lambda r: r.accepted_in),
    ("TRANSACTAREACODE", "办结地区划代码", lambda r: r.accepted_in if r.case.status in CLOSED else ""),
    ("RECEIVEDEPTCODE", "受理服务站编码", lambda r: stations.receiving_station_code(r.case.station, r.case.snapshot or {})),
    ("RECEIVEDEPTNAME", "受理服务站名称", lambda r: stations.receiving_station_name(r.case.station, r.case.snapshot or {})),
    ("RECEIVETIME", "收件时间", lambda r: stamp(r.case.received_time)),
    ("ANTICIPATEDAY", "法定办结时限", lambda r: r.limit("statutory_limit")[0]),
    ("ANTICIPATETYPE", "法定办结时限单位（1工作日 2自然日 3小时）", lambda r: r.limit("statutory_limit")[1]),
    ("PROMISEDAY", "承诺办结时限", lambda r: r.limit("committed_limit")[0]),
    ("PROMISETYPE", "承诺办结时限单位（1工作日 2自然日 3小时）", lambda r: r.limit("committed_limit")[1]),
    ("STATUTORYDATE", "法定办结日期", lambda r: day(r.case.statutory_due)),
    ("PROMISEDATE", "承诺办结日期", lambda r: day(r.case.committed_due)),
    ("HANDLESTATE", "办件状态（1待受理 2已受理 3已办结）", lambda r: HANDLE_STATES.get(r.case.status, "1")),
    ("TRANSACTTIME", "办结时间", lambda r: stamp(r.case.closed_at)),
    ("TRANSACTRESULT", "办理结果（1准予 2不予）", lambda r: r.result),
]


def _items(versions: set[str]) -> dict[str | None, dict[str, dict[str, Any]]]:
    """The items of each catalog version named, by implementation code; under None the newest version's
    (for a case whose version the county no longer holds). A limit is the one the case was taken under."""
    head = catalog.current()
    wanted = set(versions) | ({head.version} if head is not None else set())
    found: dict[str | None, dict[str, dict[str, Any]]] = {}
    for version in CatalogVersion.select().where(CatalogVersion.version.in_(list(wanted) or [""])):
        body = version.body or {}
        found[version.version] = {str(i.get("impl_code")): i for i in body.get("items") or [] if isinstance(i, dict)}
    found[None] = found.get(head.version, {}) if head is not None else {}
    return found


def rows(period: Period, station: Station | None = None) -> list[Row]:
    """The 办件 received in `period`. An application never collected (一次性告知, on record only) is none:
    sent as 待受理 it stayed pending at the province for good, and the case taken when the resident
    came back with the materials made it two. Nor is one the applicant withdrew: the standard's 办件状态 has
    no code for it, and the fallback 待受理 would leave it pending at the province for good."""
    start, stop = period.bounds()
    query = (HubCase.select(HubCase, Station).join(Station)
             .where((HubCase.received_time >= start) & (HubCase.received_time < stop)
                    & HubCase.status.not_in(NOT_EXPORTED))
             .order_by(HubCase.received_time, HubCase.id))
    if station is not None:
        query = query.where(HubCase.station == station.id)
    cases = list(query)
    results = {case_id: result for case_id, result in Decision.select(Decision.case, Decision.result)
               .where((Decision.kind == "completed") & Decision.case.in_([c.id for c in cases] or [0])).tuples()}
    items = _items({c.catalog_version for c in cases if c.catalog_version})
    county = str(current_app.config.get("AREA_CODE") or "")
    visited = _taken_on_visits({c.station_id for c in cases})
    out = []
    for case in cases:
        applicant = personal.masked_snapshot(case.snapshot, show_address=False).get("applicant") or {}
        if applicant.get("kind") == "enterprise":  # a 统一社会信用代码 is public, not a person's number
            opened = personal.open_snapshot(case.snapshot).get("applicant") or {}
            applicant = {**applicant, "id_number": str(opened.get("id_number") or "")}
        result = RESULTS.get(results.get(case.id) or "", "2" if case.status == "rejected" else "")
        item = (items.get(case.catalog_version) or items[None]).get(case.impl_code or "", {})
        out.append(Row(case, applicant, item, result, county, (case.station_id, case.case_no) in visited))
    return out


def _taken_on_visits(station_ids: set[int]) -> set[tuple[int, str]]:
    """(station, case number) of every case taken on a 上门服务 visit of these stations."""
    found: set[tuple[int, str]] = set()
    for station_id, numbers in (HubHomeVisit.select(HubHomeVisit.station, HubHomeVisit.case_numbers)
                                .where(HubHomeVisit.station.in_(list(station_ids) or [0])
                                       & (HubHomeVisit.cases_taken > 0)).tuples()):
        found.update((station_id, n) for n in (numbers or "").split("、") if n)
    return found


KIND = export_files.ExportKind(FIELDS, "办件", "省级平台", "件", "cases_export", "cases")


def export(period: Period, fmt: str, user: HubUser, address: str | None,
           station: Station | None = None) -> tuple[bytes, str, str]:
    """(data, filename, MIME type) of the period's cases; the export is in the access log."""
    return export_files.export_period(KIND, lambda: rows(period, station), period, fmt, user, address,
                                      station)
