"""Station-side sheets: the materials transfer sheet (物料流转单) and the daily ledger (台账).

These are not per-case: a transfer batch carries many cases' originals and a ledger lists a
day's cases, so they have their own builders. Both are long and must paginate with the table
header repeated and "page x of y" in the footer, so a loose page is never anonymous.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from printouts.data import HomeVisitRow, LedgerRow, StationInfo, TransferDoc, TransferLine
from printouts.fonts import cjk_font
from printouts.layout import A4_LAYOUT, LEDGER_LAYOUT, Builder, PageInfo, build_pdf
from printouts.text import fmt_date, fmt_datetime
from rules.labels import MATERIAL_FORMS, MODES
from rules.privacy import mask_address, mask_id_number, mask_name, mask_numbers_in

BLANK_HANDOVER_ROWS = 3  # room for the township and county to sign on the same sheet
HANDWRITING_ROW_MM = 9  # an empty cell has no height: a blank row gets a pen's line of its own


def transfer_sheet(station: StationInfo, transfer: TransferDoc) -> bytes:
    """物料流转单 with the batch number as Code 128, the materials list and the custody chain."""
    b = Builder(cjk_font(), A4_LAYOUT)
    s = b.s
    if not transfer.batch_no.isascii():
        raise ValueError("批次号只能包含字母、数字和符号（条码要求）")
    barcode = _batch_barcode(transfer.batch_no, b.layout.frame_width)
    head = [b.pm(f"{b.esc(station.name)}（站点编码：{b.esc(station.code)}）", s.subtitle),
            b.p("物料流转单", s.title), b.p(f"批次号：{transfer.batch_no}", s.center)]
    top = Table([[head], [barcode], [b.p(transfer.batch_no, s.center)]], colWidths=[b.layout.frame_width])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (0, 1), (0, 1), "CENTER"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                             ("BOTTOMPADDING", (0, 2), (0, 2), 2 * mm)]))
    total_copies = sum(line.copies for line in transfer.lines)
    cases = len({line.case_no for line in transfer.lines})
    story: list[Flowable] = [
        top, b.space(2),
        b.kv_table([("移出单位", transfer.from_station, False), ("接收单位", transfer.to_station, False),
                    ("制单时间", fmt_datetime(transfer.created_at), False), ("移交人", transfer.handed_by, False),
                    ("合计", f"{cases}件办件，{len(transfer.lines)}项材料，{total_copies}份", True)]),
        b.p("材料清单", s.heading),
        b.grid(["序号", "办件编号", "事项名称", "材料名称", "形式", "份数", "核对"],
               # a paper found extra is named by whoever typed it, number and all (王秀兰身份证复印件 1101…)
               [[str(i), ln.case_no, _item_cell(ln), mask_numbers_in(ln.material_name), MATERIAL_FORMS.get(ln.form, ln.form),
                 str(ln.copies), "□"] for i, ln in enumerate(transfer.lines, 1)],
               [0.05, 0.29, 0.2, 0.24, 0.1, 0.05, 0.07]),
        b.p("交接记录", s.heading),
    ]
    hand_rows: list[list[object]] = [[h.action, h.who, fmt_datetime(h.when), mask_numbers_in(h.where), ""]
                                     for h in transfer.handovers]
    hand_rows += [[b.space(HANDWRITING_ROW_MM), "", "", "", ""] for _ in range(BLANK_HANDOVER_ROWS)]
    hand = b.grid(["环节", "经手人", "时间", "地点", "签字"], hand_rows, [0.14, 0.18, 0.24, 0.26, 0.18])
    story.append(hand)
    if transfer.note:
        story += [b.p("备注", s.heading), b.p(mask_numbers_in(transfer.note))]
    onward = sorted({ln.handling_area_name for ln in transfer.lines if ln.handling_area_name})
    if onward:  # the receipt told the resident so: a clerk filing them with this county's papers breaks it
        story += [b.space(2), b.p(f"标“跨域办”的材料由{'、'.join(onward)}办理：县级收到后须将这些原件转交办理地。")]
    story += [b.space(3), b.p("接收方请逐项核对原件，核对无误后在“核对”栏打勾并签字；如有缺失，请在备注中写明并"
                              "立即告知移出单位。", s.small)]
    footer = f"{station.name}（{station.code}）  物料流转单  批次号 {transfer.batch_no}"
    story += b.hand_write_note()
    return build_pdf(story, b.font, b.layout, PageInfo(footer_left=footer, title=f"物料流转单 {transfer.batch_no}"))


def _item_cell(line: TransferLine) -> str:
    """The item's name, and for a 跨域办 case where its originals go on to."""
    if not line.handling_area_name:
        return line.item_name
    return f"{line.item_name}（跨域办，原件转交{line.handling_area_name}）"


