"""Realistic sample data: one case in every state a document needs, for tests, renders and the benchmark.

Kept in the package (not in tests) so the station's print-preview page and the committed PNG
renders show exactly what the tests check. The ID numbers pass the GB 11643 checksum but
belong to nobody.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from printouts.data import (
    BundleDoc,
    BundleItemLine,
    CaseDoc,
    Handover,
    LedgerRow,
    MaterialLine,
    StationInfo,
    TransferDoc,
    TransferLine,
)

SAMPLE_ID_NUMBER = "110105195603090021"
SAMPLE_PHONE = "13812341234"
SAMPLE_PROXY_ID = "140105197508150035"


def sample_station() -> StationInfo:
    """A village station in a real-looking county."""
    return StationInfo(
        name="太原市小店区北格镇张花村便民服务站", code="140105100201", area_code="140105100201",
        address="北格镇张花村村委会一楼便民服务站", phone="0351-7654321", supervise_phone="12345",
        query_url_base="https://zwfw.example.gov.cn/q",
    )


def sample_case(**changes: object) -> CaseDoc:
    """A 承诺件 collected by proxy with every kind of material status, a 补正 and a result."""
    received = datetime(2025, 3, 5, 9, 42)
    case = CaseDoc(
        case_no="14010510020120250305-0007", query_code="K7Q4-9MZD", case_id="01JNP3Z6V1S7T3XQ2N5B8C4D6E",
        item_name="城乡居民基本养老保险待遇申领", item_code="000137015000",
        impl_code="11140105MB1958216X4000137015000", department="太原市小店区人力资源和社会保障局",
        kind="committed", mode="proxy", decision="collected",
        applicant_name="王秀兰", applicant_cert_type_name="居民身份证", applicant_id_number=SAMPLE_ID_NUMBER,
        applicant_phone=SAMPLE_PHONE, applicant_address="山西省太原市小店区北格镇张花村三组17号",
        agent_name="李建国", agent_phone="0351-7654321", proxy_name="李建国", proxy_id_number=SAMPLE_PROXY_ID,
        proxy_relation="村代办员", received_at=received,
        statutory_due=date(2025, 4, 2), committed_due=date(2025, 3, 14),
        statutory_limit_text="20个工作日", committed_limit_text="7个工作日",
        pickup_method="hand", consult_phone="0351-7654321", supervise_phone="12345",
        materials=(
            MaterialLine("居民身份证", "original_and_copy", 1, "provided"),
            MaterialLine("户口簿", "copy", 1, "provided"),
            MaterialLine("社会保障卡或银行账户信息", "copy", 1, "deferred", due_date=date(2025, 3, 12),
                         source="携带社保卡到本站复印，或由开户银行出具账户证明"),
            MaterialLine("未领取其他基本养老保险待遇的承诺", "original", 1, "commitment"),
            MaterialLine("居民户口簿电子证照", "original", 1, "e_license", e_license_no="DZZZ-140105-2025-000318"),
            MaterialLine("近期一寸免冠彩色照片", "original", 2, "missing",
                         source="本站可免费拍照；或到镇便民服务中心自助拍照机拍摄",
                         description="白底，近6个月内"),
            MaterialLine("代办委托书", "original", 1, "missing", source="本站提供格式文本，委托人签字并按手印"),
        ),
        supplement_items=("身份证复印件不清晰，请提供清晰的正反面复印件", "补充填写开户银行名称"),
        supplement_reason="复印件字迹模糊，无法核验身份信息。", supplement_due=date(2025, 3, 20),
        supplement_at=datetime(2025, 3, 10, 15, 5),
        result="approved", result_text="自2025年4月起按月发放基础养老金，发放至登记的社会保障卡。",
        completed_at=datetime(2025, 3, 13, 16, 20),
        issued_at=received,
    )
    return replace(case, **changes)  # type: ignore[arg-type]


def sample_bundle_case() -> CaseDoc:
    """The sample case as the first item of a 新生儿出生一件事: one receipt, one code for all five."""
    case = sample_case(item_name="出生医学证明首次签发", pickup_method="window")
    names = ("出生医学证明首次签发", "生育登记", "出生登记（户口登记）", "新生儿参保登记", "社会保障卡申领")
    items = tuple(BundleItemLine(item_name=name, case_no=f"14010510020120250305-00{7 + n:02d}", decision="collected",
                                 item_code=case.item_code if n == 0 else f"00011{n}00{n}000",
                                 committed_due=date(2025, 3, 14) if n else None, committed_limit_text="7个工作日",
                                 statutory_due=date(2025, 4, 2))
                  for n, name in enumerate(names))
    materials = (MaterialLine("居民身份证", "original_and_copy", 1, "provided"),
                 MaterialLine("结婚证", "original", 1, "provided"),
                 MaterialLine("出生医学证明", "original", 1, "in_bundle"))
    return replace(case, bundle=BundleDoc(name="新生儿出生一件事", state="collected", items=items, materials=materials))


def sample_transfer() -> TransferDoc:
    """A village sending a day's originals to the township."""
    when = datetime(2025, 3, 6, 8, 30)
    lines = tuple(
        TransferLine(f"14010510020120250305-{n:04d}", item, material, form, copies)
        for n, item, material, form, copies in [
            (7, "城乡居民基本养老保险待遇申领", "居民身份证复印件", "copy", 1),
            (7, "城乡居民基本养老保险待遇申领", "未领取其他基本养老保险待遇的承诺", "original", 1),
            (8, "城乡居民医疗保险参保登记", "户口簿复印件", "copy", 1),
            (9, "残疾人两项补贴申请", "残疾人证复印件", "copy", 2),
            (9, "残疾人两项补贴申请", "困难残疾人生活补贴申请审批表", "original", 1),
        ]
    )
    return TransferDoc(
        batch_no="WL-140105100201-20250306-01", from_station="北格镇张花村便民服务站",
        to_station="北格镇便民服务中心", created_at=when, handed_by="李建国", lines=lines,
        handovers=(Handover("李建国", when, "张花村便民服务站", "交出"),
                   Handover("赵敏", when + timedelta(hours=2), "北格镇便民服务中心", "接收")),
    )


def sample_ledger_rows(n: int = 30) -> list[LedgerRow]:
    """``n`` plausible ledger rows for one day."""
    items = ["城乡居民基本养老保险待遇申领", "城乡居民医疗保险参保登记", "残疾人两项补贴申请",
             "农村低保申请", "生育登记服务", "高龄津贴申领", "临时救助申请"]
    villages = ["张花村", "北格村", "南畔村", "西浩村", "贾家寨村"]
    statuses = ["已收件", "已受理", "补正中", "已办结", "容缺受理"]
    syncs = ["已确认", "已发送", "待同步"]
    start = datetime(2025, 3, 5, 8, 30)
    return [
        LedgerRow(
            received_at=start + timedelta(minutes=2 * i), case_no=f"14010510020120250305-{i + 1:04d}",
            item_name=items[i % len(items)], applicant_name=["王秀兰", "李春生", "赵桂芳", "欧阳建军"][i % 4],
            applicant_id_number=SAMPLE_ID_NUMBER, village=villages[i % len(villages)],
            agent_name="李建国", mode="proxy" if i % 3 == 0 else "assisted", status_text=statuses[i % len(statuses)],
            statutory_due=date(2025, 4, 2), committed_due=date(2025, 3, 14), statutory_provisional=(i % 11 == 5),
            committed_provisional=(i % 11 == 5),
            sync_state=syncs[i % len(syncs)],
        )
        for i in range(n)
    ]
