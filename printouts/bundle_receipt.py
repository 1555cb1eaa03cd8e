"""一件事收件回执: one receipt for every item of a bundle, with the bundle's one query code.

The 新生儿出生 bundle once gave five receipts with five query codes; a parent now takes home one
paper that lists each item with the case number the county files it under (issue 19 item 6).
"""

from __future__ import annotations

from reportlab.platypus import Flowable

from printouts.data import BundleDoc, BundleItemLine, CaseDoc, StationInfo
from printouts.documents import (
    BUNDLE_RECEIPT_TITLE,
    _applicant_rows,
    _contact_rows,
    _finish,
    _issued,
    _materials_table,
    _not_needed_lines,
    _not_yet,
    _note_list,
    _start,
    missing_materials_table,
    where_to_look,
)
from printouts.layout import Builder, deadline_text
from rules.labels import CASE_STATUSES, INTAKE_DECISIONS, NOT_HANDED_IN, PICKUP_METHODS

TITLE = BUNDLE_RECEIPT_TITLE


def _dates(line: BundleItemLine) -> list[str]:
    """承诺 and 法定 dates of one item, each marked 暂定 where it is provisional."""
    parts = []
    if line.committed_due:
        parts.append("承诺" + deadline_text("", line.committed_due, line.committed_provisional, ""))
    if line.statutory_due:
        parts.append("法定" + deadline_text("", line.statutory_due, line.statutory_provisional, ""))
    return parts or ["—"]


def _lines(b: Builder, parts: list[str]) -> Flowable:
    """One table cell of several lines (a Paragraph reads a newline as a space)."""
    return b.pm("<br/>".join(b.esc(part) for part in parts), b.s.cell)


def _alone(case: CaseDoc) -> BundleDoc:
    """A case outside any bundle, as a bundle of one (a preview or a reprint never fails)."""
    line = BundleItemLine(item_name=case.item_name, case_no=case.case_no, decision=case.decision,
                          item_code=case.item_code,
                          committed_due=case.committed_due, committed_provisional=case.committed_provisional,
                          committed_limit_text=case.committed_limit_text, statutory_due=case.statutory_due,
                          statutory_provisional=case.statutory_provisional)
    return BundleDoc(name=case.item_name, state=case.decision, items=(line,), materials=case.materials)


def bundle_receipt(station: StationInfo, case: CaseDoc, layout: str = "a4") -> bytes:
    """The combined receipt of ``case.bundle``: its items, the materials received once, one code."""
    bundle = case.bundle or _alone(case)
    b, story = _start(station, case, TITLE, layout)
    story += [b.p(f"申请人{case.applicant_name}：本站已收到您申请“{bundle.name}”的材料。本件事共{len(bundle.items)}个事项，"
                  f"分别报送各办理部门，凭本回执上的一个查询码即可查询全部事项的进度。"),
              b.space(1.5),
              b.kv_table([("一件事", bundle.name, True), *_applicant_rows(case), *_contact_rows(station, case),
                          ("当前进度", CASE_STATUSES.get(bundle.state, bundle.state), False),
                          ("取件方式", PICKUP_METHODS.get(case.pickup_method, case.pickup_method), False)])]
    story.append(b.p("包含事项", b.s.heading))
    rows: list[list[object]] = []
    for i, line in enumerate(bundle.items, 1):
        item = [line.item_name, *([f"事项编码 {line.item_code}"] if line.item_code else [])]
        decision = INTAKE_DECISIONS.get(line.decision, line.decision)
        if b.layout.roll:  # one line each under the item: 72 mm has no room for columns, and no deadline is left off
            rows.append([str(i), _lines(b, [*item, line.case_no, f"{decision}：" + "；".join(_dates(line))])])
        else:
            rows.append([str(i), _lines(b, item), line.case_no, decision, _lines(b, _dates(line))])
    if b.layout.roll:
        story.append(b.grid(["序号", "事项 / 办件编号 / 收件及办结期限"], rows, [0.1, 0.9]))
    else:
        story.append(b.grid(["序号", "事项", "办件编号", "收件结论", "办结期限"], rows, [0.06, 0.30, 0.31, 0.10, 0.23]))
    received = [m for m in bundle.materials if m.status not in NOT_HANDED_IN]
    if received:
        story += [b.p(f"收取材料（共{len(received)}项{_not_yet(received)}，多个事项共用的材料只收一次）", b.s.heading),
                  _materials_table(b, received)]
    missing = [m for m in bundle.materials if m.status == "missing"]
    if missing:
        # one paper: an item turned away for a missing material was told on no paper the resident took home
        turned_away = "、".join(f"“{line.item_name}”" for line in bundle.items if line.decision == "not_collected")
        story += [b.p(f"尚需补齐的材料（一次性告知，共{len(missing)}项）", b.s.heading),
                  b.p((f"{turned_away}因缺少必要材料暂未收件。" if turned_away else "")
                      + "现将需要补齐的全部材料一次性告知如下，请补齐后携带本回执到本站办理，无需再次说明情况。"),
                  missing_materials_table(b, missing)]
    notes = [f"请妥善保管本回执。扫描二维码{where_to_look(station, case)}即可查询本件事全部事项的办理进度。",
             "各事项分别办结、分别送达；领取结果时请携带本回执及申请人身份证件。"]
    not_needed = _not_needed_lines(bundle.materials)
    if not_needed:
        notes.insert(0, "以下材料本次无需提交：" + "；".join(not_needed) + "。")
    story += _note_list(b, "温馨提示", notes)
    story.append(b.signatures(["申请人（代理人）签字：", f"日期：{'　' * 8}"],
                              b.seal_lines(station.name, _issued(case))))
    return _finish(b, story, station, case, TITLE)
