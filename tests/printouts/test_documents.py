"""Every document, read back as text: identity, deadlines, masking, literal data, wrapping, pagination."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial

import pytest

from printouts import (
    PRINTABLE_DOCUMENTS,
    applicable_documents,
    collection_receipt,
    ledger,
    notice_missing,
    transfer_sheet,
)
from printouts.bundle_receipt import bundle_receipt
from printouts.data import CaseDoc, MaterialLine, StationInfo
from printouts.samples import (
    SAMPLE_ID_NUMBER,
    SAMPLE_PHONE,
    SAMPLE_PROXY_ID,
    sample_bundle_case,
    sample_case,
    sample_ledger_rows,
    sample_transfer,
)
from tests.fixtures.pdf import flat, pdfinfo, pdftotext

MASKED_ID = "110105********0021"
MASKED_PHONE = "138****1234"
CASE_DOCS = {key: doc.build for key, doc in PRINTABLE_DOCUMENTS.items()}
CASE_DOCS["notice_missing_roll"] = partial(notice_missing, layout="roll80")


@pytest.mark.parametrize("key", sorted(CASE_DOCS))
def test_document_carries_identity_and_masks_numbers(key: str, font_mode: str, station: StationInfo,
                                                     case: CaseDoc) -> None:
    text = flat(pdftotext(CASE_DOCS[key](station, case)))
    due = () if key in ("rejection", "withdrawal") else ("2025年4月2日",)  # an ended case has no limit running
    for expected in (case.case_no, case.item_name, case.item_code, case.query_code, station.name, station.code,
                     *due, MASKED_ID, case.agent_name):
        assert flat(expected) in text, f"{key}: {expected!r} missing"
    assert SAMPLE_ID_NUMBER not in text
    assert SAMPLE_PHONE not in text
    assert SAMPLE_PROXY_ID not in text


def test_masked_phone_on_receipt(font_mode: str, station: StationInfo, case: CaseDoc) -> None:
    assert MASKED_PHONE in pdftotext(collection_receipt(station, case))


def test_full_numbers_absent_from_pdf_bytes_and_metadata(station: StationInfo, case: CaseDoc) -> None:
    for build in CASE_DOCS.values():
        pdf = build(station, case)
        info = " ".join(pdfinfo(pdf).values())
        assert case.applicant_name not in info  # metadata names the document, never the person
        assert SAMPLE_ID_NUMBER.encode() not in pdf


def test_provisional_deadline_is_marked(font_mode: str, station: StationInfo) -> None:
    case = sample_case(statutory_provisional=True, committed_provisional=True, deadline_warning="2027年节假日数据缺失，仅按周末计算")
    for layout in ("a4", "roll80"):
        text = flat(pdftotext(collection_receipt(station, case, layout=layout)))
        assert "（暂定：2027年节假日数据缺失" in text


def test_only_the_provisional_date_is_marked(font_mode: str, station: StationInfo) -> None:
    """A committed date inside a year with holiday data prints firm even when the statutory date is not."""
    case = sample_case(statutory_provisional=True, committed_provisional=False,
                       deadline_warning="2027年节假日数据缺失，仅按周末计算")
    text = flat(pdftotext(collection_receipt(station, case, layout="a4")))
    assert text.count("暂定") == 1
    assert "暂定" in text.split("法定办结时限")[1].split("承诺办结时限")[0]
    assert "暂定" not in text.split("承诺办结时限")[1]


def test_a_notice_that_says_call_the_supervision_line_always_gives_one(station: StationInfo) -> None:
    """一次性告知书: 您有权拒绝，并可拨打监督电话反映 — beside an empty 监督电话 when neither the item nor the station set one."""
    text = flat(pdftotext(notice_missing(replace(station, supervise_phone=""), sample_case(supervise_phone=""))))
    assert "可拨打监督电话反映" in text and "监督电话12345（政务服务便民热线）" in text
    text = flat(pdftotext(notice_missing(replace(station, supervise_phone=""), sample_case(supervise_phone="0351-12345678"))))
    assert "监督电话0351-12345678" in text and "便民热线" not in text


def test_a_receipt_dates_what_happened_at_the_counter(station: StationInfo) -> None:
    """A 受理凭证 gives the day of 受理 (行政许可法 §32: acceptance dated in writing), a 收件回执 the day of 收件."""
    when = datetime(2026, 12, 31, 16, 58)
    accepted = flat(pdftotext(collection_receipt(station, sample_case(decision="accepted", received_at=when))))
    collected = flat(pdftotext(collection_receipt(station, sample_case(decision="collected", received_at=when))))
    assert "受理时间2026年12月31日16:58" in accepted and "收件时间" not in accepted
    assert "本站受太原市小店区人力资源和社会保障局委托，予以受理" in accepted  # in whose name the station accepts
    assert "收件时间2026年12月31日16:58" in collected and "受理时间" not in collected


@pytest.mark.parametrize(("decision", "mode", "title"), [
    ("accepted", "assisted", "受理凭证"), ("accepted", "proxy", "受理凭证"),
    ("collected", "assisted", "收件回执"), ("collected", "proxy", "代办回执"),
])
def test_receipt_title_follows_who_accepts(decision: str, mode: str, title: str, station: StationInfo) -> None:
    text = pdftotext(collection_receipt(station, sample_case(decision=decision, mode=mode)))
    assert title in text
    if decision != "accepted":
        assert "受理凭证" not in text


def test_markup_in_residents_data_prints_literally(font_mode: str, station: StationInfo) -> None:
    nasty = "<b>&amp;王</b>秀<兰 & <font size=40>"
    case = sample_case(applicant_name=nasty, applicant_address="<para>三组&#17;号</para>")
    for build in CASE_DOCS.values():
        text = flat(pdftotext(build(station, case)))
        assert flat(nasty) in text
    text = flat(pdftotext(collection_receipt(station, case)))
    assert flat("<para>三组&#17;号</para>") in text


def test_control_characters_do_not_break_layout(station: StationInfo) -> None:
    case = sample_case(applicant_name="王\x00秀\n兰\t", applicant_address="三组\r\n17号\x1b[31m")
    text = pdftotext(collection_receipt(station, case, layout="roll80"))
    assert "17号" in text


def _words_inside_page(pdf: bytes) -> tuple[float, float]:
    """(page width, right-most word edge) from pdftotext's bounding boxes."""
    html = pdftotext(pdf, None, None, "-bbox")
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', html))
    return width, right