def _batch_barcode(batch_no: str, room: float) -> Code128:
    """Code 128 of the batch number, with bars as wide as fit (wider bars scan better off a laser print).

    reportlab's human-readable line overlaps the bars inside a table cell, so the number is
    printed as text by the caller instead.
    """
    bar_width = 0.33 * mm
    barcode = Code128(batch_no, barHeight=12 * mm, barWidth=bar_width, humanReadable=False)
    limit = room * 0.8
    if barcode.width > limit:  # keep at least 0.19 mm per module: below that office printers smear bars
        bar_width = max(bar_width * limit / barcode.width, 0.19 * mm)
        barcode = Code128(batch_no, barHeight=12 * mm, barWidth=bar_width, humanReadable=False)
    return barcode


LEDGER_COLUMNS = [  # (header, width fraction)
    ("序号", 0.035), ("收件时间", 0.075), ("办件编号", 0.135), ("事项名称", 0.14), ("申请人", 0.06),
    ("证件号码", 0.105), ("村(社区)", 0.07), ("代办员", 0.055), ("方式", 0.035), ("状态", 0.065),
    ("法定期限", 0.07), ("承诺期限", 0.07), ("同步", 0.045),
]
# Only these columns can be long (case numbers run to 50 characters); plain strings elsewhere
# keep 500 rows fast and are short by construction (times, masked numbers, dates, enum words).
_WRAPPED = {2, 3, 4, 6, 7, 9, 12}
LEDGER_DATE_COLUMNS = (10, 11)
#: The county's ledger lists many stations' cases and syncs nothing itself: its last column names the
#: station that took each case, in the width the page has left (the station's 同步 column is narrow).
COUNTY_LEDGER_COLUMNS = [*LEDGER_COLUMNS[:-1], ("服务站", 1 - sum(f for _h, f in LEDGER_COLUMNS[:-1]))]


VISIT_COLUMNS = [  # the ledger's 上门服务 section: (header, width fraction)
    ("序号", 0.04), ("时间", 0.09), ("上门人员", 0.10), ("村(社区)", 0.07), ("服务对象", 0.06), ("地址", 0.15),
    ("办理事项", 0.20), ("结果", 0.09), ("所收办件", 0.20),
]


