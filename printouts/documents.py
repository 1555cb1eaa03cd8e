"""The per-case documents a resident takes home: data in, PDF bytes out.

Each builder prints the same identity block (station, case number, item, applicant with
masked numbers, agent, dates and deadlines, query code and QR) and then what the document is
for. Wording follows common county practice; the law it cites is in DOMAIN.md "Law and
practice". Every builder takes ``layout="a4"`` or ``"roll80"`` because a village station with
only a receipt printer still has to hand over a notice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.platypus import Flowable

from printouts.data import CaseDoc, MaterialLine, StationInfo
from printouts.fonts import cjk_font
from printouts.layout import Builder, Layout, PageInfo, build_pdf, deadline_text, get_layout, query_url
from printouts.text import fmt_date, fmt_datetime
from rules.labels import (
    COLLECTOR_KINDS,
    ITEM_KINDS,
    MATERIAL_FORMS,
    MATERIAL_STATUSES,
    MODES,
    NOT_HANDED_IN,
    PICKUP_METHODS,
    RESULTS,
    RETURNED_ORIGINAL_NOTES,
    SUPPLY_FORMS,
)
from rules.privacy import (
    mask_certificate_number,
    mask_id_number,
    mask_licence_number,
    mask_numbers_in,
    mask_phone,
)

Row = tuple[str, object, bool]

#: The national 政务服务便民热线: where a complaint about any government service goes when no other number is set.
NATIONAL_HOTLINE = "12345（政务服务便民热线）"


#: The one receipt of a 一件事 (printouts.bundle_receipt), named here so other papers can refer the resident to it.
BUNDLE_RECEIPT_TITLE = "一件事收件回执"


def receipt_title(case: CaseDoc) -> str:
    """受理凭证 only where the station holds the power to accept (DOMAIN.md "Who accepts")."""
    if case.decision == "accepted":
        return "受理凭证"
    return "代办回执" if case.mode == "proxy" else "收件回执"


def _issued(case: CaseDoc) -> object:
    return case.issued_at or case.received_at


def _applicant_rows(case: CaseDoc) -> list[Row]:
    rows: list[Row] = [
        ("申请人", case.applicant_name, False),
        (case.applicant_cert_type_name or "证件号码", mask_id_number(case.applicant_id_number), False),
        ("联系电话", mask_phone(case.applicant_phone), False),
        ("办理方式", MODES.get(case.mode, case.mode), False),
    ]
    if case.applicant_address:
        rows.append(("住址", mask_numbers_in(case.applicant_address), True))
    if case.mode == "proxy" and (case.proxy_name or case.agent_name):
        proxy = case.proxy_name or case.agent_name
        masked = mask_id_number(case.proxy_id_number)
        rel = f"（{mask_numbers_in(case.proxy_relation)}）" if case.proxy_relation else ""
        rows.append(("委托代理人", f"{proxy}{rel}" + (f"  {masked}" if masked else ""), True))
    return rows


def _item_rows(case: CaseDoc) -> list[Row]:
    codes = case.item_code + (f" / 实施编码 {case.impl_code}" if case.impl_code else "")
    rows: list[Row] = [("事项名称", case.item_name, True), ("事项编码", codes, True)]
    if case.department:
        rows.append(("办理部门", case.department, False))
    rows.append(("办件类型", ITEM_KINDS.get(case.kind, case.kind), False))
    return rows


def _deadline_rows(case: CaseDoc) -> list[Row]:
    rows: list[Row] = []
    if case.statutory_limit_text or case.statutory_due:
        rows.append(("法定办结时限", deadline_text(case.statutory_limit_text, case.statutory_due,
                                             case.statutory_provisional, case.deadline_warning), True))
    if case.committed_limit_text or case.committed_due:
        rows.append(("承诺办结时限", deadline_text(case.committed_limit_text, case.committed_due,
                                             case.committed_provisional, case.deadline_warning), True))
    return rows


def _contact_rows(station: StationInfo, case: CaseDoc) -> list[Row]:
    agent = case.agent_name + (f"（{case.agent_phone}）" if case.agent_phone else "")
    return [
        ("代办员", agent, False),
        # a case turned away (一次性告知) was applied for, never collected; one the station accepted was 受理 then
        ({"not_collected": "申请时间", "accepted": "受理时间"}.get(case.decision, "收件时间"),
         fmt_datetime(case.received_at), False),
        ("咨询电话", case.consult_phone or station.phone, False),
        # every notice tells her she may complain by this number: never a blank, 12345 takes any complaint
        ("监督电话", case.supervise_phone or station.supervise_phone or NATIONAL_HOTLINE, False),
    ]


def _cross_area_rows(station: StationInfo, case: CaseDoc) -> list[Row]:
    if not case.handling_area_name:
        return []
    return [("跨域办理", f"收件地：{station.name}；办理地：{case.handling_area_name}。本站收件后转办理地审批，"
                     "结果由本站送达；纸质原件按规定转交办理地。", True)]


def _identity_rows(station: StationInfo, case: CaseDoc) -> list[Row]:
    return [*_item_rows(case), *_cross_area_rows(station, case), *_applicant_rows(case),
            *_contact_rows(station, case), *_deadline_rows(case)]


def where_to_look(station: StationInfo, case: CaseDoc) -> str:
    """"，或登录 https://…/q 输入查询码 K7Q4-9MZD，" — the address to type the code into, for a resident with no phone
    to scan the QR with; only the county's public address, which she can reach from home (the station's page is
    its own)."""
    if not station.public_url:
        return "或凭查询码"
    return f"，或登录 {station.public_url.rstrip('/')}/q 输入查询码 {case.query_code}，"


def _start(station: StationInfo, case: CaseDoc, title: str, layout: str | Layout) -> tuple[Builder, list[Flowable]]:
    b = Builder(cjk_font(), get_layout(layout))
    story = b.header(station.name, station.code, title, case.case_no, case.query_code,
                     query_url(station.query_url_base, case.query_code, station.public_url))
    return b, story


#: The blank a resident writes the day into beside her signature.
_DATE_LINE = f"日期：{'　' * 8}"


def _sign_off(b: Builder, story: list[Flowable], station: StationInfo, case: CaseDoc, title: str,
              lines: Sequence[str], *, sealed_by: str | None = None, sealed_on: object = None) -> bytes:
    """Every document ends alike: who signs (``lines``), the seal of ``sealed_by`` (the station unless
    another body issues it) dated ``sealed_on`` (the day the document was issued unless it records a later
    step), then the page is built."""
    story.append(b.signatures(list(lines), b.seal_lines(sealed_by or station.name, sealed_on or _issued(case))))
    return _finish(b, story, station, case, title)


def _finish(b: Builder, story: list[Flowable], station: StationInfo, case: CaseDoc, title: str) -> bytes:
    if b.layout.roll:
        story += [b.space(2), b.qr_block(query_url(station.query_url_base, case.query_code, station.public_url))]
    story += b.hand_write_note()
    footer = f"{station.name}（{station.code}）  {title}  办件编号 {case.case_no}"
    info = PageInfo(footer_left=footer, footer_roll=f"{title}  办件编号 {case.case_no}", title=f"{title} {case.case_no}")
    return build_pdf(story, b.font, b.layout, info)


def _materials_table(b: Builder, materials: Sequence) -> Flowable:
    rows = []
    for i, m in enumerate(materials, 1):
        note = MATERIAL_STATUSES.get(m.status, m.status)
        if m.status == "provided" and m.reused_from:
            # she did not hand it in today: the paper must not say an original was checked and given back
            note = f"复用{m.reused_from}核验的材料" + ("，本次再次核对原件" if m.rechecked else "")
        elif m.status == "provided" and m.arrived_at:
            note = f"容缺后补，{fmt_date(m.arrived_at)}已补交"
        elif m.status == "provided" and m.returned and m.form in RETURNED_ORIGINAL_NOTES:
            note = RETURNED_ORIGINAL_NOTES[m.form]
        if m.status == "deferred" and m.due_date:
            note += f"，{_due_words(m)}前补交"
        if m.status == "e_license" and m.e_license_no:
            note += f" {mask_licence_number(m.e_license_no)}"  # a 残疾人证's number holds the ID number
        if b.layout.roll:
            rows.append([str(i), m.name, f"{_form_copies(m)}\n{note}"])
        else:
            rows.append([str(i), m.name, MATERIAL_FORMS.get(m.form, m.form), str(m.copies), note])
    if b.layout.roll:
        return b.grid(["序号", "材料名称", "形式/份数"], rows, [0.1, 0.5, 0.4])
    return b.grid(["序号", "材料名称", "形式", "份数", "情况"], rows, [0.07, 0.45, 0.14, 0.08, 0.26])


def _not_yet(listed: Sequence[MaterialLine]) -> str:
    """"，其中1项容缺后补、尚未收取" — a 容缺 material is listed with the received ones but was not handed in."""
    owed = sum(1 for m in listed if m.status == "deferred")
    return f"，其中{owed}项容缺后补、尚未收取" if owed else ""


def _due_words(m: MaterialLine) -> str:
    """'2026年12月5日' — and, when that is a rest day, the working day it moves on to (民法典 §203)."""
    if m.due_rest_day and m.due_moved_to:
        return f"{fmt_date(m.due_date)}（{m.due_rest_day}，顺延至{fmt_date(m.due_moved_to)}）"
    return fmt_date(m.due_date)


def _form_copies(m: MaterialLine) -> str:
    return f"{MATERIAL_FORMS.get(m.form, m.form)}{m.copies}份"


def _materials_to_act_on(b: Builder, materials: Sequence[MaterialLine], last: Callable[[MaterialLine], str],
                         roll_heads: tuple[str, str], a4_last_head: str, roll_widths: list[float],
                         a4_widths: list[float]) -> Flowable:
    """Materials the applicant still has to bring: what, in which form, and one more column
    (where to get it, or by when); on a roll the form goes in brackets after the name."""
    rows = [[str(i), m.name, _form_copies(m), last(m)] for i, m in enumerate(materials, 1)]
    if b.layout.roll:
        return b.grid(["序号", *roll_heads], [[r[0], f"{r[1]}（{r[2]}）", r[3]] for r in rows], roll_widths)
    return b.grid(["序号", "材料名称", "形式/份数", a4_last_head], rows, a4_widths)


def missing_materials_table(b: Builder, missing: Sequence[MaterialLine]) -> Flowable:
    """The materials still to bring, each with where and how to get it: the heart of a 一次性告知."""
    return _materials_to_act_on(b, missing, lambda m: "；".join(x for x in (m.source, m.description) if x)
                                or "请咨询本站", ("材料及要求", "获取途径"), "获取途径及要求",
                                [0.12, 0.44, 0.44], [0.07, 0.33, 0.14, 0.46])


def _not_needed_lines(materials: Sequence[MaterialLine]) -> list[str]:
    """Materials the resident need not bring, and why: 不适用 (with the agent's reason) or issued by
    an earlier item of the same 一件事. Said in words, never in a table of what was received."""
    lines = []
    for m in materials:
        if m.status == "not_applicable":
            lines.append(f"{m.name}（不适用{'：' + mask_numbers_in(m.note) if m.note else ''}）")
        elif m.status == "in_bundle":
            lines.append(f"{m.name}（由本件事前项办结后出具）")
    return lines


def _note_list(b: Builder, title: str, lines: Sequence[str]) -> list[Flowable]:
    out: list[Flowable] = [b.p(title, b.s.heading)]
    out += [b.p(f"{i}. {line}", b.s.small if b.layout.roll else b.s.body) for i, line in enumerate(lines, 1)]
    return out


# --- 收件回执 / 代办回执 / 受理凭证 ---------------------------------------------------------------

def collection_receipt(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """收件回执 / 代办回执, or 受理凭证 when the station accepted the case itself."""
    title = receipt_title(case)
    b, story = _start(station, case, title, layout)
    dept = case.department or "办理部门"
    if case.decision == "accepted":
        intro = (f"申请人{case.applicant_name}：您申请的“{case.item_name}”事项，申请材料齐全、符合法定形式，"
                 f"根据《中华人民共和国行政许可法》第三十二条规定，本站受{dept}委托，予以受理。")
    else:
        intro = (f"申请人{case.applicant_name}：本站已收到您申请“{case.item_name}”事项的下列材料，"
                 f"将{'于' if case.forward_within == '当日' else '在'}{case.forward_within}报送{dept}。本回执仅证明材料已收取，受理结果以{dept}的决定为准。")
    story += [b.p(intro), b.space(1.5), b.kv_table([*_identity_rows(station, case),
                                                    ("收费", case.fee, False),
                                                    ("取件方式", PICKUP_METHODS.get(case.pickup_method,
                                                                                case.pickup_method), False)])]
    received = [m for m in case.materials if m.status not in NOT_HANDED_IN]
    if received:
        story += [b.p(f"收取材料（共{len(received)}项{_not_yet(received)}）", b.s.heading), _materials_table(b, received)]
    deferred = [m for m in case.materials if m.status == "deferred"]
    missing = [m for m in case.materials if m.status == "missing"]
    paper = "凭证" if case.decision == "accepted" else "回执"
    notes = [f"请妥善保管本{paper}。扫描二维码{where_to_look(station, case)}即可查询办理进度，办结后可对本次服务进行评价。",
             f"领取结果时请携带本{paper}及申请人身份证件；委托他人领取的，另需委托书及代领人身份证件。"]
    not_needed = _not_needed_lines(case.materials)
    if not_needed:
        notes.insert(0, "以下材料本次无需提交：" + "；".join(not_needed) + "。")
    if missing:  # she holds a 一次性告知书 for them too: the receipt must not leave them unsaid
        notes.insert(0, f"尚未提交的材料（共{len(missing)}项）：" + "、".join(m.name for m in missing)
                     + "。请按《一次性告知书》补齐后交至本站。")
    if deferred:
        notes.insert(0, f"其中{len(deferred)}项材料为容缺后补，请按《容缺受理通知书》载明的日期补交，逾期将影响办理。")
    story += _note_list(b, "温馨提示", notes)
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签字：", _DATE_LINE])


# --- 一次性告知书 ----------------------------------------------------------------------------

def notice_missing(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """一次性告知书: every missing material at once, with where and how to get it (行政许可法 §32)."""
    title = "一次性告知书"
    b, story = _start(station, case, title, layout)
    missing = [m for m in case.materials if m.status == "missing"]
    if case.decision == "not_collected":
        intro = (f"申请人{case.applicant_name}：您于{fmt_datetime(case.received_at)}申请办理“{case.item_name}”事项，"
                 f"经核查，申请材料尚不齐全。根据《中华人民共和国行政许可法》第三十二条规定，现将需要补齐的"
                 f"全部材料一次性告知如下（共{len(missing)}项）。请补齐后携带本告知书到本站办理，无需再次说明情况。")
        last_note = "补齐材料后，本站将当场收件并出具回执。"
    else:
        # taken in with an auxiliary material still to come: the resident also holds a receipt saying the case
        # was collected (or accepted), and this paper must not tell her it was not
        done = "受理" if case.decision == "accepted" else "收件"
        intro = (f"申请人{case.applicant_name}：您于{fmt_datetime(case.received_at)}申请办理“{case.item_name}”事项，"
                 f"本站已{done}（见{BUNDLE_RECEIPT_TITLE if case.bundle else receipt_title(case)}）。下列材料尚未提交，现将需要补齐的全部材料一次性告知如下"
                 f"（共{len(missing)}项）。请补齐后携带本告知书交至本站，无需再次说明情况。")
        last_note = f"补交材料不影响本次{done}，本站收取后报送办理部门。"
    story += [b.p(intro), b.space(1.5), b.kv_table(_identity_rows(station, case))]
    story += [b.p("需补齐的材料", b.s.heading), missing_materials_table(b, missing)]
    story += _note_list(b, "说明", [
        "本告知书所列材料为本次申请需补齐的全部材料，本站不再要求其他材料。",
        "本告知书所列之外的要求，您有权拒绝，并可拨打监督电话反映。",
        last_note])
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签收：", _DATE_LINE])


# --- 容缺受理通知书 --------------------------------------------------------------------------

def deferral_notice(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """容缺受理通知书: which materials follow later, by when, and what happens if they are late."""
    title = "容缺受理通知书"
    b, story = _start(station, case, title, layout)
    deferred = [m for m in case.materials if m.status == "deferred"]
    # 收件 at the station, 受理 by the department (DOMAIN.md "Who accepts"): the notice said 容缺收件（受理）
    dept = case.department or "办理部门"
    story += [b.p(f"申请人{case.applicant_name}：您申请的“{case.item_name}”事项，主要申请材料齐全，"
                  f"下列次要材料暂缺，本站先予容缺收件，报送{dept}审查。请在下表所列截止日期前补交，"
                  f"补交截止日期不超过承诺办结时限。"),
              b.space(1.5), b.kv_table(_identity_rows(station, case)), b.p("容缺后补材料", b.s.heading)]
    story.append(_materials_to_act_on(b, deferred, _due_words, ("材料", "补交截止"),
                                      "补交截止日期", [0.12, 0.5, 0.38], [0.08, 0.5, 0.18, 0.24]))
    story += _note_list(b, "须知", [
        "请在补交截止日期前将上述材料交至本站或办理部门，补交时请携带本通知书。",
        "逾期未补交的，视为申请材料不齐全，办理部门可终止办理或作出不予许可决定，已收材料予以退还；"
        "办理时限自材料补齐之日起重新计算。",
        "容缺材料补交前，办理部门可先行审查，但不出具最终办理结果（法律法规另有规定的除外）。"])
    return _sign_off(b, story, station, case, title,
                     ["本人已知悉上述内容，承诺按期补交。", "申请人（代理人）签字：", _DATE_LINE])


# --- 告知承诺书 ------------------------------------------------------------------------------

GENERIC_COMMITMENT = ("本人已经知晓行政机关告知的全部内容，所填写的信息和提交的材料真实、准确、完整，"
                      "已经符合行政机关告知的条件、标准和要求，愿意承担不实承诺的法律责任。"
                      "以上承诺是本人真实意思表示。")


def commitment_letter(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """告知承诺书: the duty, content, method and liability, signed voluntarily by the applicant."""
    title = "告知承诺书"
    b, story = _start(station, case, title, layout)
    promised = [m for m in case.materials if m.status == "commitment"]
    story += [b.kv_table(_identity_rows(station, case)), b.p("一、行政机关告知", b.s.heading),
              b.p(f"根据国家关于推行证明事项告知承诺制的规定，申请人办理“{case.item_name}”事项时，"
                  f"下列证明材料可以由申请人书面承诺代替，不再提交；申请人承诺的，即承诺符合该证明材料的要求："),
              _promised_table(b, promised),
              b.p("（一）告知承诺适用的方式：申请人自愿选择，书面签署本承诺书，即视为已提交上述证明。"
                  "不愿承诺或无法承诺的，应当提交上述证明材料。"),
              b.p("（二）行政机关将在办理过程中或办结后，依法对承诺内容进行核查。"),
              b.p("（三）虚假承诺的法律责任：申请人作出不实承诺的，行政机关将依法撤销已作出的决定，"
                  "将不实承诺信息记入信用记录，并依法追究相应法律责任。"),
              b.p("二、申请人承诺", b.s.heading), b.p(case.commitment_text or GENERIC_COMMITMENT),
              b.p("三、其他", b.s.heading),
              b.p("本承诺书一式两份，申请人与办理部门各执一份，自申请人签字之日起生效。")]
    return _sign_off(b, story, station, case, title, ["申请人（签字并按手印）：", _DATE_LINE],
                     sealed_by=case.department or station.name)


def _promised_table(b: Builder, promised: Sequence[MaterialLine]) -> Flowable:
    """What each promise stands for: the proof it replaces and what that proof would have shown (the catalog's
    requirement). A form and a number of copies meant nothing for a paper she is not bringing."""
    rows = [[str(i), m.name, m.description or "按本事项办事指南的要求"] for i, m in enumerate(promised, 1)]
    return b.grid(["序号", "以承诺代替的证明材料", "该证明材料的要求"], rows,
                  [0.12, 0.4, 0.48] if b.layout.roll else [0.07, 0.43, 0.5])


# --- 代办委托书 ------------------------------------------------------------------------------

def _authorized_matters(case: CaseDoc) -> str:
    """The item, or every item of its 一件事: one letter is signed for the whole bundle the agent applies for."""
    if case.bundle is None or not case.bundle.items:
        return f"{case.item_name}（事项编码 {case.item_code}）"
    items = "；".join(f"{i}. {line.item_name}" + (f"（事项编码 {line.item_code}）" if line.item_code else "")
                     for i, line in enumerate(case.bundle.items, 1))
    return f"{case.bundle.name}，共{len(case.bundle.items)}个事项：{items}"


def authorization_letter(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """代办委托书: principal, agent, matter, scope and term, for both to sign."""
    title = "代办委托书"
    b, story = _start(station, case, title, layout)
    proxy = case.proxy_name or case.agent_name
    rows: list[Row] = [
        ("委托人", case.applicant_name, False),
        (case.applicant_cert_type_name or "证件号码", mask_id_number(case.applicant_id_number), False),
        ("联系电话", mask_phone(case.applicant_phone), False),
        ("住址", mask_numbers_in(case.applicant_address), True),
        ("受托人", proxy + (f"（{mask_numbers_in(case.proxy_relation)}）" if case.proxy_relation else ""), False),
        ("受托人证件", mask_id_number(case.proxy_id_number), False),
        ("委托事项", _authorized_matters(case), True),
        ("委托权限", case.authorization_scope or "代为提交申请材料，代为填写、签署申请表及相关文书，"
                                             "代为领取办理结果及相关文书。", True),
        ("委托期限", case.authorization_term or ("自本委托书签署之日起至本事项办结、结果送达之日止。" if case.bundle is None
                                                 else "自本委托书签署之日起至各事项办结、结果送达之日止。"), True),
        # a bundle's items each have their own limits: the 一件事收件回执 lists them, not one item's here
        *_contact_rows(station, case), *(_deadline_rows(case) if case.bundle is None else []),
    ]
    story += [b.p(f"本人{case.applicant_name}因故不能亲自办理下列事项，自愿委托受托人代为办理，委托内容如下："),
              b.space(1.5), b.kv_table(rows), b.space(2),
              b.p("委托人声明：受托人在上述权限内办理的行为，委托人均予以承认，并承担相应的法律后果。"
                  "委托人保证所提供材料真实有效。受托人不得转委托，不得收取任何费用。", b.s.body)]
    return _sign_off(b, story, station, case, title, ["委托人（签字并按手印）：", "", "受托人（签字）：", _DATE_LINE],
                     sealed_by=f"见证单位：{station.name}")


# --- 补正通知 --------------------------------------------------------------------------------

def supplement_notice(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """补正通知: what the county asks for, by when, and that the clock waits meanwhile."""
    title = "补正材料通知书"
    b, story = _start(station, case, title, layout)
    dept = case.department or "办理部门"
    when = fmt_date(case.supplement_at) if case.supplement_at else ""
    story += [b.p(f"申请人{case.applicant_name}：您申请的“{case.item_name}”事项，经{dept}审查"
                  + (f"（{when}）" if when else "") + "，需补正下列材料或内容："),
              b.space(1.5), b.kv_table(_identity_rows(station, case)), b.p("需补正的内容", b.s.heading)]
    if not case.supplement_items:  # asked by a description alone: that description is what to bring
        story.append(b.p(mask_numbers_in(case.supplement_reason)))
    else:
        story.append(b.grid(["序号", "补正内容"], [[str(i), mask_numbers_in(x)] for i, x in enumerate(case.supplement_items, 1)],
                            [0.12, 0.88]))
    if case.supplement_items and case.supplement_reason:
        story += [b.p("补正原因", b.s.heading), b.p(mask_numbers_in(case.supplement_reason))]
    due = (f"请于{fmt_date(case.supplement_due)}前" if case.supplement_due else "请尽快") + \
        "携带本通知及补正材料到本站办理，也可联系代办员上门收取。"
    # without a date set by the department there is no 逾期 to warn of: the paper must not invent one
    last = ("逾期不补正的，视为放弃申请，已收材料可凭本通知领回。" if case.supplement_due else
            "补正前办理部门暂停办理；如不再申请，已收材料可凭本通知领回。")
    story += _note_list(b, "须知", [due, "补正期间不计入办理时限，自补正材料齐全之日起继续计算。", last])
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签收：", _DATE_LINE])


# --- 不予受理告知书 ----------------------------------------------------------------------------

#: What a resident may do against a decision, with the time she has (行政复议法 2023 §20, 行政诉讼法 §46): a right
#: without its period is one she may lose without knowing.
REMEDIES = ("可以自知道该决定之日起六十日内依法申请行政复议，或者自知道该决定之日起六个月内依法向人民法院"
            "提起行政诉讼。")


def rejection_notice(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """不予受理告知书: the department refused the application; why, and what the resident may do now.

    行政许可法 §32: a refusal is given in writing, with its reason and the applicant's right to review or sue.
    The station hands it over for the department (cross-area too), so the station seals it as 告知单位.
    """
    title = "不予受理告知书"
    b, story = _start(station, case, title, layout)
    dept = case.department or "办理部门"
    when = fmt_date(case.rejected_at) if case.rejected_at else ""
    reason = mask_numbers_in(case.rejected_reason) or "办理部门未写明理由，请向办理部门咨询。"
    # no 办结时限 rows: the case is closed, and a date on it would read as a promise still running
    rows: list[Row] = [*_item_rows(case), *_cross_area_rows(station, case), *_applicant_rows(case),
                       *_contact_rows(station, case)]
    story += [b.p(f"申请人{case.applicant_name}：您于{fmt_datetime(case.received_at)}申请办理“{case.item_name}”事项，"
                  f"经{dept}审查，" + (f"于{when}" if when else "") + "决定不予受理。"),
              b.p("不予受理理由", b.s.heading), b.p(reason), b.space(1.5), b.kv_table(rows)]
    story += _note_list(b, "须知", [
        f"对本决定不服的，{REMEDIES}",
        "已提交的申请材料原件，可凭本告知书到本站领回；已转交办理部门的，本站协助取回。",
        "符合条件后可以重新申请，本站可协助办理；如有疑问，请拨打咨询电话。",
        "欢迎扫描二维码或凭查询码对本次服务进行评价（好差评）。"])
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签收：", _DATE_LINE],
                     sealed_by=f"告知单位：{station.name}")


# --- 撤回申请 ------------------------------------------------------------------------------

def withdrawal_confirmation(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """撤回申请确认单: the resident's paper saying her application was withdrawn at her request, and why.

    An elderly resident who changed her mind keeps it against a later call or a second application:
    it says the case ended at her wish, not refused, and that she may apply again.
    """
    title = "撤回申请确认单"
    b, story = _start(station, case, title, layout)
    when = fmt_datetime(case.withdrawn_at) if case.withdrawn_at else ""
    who = case.withdrawn_by or "申请人"
    reason = mask_numbers_in(case.withdrawn_reason) or "未写明"
    # no 办结时限 rows: the case has ended, and a date on it would read as a promise still running
    rows: list[Row] = [*_item_rows(case), *_applicant_rows(case), *_contact_rows(station, case)]
    story += [b.p(f"申请人{case.applicant_name}：您于{fmt_datetime(case.received_at)}申请办理“{case.item_name}”事项，"
                  f"经{who}提出，本站已于{when}登记撤回该申请，本次办理结束。"),
              b.p("撤回原因", b.s.heading), b.p(reason), b.space(1.5), b.kv_table(rows)]
    story += _note_list(b, "须知", [
        "撤回申请不是不予受理；今后需要时，可以重新申请，本站可协助办理。",
        "已提交的申请材料原件，可凭本确认单到本站领回；已转交办理部门的，本站协助取回。",
        "如撤回并非本人意愿，请尽快拨打咨询电话联系本站。"])
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签字：", _DATE_LINE],
                     sealed_by=f"经办单位：{station.name}")


# --- 办结 / 领取通知 ------------------------------------------------------------------------

def _outcome(case: CaseDoc) -> str:
    """准予办理 / 不予办理: one wording on the 办结通知 and the 送达回证 the resident keeps beside it."""
    return f"{RESULTS[case.result]}办理" if case.result in RESULTS else "已办结"


def completion_notice(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """办结/领取通知: the result, and how and where to collect it."""
    title = "办结及领取通知书"
    b, story = _start(station, case, title, layout)
    outcome = _outcome(case)
    pickup = PICKUP_METHODS.get(case.pickup_method, case.pickup_method)
    # where the result goes, by how it goes: the station's window was printed as the place to collect a result
    # being posted or brought to her door
    if case.pickup_method == "post":
        where: list[Row] = [("邮寄地址", mask_numbers_in(case.pickup_address or case.applicant_address) or "申请时登记的地址",
                             True)]
        how = "办理结果将免费邮寄至上述地址，请注意查收；签收时请核对内容。"
    elif case.pickup_method == "hand":
        where = []
        how = f"办理结果由代办员{case.agent_name}送达，届时请出示本通知及申请人身份证件，签收时请核对内容。"
    else:
        where = [("领取地点", case.pickup_address or station.address or station.name, True)]
        how = "领取时请携带本通知及申请人身份证件；委托他人领取的，需携带委托书及代领人身份证件。"
    story += [b.p(f"申请人{case.applicant_name}：您申请的“{case.item_name}”事项已于"
                  f"{fmt_datetime(case.completed_at) or '近日'}办结，办理结果为：{outcome}。"),
              b.space(1.5),
              b.kv_table([*_identity_rows(station, case), ("办理结果", outcome, False),
                          ("办结时间", fmt_datetime(case.completed_at), False),
                          ("结果说明", mask_numbers_in(case.result_text), True), ("领取方式", pickup, False),
                          *where])]
    notes = [how, f"对办理结果有异议的，{REMEDIES}",
             "欢迎扫描二维码或凭查询码对本次服务进行评价（好差评）。"]
    story += _note_list(b, "须知", notes)
    return _sign_off(b, story, station, case, title, ["领取人签字：", "", f"领取日期：{'　' * 8}"],
                     sealed_on=case.completed_at)


# --- 补正材料收取凭证 --------------------------------------------------------------------------

def supplement_receipt(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """补正材料收取凭证: what the resident brought for the county's 补正, one line per material."""
    title = "补正材料收取凭证"
    b, story = _start(station, case, title, layout)
    when = fmt_datetime(case.supplied_at) if case.supplied_at else ""
    story += [b.p(f"申请人{case.applicant_name}：您申请的“{case.item_name}”事项，本站已于{when or '今日'}"
                  "收到下列补正材料，将报送办理部门审核："),
              b.space(1.5), b.kv_table(_identity_rows(station, case)), b.p("补正材料", b.s.heading),
              b.grid(["序号", "材料", "补正情况"],
                     [[str(i), line.name, SUPPLY_FORMS.get(line.supplied_as, line.supplied_as)
                       + (f"（{mask_numbers_in(line.note)}）" if line.note else "")]
                      for i, line in enumerate(case.supplied, 1)] or [["—", "（未列具体材料）", ""]],
                     [0.1, 0.45, 0.45])]
    if case.supplied_note:
        story += [b.p("补正说明", b.s.heading), b.p(mask_numbers_in(case.supplied_note))]
    story += _note_list(b, "须知", ["原件经核验后当场退还，本站只留存复印件或扫描件。",
                                   "办理时限自补正材料齐全之日起继续计算；审核结果可凭查询码查询。"])
    return _sign_off(b, story, station, case, title, ["申请人（代理人）签字：", _DATE_LINE],
                     sealed_on=case.supplied_at)


# --- 送达回证 ----------------------------------------------------------------------------------

def delivery_slip(station: StationInfo, case: CaseDoc, layout: str | Layout = "a4") -> bytes:
    """送达回证: the result and how it was handed over (window pickup, free post, agent delivery)."""
    title = "送达回证"
    b, story = _start(station, case, title, layout)
    d = case.delivery
    outcome = _outcome(case)
    rows: list[Row] = [*_identity_rows(station, case), ("办理结果", outcome, False)]
    if case.result_text:
        rows.append(("结果说明", mask_numbers_in(case.result_text), True))
    if case.result_certificate_no:
        rows.append(("证书编号", mask_certificate_number(case.result_certificate_no), False))
    if d is not None:
        rows.append(("送达方式", PICKUP_METHODS.get(d.method, d.method), False))
        rows.append(("送达日期" if d.method != "post" else "寄出日期", fmt_date(d.delivered_on), False))
        if d.method == "window":
            who = COLLECTOR_KINDS.get(d.collector_kind, "") + " " + d.collector_name
            if d.collector_relation:
                who += f"（{mask_numbers_in(d.collector_relation)}）"
            rows.append(("领取人", who.strip(), False))
            rows.append((f"领取人{d.collector_cert_name}", mask_id_number(d.collector_id_number), False))
        elif d.method == "post":
            rows.append(("EMS 邮件号", d.ems_no, False))
            rows.append(("邮寄地址", mask_numbers_in(d.address), True))
        else:
            rows.append(("签收人", mask_numbers_in(d.receiver), False))
    story += [b.p(f"申请人{case.applicant_name}申请的“{case.item_name}”事项已办结，办理结果送达情况如下："),
              b.space(1.5), b.kv_table(rows)]
    story += _note_list(b, "须知", [f"对办理结果有异议的，{REMEDIES}",
                                   "欢迎扫描二维码或凭查询码对本次服务进行评价（好差评）。"])
    signer = "收件人签字：" if d is not None and d.method == "post" else "领取人（签收人）签字："
    return _sign_off(b, story, station, case, title, [signer, _DATE_LINE])