@pytest.mark.parametrize("layout", ["a4", "roll80"])
def test_long_address_wraps_inside_the_page(layout: str, font_mode: str, station: StationInfo) -> None:
    address = ("山西省太原市小店区北格镇张花村" + "东街西巷南门北院甲乙丙丁ABCDEFGHIJKLMNOPQRSTUV0123456789" * 6)[:200]
    assert len(address) == 200
    name = "欧阳" + "娜" * 40
    pdf = collection_receipt(station, sample_case(applicant_address=address, applicant_name=name), layout=layout)
    text = flat(pdftotext(pdf))
    assert flat(address) in text and name in text
    width, right = _words_inside_page(pdf)
    margin = 3.5 * 72 / 25.4 if layout == "roll80" else 15 * 72 / 25.4
    assert right <= width - margin, f"text runs to {right:.1f} on a {width:.1f}pt page"


def test_roll_receipt_is_80mm_wide_and_one_page(station: StationInfo, case: CaseDoc) -> None:
    info = pdfinfo(collection_receipt(station, case, layout="roll80"))
    width, height = (float(x) for x in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert abs(width - 80 * 72 / 25.4) < 0.5
    assert info["Pages"] == "1"
    assert height > width  # sized to the content


def test_unknown_layout_is_refused(station: StationInfo, case: CaseDoc) -> None:
    with pytest.raises(ValueError, match="roll80"):
        collection_receipt(station, case, layout="letter")


def test_notice_missing_lists_every_missing_material_with_source(font_mode: str, station: StationInfo) -> None:
    case = sample_case(decision="not_collected")
    text = flat(pdftotext(notice_missing(station, case)))
    missing = [m for m in case.materials if m.status == "missing"]
    assert missing
    for m in missing:
        assert flat(m.name) in text and flat(m.source) in text
    assert f"共{len(missing)}项" in text
    assert "第三十二条" in text
    assert "申请时间" in text and "收件时间" not in text  # the notice refuses collection: no 收件 took place


@pytest.mark.parametrize(("decision", "done", "receipt"), [("collected", "本站已收件", "收件回执"),
                                                          ("accepted", "本站已受理", "受理凭证")])
def test_a_taken_in_cases_notice_and_receipt_agree_on_the_material_still_to_bring(
        decision: str, done: str, receipt: str, station: StationInfo) -> None:
    """The station took the case in with an auxiliary material missing: the 一次性告知书 said 申请材料尚不齐全…
    补齐后本站将当场收件 beside a 受理凭证 saying 材料齐全…予以受理, and the receipt never named the material."""
    photo = MaterialLine("近期免冠一寸白底彩色照片（制社保卡用）", "original", 1, "missing", source="照相馆拍摄")
    case = sample_case(decision=decision, mode="assisted",
                       materials=(MaterialLine("居民身份证", "original", 1, "provided"), photo))
    notice = flat(pdftotext(notice_missing(station, case)))
    assert f"{done}（见{receipt}）" in notice and flat(photo.name) in notice and "共1项" in notice
    assert "尚不齐全" not in notice and "将当场收件" not in notice
    text = flat(pdftotext(collection_receipt(station, case)))
    assert flat(f"尚未提交的材料（共1项）：{photo.name}。请按《一次性告知书》补齐后交至本站。") in text
    assert f"请妥善保管本{receipt[-2:]}" in text
    in_bundle = replace(case, bundle=sample_bundle_case().bundle)  # its one receipt is the 一件事's
    assert "（见一件事收件回执）" in flat(pdftotext(notice_missing(station, in_bundle)))


def test_the_commitment_letter_says_what_each_promise_stands_for(station: StationInfo) -> None:
    """告知承诺书 must state the content promised: it listed the material's name with 原件 1份 (a paper she is not
    bringing), never what the proof would have shown."""
    promised = (MaterialLine("迁入地住房或接收证明", "copy", 1, "commitment", description="在迁入地有合法稳定住所"),
                MaterialLine("计划生育情况承诺书", "original", 1, "commitment"))
    case = sample_case(materials=(MaterialLine("居民身份证", "original", 1, "provided"), *promised))
    for layout in ("a4", "roll80"):
        text = flat(pdftotext(PRINTABLE_DOCUMENTS["commitment"].build(station, case, layout=layout)))
        table = text.split("以承诺代替的证明材料")[1].split("（一）告知承诺适用的方式")[0]
        assert "1迁入地住房或接收证明在迁入地有合法稳定住所" in table
        assert "2计划生育情况承诺书按本事项办事指南的要求" in table
        assert "居民身份证" not in table and "份" not in table


def test_the_receipt_does_not_count_a_deferred_material_as_received(station: StationInfo, case: CaseDoc) -> None:
    """收取材料（共5项） counted the 容缺 material still to come among what the station received."""
    text = flat(pdftotext(collection_receipt(station, case)))
    assert "收取材料（共5项，其中1项容缺后补、尚未收取）" in text
    deferred = replace(case, materials=(*case.materials, MaterialLine("村委会证明", "original", 1, "deferred",
                                                                       due_date=date(2025, 3, 12))))
    assert "收取材料（共6项，其中2项容缺后补、尚未收取）" in flat(pdftotext(collection_receipt(station, deferred)))


@pytest.mark.parametrize("build", [collection_receipt, bundle_receipt])
def test_a_receipt_gives_the_address_to_type_the_code_into(build, station: StationInfo) -> None:
    """A resident with no phone to scan the QR was told 凭查询码…查询 and not where: the county's address is printed."""
    case = sample_bundle_case() if build is bundle_receipt else sample_case()
    county = replace(station, public_url="https://zwfw.sfx.gov.cn/")
    text = flat(pdftotext(build(county, case), None, None, "-raw"))
    assert f"扫描二维码，或登录https://zwfw.sfx.gov.cn/q输入查询码{case.query_code}，即可查询" in text
    assert "或登录" not in flat(pdftotext(build(station, case)))  # the station's own page is out of reach from home


def test_deferral_notice_shows_due_dates(station: StationInfo, case: CaseDoc) -> None:
    text = flat(pdftotext(PRINTABLE_DOCUMENTS["deferral"].build(station, case)))
    assert "社会保障卡或银行账户信息" in text and "2025年3月12日" in text and "逾期" in text
    # the station collects, the department accepts: the notice said 现予容缺收件（受理）
    assert "本站先予容缺收件，报送太原市小店区人力资源和社会保障局审查" in text and "（受理）" not in text


def test_many_materials_paginate_with_footer(station: StationInfo) -> None:
    mats = tuple(MaterialLine(f"材料{i:03d}", "copy", 1, "missing", source="村委会开具") for i in range(120))
    pdf = notice_missing(station, sample_case(materials=mats, decision="not_collected"))
    pages = int(pdfinfo(pdf)["Pages"])
    assert pages > 1
    for n in range(1, pages + 1):
        page = flat(pdftotext(pdf, n, n))
        assert f"第{n}页共{pages}页" in page
        assert "14010510020120250305-0007" in page
    assert "材料119" in flat(pdftotext(pdf))


def test_transfer_sheet_carries_batch_number_and_lines(font_mode: str, station: StationInfo) -> None:
    transfer = sample_transfer()
    text = flat(pdftotext(transfer_sheet(station, transfer), None, None, "-raw"))  # content order: cells whole
    assert transfer.batch_no in text  # the barcode's human-readable line and the header
    for line in transfer.lines:
        assert line.case_no in text and flat(line.material_name) in text
    assert "交接记录" in text and "赵敏" in text


def test_numbers_typed_on_a_transfer_sheet_are_masked(station: StationInfo) -> None:
    """A paper found extra in a batch is named as the clerk typed it, with the resident's ID or phone in it."""
    from printouts.data import Handover, TransferLine

    transfer = sample_transfer()
    extra = TransferLine("（清单外）", "—", f"王秀兰身份证复印件{SAMPLE_ID_NUMBER}（多出）", "original", 0)
    transfer = replace(transfer, lines=(*transfer.lines, extra), note=f"家属电话{SAMPLE_PHONE}，原件请勿折叠",
                       handovers=(*transfer.handovers, Handover("赵敏", datetime(2025, 3, 6, 11), f"北格镇（联系{SAMPLE_PHONE}）", "接收")))
    text = flat(pdftotext(transfer_sheet(station, transfer), None, None, "-raw"))
    assert "王秀兰身份证复印件110105********0021（多出）" in text
    assert f"家属电话{MASKED_PHONE}，原件请勿折叠" in text and f"北格镇（联系{MASKED_PHONE}）" in text
    assert SAMPLE_ID_NUMBER not in text and SAMPLE_PHONE not in text


def test_transfer_sheet_refuses_non_ascii_batch(station: StationInfo) -> None:
    with pytest.raises(ValueError):
        transfer_sheet(station, replace(sample_transfer(), batch_no="批次1"))


def test_ledger_500_rows_repeats_header_on_every_page(font_mode: str, station: StationInfo) -> None:
    rows = sample_ledger_rows(500)
    pdf = ledger(station, date(2025, 3, 5), rows)
    pages = int(pdfinfo(pdf)["Pages"])
    assert pages > 1
    for n in range(1, pages + 1):
        page = flat(pdftotext(pdf, n, n))
        for heading in ("序号", "办件编号", "事项名称", "证件号码", "法定期限", "同步"):
            assert heading in page, f"page {n} lacks header {heading}"
        assert f"第{n}页共{pages}页" in page
    text = flat(pdftotext(pdf))
    assert rows[-1].case_no in text and rows[0].case_no in text
    assert MASKED_ID in text and SAMPLE_ID_NUMBER not in text
    assert "合计500件" in text


def test_ledger_prints_markup_literally(station: StationInfo) -> None:
    rows = [replace(r, applicant_name="<i>赵&", village="<b>村") for r in sample_ledger_rows(3)]
    text = flat(pdftotext(ledger(station, date(2025, 3, 5), rows)))
    assert "<i>赵&" in text and "<b>村" in text


@pytest.mark.parametrize("key", sorted(CASE_DOCS))
def test_minimal_case_builds(key: str, station: StationInfo) -> None:
    from datetime import datetime

    bare = CaseDoc(case_no="X-1", query_code="Q1", item_name="某事项", item_code="0001",
                   received_at=datetime(2025, 1, 2, 8, 0))
    text = flat(pdftotext(CASE_DOCS[key](station, bare)))
    assert "X-1" in text and "某事项" in text


def test_empty_ledger_and_transfer(station: StationInfo) -> None:
    from datetime import datetime

    from printouts.data import TransferDoc

    assert "合计0件" in flat(pdftotext(ledger(station, date(2025, 3, 5), [])))
    empty = TransferDoc("B-1", "甲", "乙", datetime(2025, 3, 5, 8, 0), "李建国")
    assert "B-1" in pdftotext(transfer_sheet(station, empty))


def test_supplement_receipt_lists_each_material_and_how_it_came(station: StationInfo, case: CaseDoc) -> None:
    from datetime import datetime

    from printouts import supplement_receipt
    from printouts.data import SuppliedLine

    supplied = replace(case, supplied_at=datetime(2025, 3, 11, 9, 30), supplied=(
        SuppliedLine("户口簿", "copy"), SuppliedLine("残疾人证", "not_applicable", "非残疾人参保")))
    text = flat(pdftotext(supplement_receipt(station, supplied)))
    for expected in ("补正材料收取凭证", "户口簿", "复印件", "残疾人证", "不适用（非残疾人参保）", "2025年3月11日"):
        assert flat(expected) in text, expected


@pytest.mark.parametrize(("delivery", "expected", "absent"), [
    (dict(method="window", collector_kind="authorised", collector_name="王小二", collector_relation="儿子",
          collector_id_number="141081199001010018"), ("窗口领取", "受委托人王小二（儿子）", "141081********0018"),
     "141081199001010018"),
    (dict(method="post", ems_no="EA123456789CN", address="北格镇张花村三组17号"),
     ("免费邮寄", "EA123456789CN", "北格镇张花村三组17号", "寄出日期"), "领取人"),
    (dict(method="hand", receiver="王秀兰"), ("代办员送达", "签收人", "王秀兰"), "EMS"),
])
def test_delivery_slip_says_how_the_result_was_handed_over(station: StationInfo, case: CaseDoc, delivery: dict,
                                                           expected: tuple[str, ...], absent: str) -> None:
    from printouts import delivery_slip
    from printouts.data import DeliveryDoc

    card = SAMPLE_ID_NUMBER + "42"  # the certificate of a 残疾人证: its holder's ID number and two digits
    slip = replace(case, result_certificate_no=card, delivery=DeliveryDoc(delivered_on=date(2025, 3, 14), **delivery))
    text = flat(pdftotext(delivery_slip(station, slip)))
    assert "六十日内依法申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text
    for word in ("送达回证", "办理结果准予办理", "证书编号110105**********2142", "2025年3月14日", *expected):
        assert flat(word) in text, word
    assert flat(absent) not in text and SAMPLE_ID_NUMBER not in text


def test_a_refused_application_is_told_in_writing_with_its_reason_date_and_remedies(station: StationInfo) -> None:
    """行政许可法 §32: 不予受理 in writing. A case the county refused offered no paper but its old receipt."""
    reason = f"申请人户籍不在本县（身份证{SAMPLE_ID_NUMBER}），请到户籍地申请"
    case = sample_case(rejected_at=datetime(2025, 3, 10, 9, 0), rejected_reason=reason, result=None,
                       supplement_items=(), supplement_reason="")
    assert dict(applicable_documents(case))["rejection"] == "不予受理告知书"
    for layout in ("a4", "roll80"):
        text = flat(pdftotext(PRINTABLE_DOCUMENTS["rejection"].build(station, case, layout=layout)))
        assert "经太原市小店区人力资源和社会保障局审查，于2025年3月10日决定不予受理" in text
        assert f"申请人户籍不在本县（身份证{MASKED_ID}），请到户籍地申请" in text and SAMPLE_ID_NUMBER not in text
        assert "六十日内依法申请行政复议" in text and "六个月内" in text
        assert "2025年4月2日" not in text and "办结时限" not in text
    assert "rejection" not in dict(applicable_documents(sample_case()))


def test_a_withdrawn_application_is_confirmed_on_paper_with_her_reason_masked_and_no_deadline(
        station: StationInfo) -> None:
    reason = f"儿子已在市里办好（电话13912345678，身份证{SAMPLE_ID_NUMBER}）"
    case = sample_case(withdrawn_at=datetime(2025, 3, 10, 9, 30), withdrawn_reason=reason, withdrawn_by="代办人",
                       result=None, supplement_items=(), supplement_reason="")
    assert dict(applicable_documents(case))["withdrawal"] == "撤回申请确认单"
    for layout in ("a4", "roll80"):
        text = flat(pdftotext(PRINTABLE_DOCUMENTS["withdrawal"].build(station, case, layout=layout)))
        assert flat("撤回申请确认单") in text and flat("经代办人提出，本站已于2025年3月10日") in text
        assert flat(f"儿子已在市里办好（电话139****5678，身份证{MASKED_ID}）") in text
        assert SAMPLE_ID_NUMBER not in text and "13912345678" not in text
        assert flat("撤回申请不是不予受理") in text and "2025年4月2日" not in text and "办结时限" not in text
    assert "withdrawal" not in dict(applicable_documents(sample_case()))


@pytest.mark.parametrize(("method", "told", "said"), [
    ("window", "领取地点北格镇张花村村委会一楼便民服务站", "领取时请携带本通知"),
    ("post", "邮寄地址山西省太原市小店区北格镇张花村三组17号", "办理结果将免费邮寄至上述地址"),
    ("hand", "领取方式代办员送达", "办理结果由代办员李建国送达"),
])
def test_the_completion_notice_says_where_the_result_goes_by_how_it_goes(
        method: str, told: str, said: str, station: StationInfo) -> None:
    """A result posted or brought to her door was told to be collected at the station's window."""
    text = flat(pdftotext(PRINTABLE_DOCUMENTS["completion"].build(station, sample_case(pickup_method=method))))
    assert told in text and said in text and "办理结果准予办理" in text
    assert "六十日内依法申请行政复议" in text  # the right to review, with the time she has for it
    if method != "window":
        assert "领取地点" not in text and flat(station.address) not in text


def test_the_bundle_receipt_lists_every_item_with_its_own_case_number_under_one_code(
        font_mode: str, station: StationInfo) -> None:
    """Issue 19: one paper for the 新生儿出生一件事: five items, five case numbers, one query code."""
    case = sample_bundle_case()
    text = flat(pdftotext(bundle_receipt(station, case)))
    assert "一件事收件回执" in text and "新生儿出生一件事" in text and "共5个事项" in text
    for line in case.bundle.items:
        assert flat(line.item_name) in text and line.case_no in text
    assert text.count(flat(case.query_code)) >= 1
    received = text.split("收取材料")[1].split("温馨提示")[0]
    assert "结婚证" in received and "出生医学证明" not in received
    assert "出生医学证明（由本件事前项办结后出具）" in text


@pytest.mark.parametrize("layout", ["a4", "roll80"])
def test_the_bundle_receipt_gives_each_items_deadlines_on_either_paper(layout: str, station: StationInfo) -> None:
    """The 80 mm bundle receipt listed the items with no 办结期限 at all, 暂定 or not."""
    case = sample_bundle_case()
    items = tuple(replace(line, committed_due=date(2027, 1, 6 + n), committed_provisional=True,
                          statutory_due=date(2026, 12, 21 + n)) for n, line in enumerate(case.bundle.items))
    case = replace(case, bundle=replace(case.bundle, items=items))
    text = flat(pdftotext(bundle_receipt(station, case, layout=layout), None, None, "-raw"))
    for n, line in enumerate(items):
        assert f"承诺至2027年1月{6 + n}日（暂定）" in text and f"法定至2026年12月{21 + n}日" in text, line.item_name
    assert text.count("（暂定）") == len(items)


def test_ledger_dates_and_times_fit_their_columns(station: StationInfo) -> None:
    """A due date with its provisional mark, and a month ledger's date+time, never spill into the next column."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from printouts.fonts import cjk_font
    from printouts.layout import LEDGER_LAYOUT, Builder
    from printouts.sheets import LEDGER_COLUMNS, LEDGER_DATE_COLUMNS, ledger_date

    b = Builder(cjk_font(), LEDGER_LAYOUT)
    size = b.s.cell.fontSize
    width = LEDGER_LAYOUT.frame_width
    padding = 3  # 1.5 pt each side
    for column in LEDGER_DATE_COLUMNS:
        text = ledger_date(date(2025, 12, 28), provisional=True)
        assert stringWidth(text, b.font.name, size) + padding <= LEDGER_COLUMNS[column][1] * width, text
    stamp = datetime(2025, 12, 28, 23, 59).strftime("%m-%d %H:%M")
    assert stringWidth(stamp, b.font.name, size) + padding <= LEDGER_COLUMNS[1][1] * width


def test_a_month_ledger_shows_the_period_and_each_case_date(station: StationInfo) -> None:
    rows = [replace(r, received_at=r.received_at + timedelta(days=i % 28)) for i, r in enumerate(sample_ledger_rows(40))]
    rows.sort(key=lambda r: r.received_at)
    text = flat(pdftotext(ledger(station, date(2025, 3, 1), rows, date(2025, 3, 31))))
    assert "2025年3月1日至2025年3月31日" in text
    assert "03-28" in text and "2025-04-02" in text


def _word_tops(pdf: bytes) -> dict[str, float]:
    """Where each word starts down the first page (points from the top), read back with pdftotext -bbox."""
    import re as _re

    html = pdftotext(pdf, 1, 1, "-bbox")
    return {_re.sub(r"<[^>]+>", "", w[1]): float(w[0])
            for w in _re.findall(r'<word[^>]*yMin="([\d.]+)"[^>]*>(.*?)</word>', html)}


def test_the_transfer_sheet_leaves_room_to_sign_each_handover_still_to_come(station: StationInfo) -> None:
    """The blank 交接记录 rows printed as hairlines: the township and the county had nowhere to sign."""
    from datetime import datetime

    from printouts.data import TransferDoc

    fresh = TransferDoc("WL-ST1-20250305-01", "东关村便民服务站", "东关镇便民服务中心", datetime(2025, 3, 5, 8, 0), "李建国")
    tops = _word_tops(transfer_sheet(station, fresh))
    header = tops["签字"]  # the 交接记录 table's head; the note below the table comes after its blank rows
    below = next(top for word, top in tops.items() if word.startswith("接收方请逐项核对原件"))
    room_mm = (below - header) * 25.4 / 72
    assert room_mm >= 3 * 8, f"only {room_mm:.1f} mm under the head for three handwritten handovers"


def test_the_countys_ledger_names_each_cases_station_and_leaves_the_signing_date_to_the_pen(
        station: StationInfo) -> None:
    """The county's PDF had no station column (a 同步 column it never fills instead), a month's ledger taken on
    the 2nd printed 日期：…31日 under the signatures, and the names had no room (blank space collapsed)."""
    rows = [replace(r, station_name="东关村便民服务站" if i % 2 else "西关村便民服务站")
            for i, r in enumerate(sample_ledger_rows(4))]
    county = flat(pdftotext(ledger(station, date(2025, 3, 1), rows, date(2025, 3, 31))))
    assert "服务站" in county and "东关村便民服务站" in county and "西关村便民服务站" in county
    assert "同步" not in county
    assert "日期：2025年3月31日" not in county and re.search(r"制表人：_{16}.*审核人：_{16}.*日期：_+年_+月_+日", county)
    own = flat(pdftotext(ledger(station, date(2025, 3, 1), sample_ledger_rows(4), date(2025, 3, 31))))
    assert "同步" in own and "西关村便民服务站" not in own  # a station's own ledger keeps its sync column


def test_numbers_typed_into_free_text_are_masked_on_paper(station: StationInfo, case: CaseDoc) -> None:
    """A county clerk's 补正 reason or an agent's note naming a relative's phone or ID number is printed
    masked, as the case page shows it: the paper leaves the station in the resident's hands."""
    from printouts.data import DeliveryDoc, SuppliedLine

    phone, relative_id = "13911112222", "110105199001010033"
    typed = replace(
        case, supplement_reason=f"请联系{phone}", supplement_items=(f"儿子身份证{relative_id}复印件",),
        result_text=f"联系人电话{phone}", supplied_note=f"女儿{phone}代交", supplied_at=datetime(2025, 3, 11, 9, 0),
        supplied=(SuppliedLine("户口簿", "not_applicable", f"已迁出，见{relative_id}"),),
        materials=(*case.materials, MaterialLine("残疾证", status="not_applicable", note=f"无，联系{phone}")),
        delivery=DeliveryDoc("window", date(2025, 3, 14), "authorised", "王二", collector_id_number=relative_id,
                             collector_relation=f"儿子{phone}"))
    seen = ""
    for key in ("receipt", "receipt_roll", "supplement", "completion", "supplement_receipt", "delivery_slip"):
        text = flat(pdftotext(CASE_DOCS[key](station, typed)))
        assert phone not in text and relative_id not in text, key
        seen += text
    for masked in ("139****2222", "110105********0033", "残疾证（不适用：无，联系139****2222）", "请联系139****2222",
                   "已迁出，见110105********0033", "联系人电话139****2222", "女儿139****2222代交"):
        assert flat(masked) in seen, masked
    hand = replace(typed, delivery=DeliveryDoc("hand", date(2025, 3, 14), receiver=f"王秀兰{phone}"))
    assert "王秀兰139****2222" in flat(pdftotext(CASE_DOCS["delivery_slip"](station, hand)))


def test_numbers_typed_into_an_address_or_a_relation_are_masked_on_paper(station: StationInfo, case: CaseDoc) -> None:
    """An address typed with a relative's phone in it, or a proxy's relation with the relative's ID, printed whole."""
    from printouts.data import DeliveryDoc

    phone, relative_id = "13911112222", "110105199001010033"
    typed = replace(case, applicant_address=f"张花村三组17号（儿子电话{phone}）", proxy_relation=f"儿子，身份证{relative_id}",
                    pickup_method="post",
                    delivery=DeliveryDoc("post", date(2025, 3, 14), ems_no="EA123456789CN", address=f"张花村三组17号 {phone}"))
    for key in ("receipt", "authorization", "completion", "delivery_slip"):
        text = flat(pdftotext(CASE_DOCS[key](station, typed)))
        assert phone not in text and relative_id not in text, key
        assert "张花村三组17号（儿子电话139****2222）" in text or "张花村三组17号139****2222" in text, key
    assert "儿子，身份证110105********0033" in flat(pdftotext(CASE_DOCS["authorization"](station, typed), None, None, "-raw"))


def test_an_e_licence_number_that_holds_the_id_number_is_masked_on_paper(station: StationInfo, case: CaseDoc) -> None:
    disability_card = SAMPLE_ID_NUMBER + "42"  # a 残疾人证 number is its holder's ID number and two digits
    lines = (*case.materials, MaterialLine("残疾人证", "original", 1, "e_license", e_license_no=disability_card))
    shown = 0
    for key, build in CASE_DOCS.items():
        pdf = build(station, replace(case, materials=lines))
        text = flat(pdftotext(pdf))
        assert flat(disability_card) not in text and disability_card.encode() not in pdf, key
        shown += flat("110105**********2142") in text
    assert shown >= 2  # the documents that list the materials still say which licence stood in for paper


def test_no_page_ends_with_a_heading_whose_list_is_on_the_next(station: StationInfo) -> None:
    """A 容缺受理通知书 with 22 deferred materials printed 须知 as the last line of page 1, its points on page 2."""
    headings = {"须知", "容缺后补材料", "说明", "需补齐的材料"}
    ended = []
    for n in range(14, 30):
        mats = tuple(MaterialLine(f"容缺材料第{i}项（加盖村委会公章的证明）", "copy", 1, "deferred",
                                  due_date=date(2025, 3, 12)) for i in range(n))
        pdf = PRINTABLE_DOCUMENTS["deferral"].build(station, sample_case(materials=mats))
        for page in pdftotext(pdf, None, None, "-layout").split("\f")[:-1]:
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            if len(lines) > 1 and lines[-2] in headings:  # the last line is the footer
                ended.append((n, lines[-2]))
    assert not ended


def test_a_long_table_starts_on_the_page_of_its_heading(station: StationInfo) -> None:
    """Keeping a heading with what follows must not push a whole 40-line batch to page 2, leaving page 1 blank."""
    from printouts.data import TransferLine

    lines = tuple(TransferLine(f"14010510020120250305-{i:04d}", "农村村民宅基地和建房（规划许可）审批", "申请人身份证复印件",
                               "original_and_copy", 2) for i in range(40))
    pdf = transfer_sheet(station, replace(sample_transfer(), lines=lines))
    first = flat(pdftotext(pdf, 1, 1))
    assert "材料清单" in first and "14010510020120250305-0000" in first


def test_a_limit_in_hours_says_how_its_date_was_counted(station: StationInfo) -> None:
    """24小时，至12月8日 read as a promise broken before it was made: the hours are office hours, 8 a day."""
    case = sample_case(committed_limit_text="24小时", committed_due=date(2026, 12, 8))
    for layout in ("a4", "roll80"):
        text = flat(pdftotext(collection_receipt(station, case, layout=layout)))
        committed = text.split("承诺办结时限")[1]
        assert "24小时（按工作时间计，每个工作日8小时），至2026年12月8日" in committed
        assert "按工作时间计" not in text.split("承诺办结时限")[0]  # a limit in working days says nothing more


#: Every mark reportlab lets hang at a line's end, in a run of text that puts one at many line ends.
_HANGING_TEXT = "".join(f"{'甲乙丙丁戊己庚辛壬癸' * 3}"[:n] + mark for n, mark in
                        zip(range(7, 40, 3), "，。、；：？！）」》，。", strict=False))


@pytest.mark.parametrize("key", ["receipt", "notice_missing"])
def test_nothing_is_printed_past_the_rolls_printable_width(key: str, station: StationInfo) -> None:
    """A thermal printer prints 72 mm of the 80 mm roll: a ，or 。 hanging past the line's end was cut off."""
    from reportlab.lib.units import mm

    materials = [MaterialLine(name=_HANGING_TEXT[:60], status="missing", source=_HANGING_TEXT),
                 MaterialLine(name="户口簿", description=_HANGING_TEXT)]
    case = sample_case(applicant_address=_HANGING_TEXT, item_name=_HANGING_TEXT[:40], materials=materials)
    pdf = CASE_DOCS[key](station, case, layout="roll80")
    boxes = re.findall(r'xMax="([\d.]+)"[^>]*>([^<]+)<', pdftotext(pdf, None, None, "-bbox"))
    assert any(word.endswith(("，", "。", "：")) for _x, word in boxes)  # marks did fall at line ends
    right_edge = 76 * mm  # 4 mm margin each side of the 72 mm the printer prints
    beyond = [(word, round(float(x) / mm, 1)) for x, word in boxes if float(x) > right_edge + 0.2]
    assert beyond == []