def _visits_table(b: Builder, visits: list[HomeVisitRow], dated: bool) -> Table:
    """``dated``: the ledger spans several days, so the time also names the day (11-03 09:30–10:40)."""
    width = b.layout.frame_width
    data: list[list[object]] = [[b.p(h, b.s.label) for h, _ in VISIT_COLUMNS]]
    for i, v in enumerate(visits, 1):
        when = (v.visited_on.strftime("%m-%d ") if dated and v.visited_on else "") + v.time
        cells = [str(i), when, v.staff, v.village, mask_name(v.resident_name), mask_address(v.address), mask_numbers_in(v.purpose),
                 v.outcome, "、".join(v.case_numbers) or "—"]
        data.append([b.p(c, b.s.cell) for c in cells])
    table = Table(data, colWidths=[f * width for _, f in VISIT_COLUMNS], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), b.font.name), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2F2F2")),
        ("LEFTPADDING", (0, 0), (-1, -1), 1.5), ("RIGHTPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return table


def ledger_date(value: date | None, provisional: bool = False) -> str:
    """A due date as the ledger prints it: 2025-04-02, with * when provisional (fits its column)."""
    if value is None:
        return ""
    return value.isoformat() + ("*" if provisional else "")


def ledger_period_text(start: date, end: date) -> str:
    """2025年3月5日, or 2025年3月1日至2025年3月31日 for a longer period."""
    return fmt_date(start) if start == end else f"{fmt_date(start)}至{fmt_date(end)}"


#: The most cases a PDF ledger is made for. A row costs about 4 ms to lay out, all in one request:
#: a county's year (hundreds of thousands of cases) held a worker for tens of minutes and its memory
#: with it, and a PDF past a few thousand rows (over a hundred A4 pages) is no one's paper anyway.
LEDGER_PDF_MOST_ROWS = 5000


def ledger_pdf_refusal(count: int) -> str | None:
    """Why a PDF ledger of ``count`` cases is not made, in Chinese (what to do instead); None when it is."""
    if count <= LEDGER_PDF_MOST_ROWS:
        return None
    return (f"所选周期共 {count} 件，超过 PDF 台账上限 {LEDGER_PDF_MOST_ROWS} 件，未生成。"
            "请缩短周期或选择单个服务站后再导出 PDF，或导出 Excel、CSV。")


def ledger(station: StationInfo, day: date, rows: Iterable[LedgerRow], end: date | None = None,
           visits: Iterable[HomeVisitRow] = ()) -> bytes:
    """台账: the cases of a day (or of `day`–`end`) on A4 landscape, header row on every page.

    Over more than one day the time column also shows the date (11-03 09:34); due dates print as
    2025-04-02 so they fit their column; villages print as names (the caller resolves the codes).
    The period's home visits (上门服务), if any, follow as their own table: the 帮办代办 service outside the station.
    """
    end = end or day
    b = Builder(cjk_font(), LEDGER_LAYOUT)
    s = b.s
    rows = list(rows)
    width = b.layout.frame_width
    period = ledger_period_text(day, end)
    stamp = "%H:%M" if day == end else "%m-%d %H:%M"
    county = any(r.station_name for r in rows)
    columns = COUNTY_LEDGER_COLUMNS if county else LEDGER_COLUMNS
    data: list[list[object]] = [[b.p(h, s.label) for h, _ in columns]]
    for i, r in enumerate(rows, 1):
        cells: list[object] = [
            str(i), r.received_at.strftime(stamp), r.case_no, r.item_name, r.applicant_name,
            mask_id_number(r.applicant_id_number), r.village, r.agent_name, MODES.get(r.mode, r.mode),
            r.status_text, ledger_date(r.statutory_due, r.statutory_provisional),
            ledger_date(r.committed_due, r.committed_provisional), r.station_name if county else r.sync_state,
        ]
        data.append([b.p(c, s.cell) if j in _WRAPPED else b.plain(c) for j, c in enumerate(cells)])
    table = Table(data, colWidths=[f * width for _, f in columns], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), b.font.name), ("FONTSIZE", (0, 0), (-1, -1), s.cell.fontSize),
        ("LEADING", (0, 0), (-1, -1), s.cell.leading), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2F2F2")),
        ("LEFTPADDING", (0, 0), (-1, -1), 1.5), ("RIGHTPADDING", (0, 0), (-1, -1), 1.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    by_mode: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for r in rows:
        by_mode[MODES.get(r.mode, r.mode)] = by_mode.get(MODES.get(r.mode, r.mode), 0) + 1
        by_status[r.status_text or "—"] = by_status.get(r.status_text or "—", 0) + 1
    summary = (f"合计 {len(rows)} 件；" + "，".join(f"{k} {v} 件" for k, v in by_mode.items()) + "；"
               + "，".join(f"{k} {v} 件" for k, v in by_status.items()) + "。")
    story: list[Flowable] = [b.p(f"{station.name} 办件台账（{period}）", s.title), b.space(1), table,
                             b.space(2), b.p(summary, s.body),
                             b.p("证件号码已按规定遮蔽；期限后带“*”的为暂定期限（节假日数据缺失，仅按周末计算）。", s.small),
                             ]
    visits = list(visits)
    if visits:
        story += [b.space(3), b.p(f"上门服务（{len(visits)} 次）", s.body), b.space(1), _visits_table(b, visits, day != end),
                  b.p("服务对象姓名、地址已按规定遮蔽。", s.small)]
    # lines to sign and date by hand (a paragraph collapses blank space: the names had no room, and a month's
    # ledger taken on the 2nd printed the 31st as its date)
    story += [b.space(4), b.p(f"制表人：{'_' * 16}　　审核人：{'_' * 16}　　日期：{'_' * 8}年{'_' * 5}月{'_' * 5}日")]
    info = PageInfo(footer_left=f"{station.name}（{station.code}）  办件台账  {period}",
                    header=f"{station.name}  办件台账  {period}",
                    title=f"办件台账 {day.isoformat()}" + (f" 至 {end.isoformat()}" if end != day else ""))
    story += b.hand_write_note()
    return build_pdf(story, b.font, b.layout, info)
