"""好差评 for the provincial platform: every rating of a period, with the national standard's codes.

The province counts 好差评 itself (差评率, 整改率) from the ratings each county sends; until now the
county could show its ratings on the statistics page but not hand them over. One table (FIELDS)
maps our columns to the exchange's field names, as the 办件 export does (provincial_export.py): a
province that spells a field differently changes that table, nothing else (the names are
unverified against the province's interface: change them here when it confirms). Codes: 满意度 by
GB/T 39046 A.8 (1 非常满意 … 5 非常不满意; rules.evaluations stores levels by name because other
systems number the other way round), 评价渠道 and 评价类型 as DOMAIN.md gives them, the case's state
when it was rated (1 待受理, 2 已受理, 3 已办结). Times are China time (``created_at`` is UTC).
The resident's own words leave as stored: every ID-like or phone-like number in them was masked
when the rating was taken (rules.evaluations). The rater is never known (ratings are anonymous);
the agent rated is staff and named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from rules import evaluations as rules
from rules.periods import Period
from sync.hub.china_time import CHINA_OFFSET, china_naive
from sync.hub.models import Decision, HubCase, HubEvaluation, HubUser, Remedy, Station
from sync.hub.services import export_files
from sync.hub.services.provincial_export import stamp

#: 评价时办件状态: a rating of the completed case, or of handing over its result, is of a concluded case
CONCLUDED_VISITS = frozenset({"case", "handover"})
#: 整改状态 of a 差评 (no 整改 for a good rating)
REMEDY_STATES = {"open": "整改中", "fixed": "已整改待回访", "closed": "已办结"}


@dataclass(frozen=True)
class Row:
    rating: HubEvaluation
    case: HubCase | None
    station: Station
    accepted_at: dt.datetime | None  # the county's 受理 decision (UTC), if any
    remedy: Remedy | None
    county: str

    @property
    def rated_at(self) -> dt.datetime | None:
        return china_naive(self.rating.created_at)

    @property
    def case_state(self) -> str:
        """1 待受理, 2 已受理, 3 已办结 — as the case stood when the resident rated it."""
        if self.rating.visit.partition("-")[0] in CONCLUDED_VISITS:
            return "3"
        if self.accepted_at is not None and self.accepted_at <= self.rating.created_at:
            return "2"
        return "1"


#: (exchange field name, what it holds, value)
FIELDS: list[tuple[str, str, Callable[[Row], str]]] = [
    ("ASSESSNUMBER", "评价编号", lambda r: r.rating.evaluation_id),
    ("PROJECTNO", "办件编号（平台）", lambda r: (r.case.hub_case_no or r.case.case_no or "") if r.case else ""),
    ("SBLSH", "申办流水号（服务站编号）", lambda r: r.rating.case_no or (r.case.case_no if r.case else "") or ""),
    ("TASKCODE", "事项编码", lambda r: (r.case.item_code or "") if r.case else ""),
    ("TASKNAME", "事项名称", lambda r: (r.case.item_name or "") if r.case else ""),
    ("PROSTATUS", "评价时办件状态（1待受理 2已受理 3已办结）", lambda r: r.case_state),
    ("ASSESSVISIT", "评价的服务环节", lambda r: rules.visit_word(r.rating.visit)),
    ("ALTERNATE", "满意度（GB/T 39046 A.8：1非常满意…5非常不满意）",
     lambda r: rules.GB_LEVEL_CODES.get(r.rating.level, "")),
    ("ALTERNATENAME", "满意度", lambda r: rules.LEVELS.get(r.rating.level, r.rating.level)),
    ("ASSESSTYPE", "评价类型（1首次 2追加）", lambda r: rules.KIND_CODES.get(r.rating.kind, "")),
    ("PF", "评价渠道（1PC 2移动端 3二维码 4大厅平板 5大厅自助终端 6电话 7短信）",
     lambda r: rules.CHANNEL_CODES.get(r.rating.channel, "")),
    ("ASSESSTIME", "评价时间", lambda r: stamp(r.rated_at)),
    ("REASONTAG", "评价原因", lambda r: rules.REASON_TAGS.get(r.rating.level, {}).get(r.rating.reason_tag, "")),
    ("WRITINGASSESS", "文字评价（号码已遮蔽）", lambda r: r.rating.reason_text),  # masked when stored (rules.evaluations)
    ("AREACODE", "评价地区划代码（收件地）",
     lambda r: ((r.case.received_area or r.case.area_code) if r.case else "") or r.county),
    ("DEPTCODE", "被评价服务站编码", lambda r: r.station.code),
    ("DEPTNAME", "被评价服务站名称", lambda r: r.station.name),
    ("HANDLEUSERNAME", "被评价工作人员", lambda r: r.rating.agent or ""),
    ("RECTIFYSTATE", "差评整改状态", lambda r: REMEDY_STATES.get(r.remedy.status, "") if r.remedy else ""),
    ("RECTIFYTIME", "整改办结时间", lambda r: stamp(china_naive(r.remedy.closed_at)) if r.remedy else ""),
]


def rows(period: Period, station: Station | None = None) -> list[Row]:
    """The ratings given in ``period`` (China days), oldest first."""
    start, stop = (moment - CHINA_OFFSET for moment in period.bounds())
    query = (HubEvaluation.select(HubEvaluation, Station).join(Station)
             .where((HubEvaluation.created_at >= start) & (HubEvaluation.created_at < stop))
             .order_by(HubEvaluation.created_at, HubEvaluation.id))
    if station is not None:
        query = query.where(HubEvaluation.station == station.id)
    ratings = list(query)
    case_ids = list({r.case_id for r in ratings}) or [""]
    cases = {c.case_id: c for c in HubCase.select().where(HubCase.case_id.in_(case_ids))}
    accepted: dict[str, dt.datetime] = {}
    for case_id, at in (Decision.select(HubCase.case_id, Decision.decided_at).join(HubCase)
                        .where((Decision.kind == "accepted") & HubCase.case_id.in_(case_ids)).tuples()):
        accepted[case_id] = min(at, accepted.get(case_id, at))
    remedies = {r.evaluation_id: r for r in Remedy.select().where(
        Remedy.evaluation_id.in_([r.evaluation_id for r in ratings] or [""]))}
    county = str(current_app.config.get("AREA_CODE") or "")
    return [Row(r, cases.get(r.case_id), r.station, accepted.get(r.case_id), remedies.get(r.evaluation_id), county)
            for r in ratings]


KIND = export_files.ExportKind(FIELDS, "好差评", "好差评", "条", "evaluations_export", "evaluations")


def export(period: Period, fmt: str, user: HubUser, address: str | None,
           station: Station | None = None) -> tuple[bytes, str, str]:
    """(data, filename, MIME type) of the period's ratings; the export is in the access log."""
    return export_files.export_period(KIND, lambda: rows(period, station), period, fmt, user, address,
                                      station)
