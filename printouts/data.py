"""The input contract of every printout: plain frozen dataclasses, no models, no Flask.

The station adapts its peewee models to these (one adapter, in the station), so the builders
stay pure functions that tests and the benchmark call directly. Personal numbers arrive in
FULL: masking is the builders' job, done through :mod:`rules.privacy` at the last moment,
so no caller can forget it and no caller can print a number unmasked by passing it pre-masked
in the wrong field.

Enumerations are plain strings (the glossary's words) so that JSON, the database and tests
can speak them without importing this module; their Chinese labels are :mod:`rules.labels`,
the same tables the screens use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class StationInfo:
    """The station printing the paper: shown on every page so the resident knows where to go back."""

    name: str  # 某某镇某某村便民服务站
    code: str  # station code as the county registered it
    area_code: str = ""  # 12-digit 统计用区划代码
    address: str = ""
    phone: str = ""  # the station's own phone (public, never masked)
    supervise_phone: str = ""  # 监督电话 when the case has none of its own
    query_url_base: str = ""  # the station's own page; the QR is f"{query_url_base}?q={query_code}"
    public_url: str = ""  # the county's public address, sent down by sync; when set the QR is f"{public_url}/q/{code}"


@dataclass(frozen=True)
class MaterialLine:
    """One required material and what happened to it at intake."""

    name: str
    form: str = "original"  # key of rules.labels.MATERIAL_FORMS
    copies: int = 1
    status: str = "provided"  # key of rules.labels.MATERIAL_STATUSES
    due_date: date | None = None  # for deferred materials: 容缺 due date
    # the 容缺 date fell on a rest day: "星期六" and the working day it moves on to (民法典 §203)
    due_rest_day: str = ""
    due_moved_to: date | None = None
    e_license_no: str = ""  # electronic licence number when status == "e_license"
    returned: bool = False  # a certificate whose original was checked and handed back to the resident
    source: str = ""  # where and how to get it (一次性告知书 prints this)
    description: str = ""  # sample / requirement text from the catalog
    note: str = ""  # why 不适用, when status == "not_applicable"
    # 只提交一次: not handed in this time but reused from an earlier verification — "2026年3月5日 张花村便民服务站";
    # ``rechecked``: the agent looked at the original again this time all the same
    reused_from: str = ""
    rechecked: bool = False
    # a deferred (容缺) material handed in after intake: when — a reprinted receipt is her proof she brought it in time
    arrived_at: datetime | None = None


@dataclass(frozen=True)
class SuppliedLine:
    """One material handed in after intake, for a 补正 (issue 19)."""

    name: str
    supplied_as: str  # key of rules.labels.SUPPLY_FORMS
    note: str = ""  # the reason, for 不适用


@dataclass(frozen=True)
class DeliveryDoc:
    """How the result was handed over (送达), for the 送达回证."""

    method: str  # key of rules.labels.PICKUP_METHODS
    delivered_on: date
    collector_kind: str = ""  # key of rules.labels.COLLECTOR_KINDS (window pickup)
    collector_name: str = ""
    collector_cert_name: str = "居民身份证"
    collector_id_number: str = ""  # FULL number; builders mask it
    collector_relation: str = ""
    ems_no: str = ""
    address: str = ""
    receiver: str = ""


@dataclass(frozen=True)
class BundleItemLine:
    """One item of a 一件事 on its combined receipt: its own case number for the county."""

    item_name: str
    case_no: str
    decision: str  # key of rules.labels.INTAKE_DECISIONS
    item_code: str = ""
    committed_due: date | None = None
    committed_provisional: bool = False
    committed_limit_text: str = ""
    statutory_due: date | None = None
    statutory_provisional: bool = False


@dataclass(frozen=True)
class BundleDoc:
    """The 一件事 a case was taken in (issue 19): one query code, one receipt for all its items."""

    name: str
    state: str  # the least advanced of its cases, a key of rules.labels.CASE_STATUSES
    items: tuple[BundleItemLine, ...] = ()
    materials: tuple[MaterialLine, ...] = ()  # every item's materials, each document once


@dataclass(frozen=True)
class CaseDoc:
    """Everything any per-case document may print. Unused fields stay at their defaults."""

    case_no: str
    query_code: str
    item_name: str
    item_code: str
    received_at: datetime
    case_id: str = ""  # client-made id (ULID); printed small, useful when reconciling
    impl_code: str = ""
    department: str = ""  # competent authority (实施主体)
    kind: str = "committed"  # key of rules.labels.ITEM_KINDS
    mode: str = "assisted"  # key of rules.labels.MODES
    decision: str = "collected"  # collected / accepted / not_collected / deferred
    applicant_name: str = ""
    applicant_cert_type_name: str = "居民身份证"
    applicant_id_number: str = ""  # FULL number; builders mask it
    applicant_phone: str = ""  # FULL number; builders mask it
    applicant_address: str = ""
    agent_name: str = ""  # 代办员 / 帮办员 (station staff; name printed, phone is the work phone)
    agent_phone: str = ""
    proxy_name: str = ""  # the person the applicant authorizes (委托代理人), for mode == "proxy"
    proxy_id_number: str = ""  # FULL number; builders mask it
    proxy_relation: str = ""  # relation to applicant, e.g. 村代办员, 子女
    statutory_due: date | None = None
    committed_due: date | None = None
    statutory_provisional: bool = False  # holiday data missing for a year this date was counted through
    committed_provisional: bool = False  # each date its own mark: a committed date may be firm, the other not
    deadline_warning: str = ""  # why provisional, printed next to a provisional date
    forward_within: str = "3个工作日内"  # when a collected case goes to the department; never past 法定时限
    statutory_limit_text: str = ""  # "20个工作日"
    committed_limit_text: str = ""  # "5个工作日"
    pickup_method: str = "window"  # key of rules.labels.PICKUP_METHODS
    pickup_address: str = ""  # post address or window location
    consult_phone: str = ""
    handling_area_name: str = ""  # 跨域办: the county that handles the case (收件地 is this station)
    supervise_phone: str = ""
    fee: str = "不收费"
    materials: tuple[MaterialLine, ...] = ()
    form_values: tuple[tuple[str, str], ...] = ()  # (label, value) from the application form
    supplement_items: tuple[str, ...] = ()  # 补正 list from the county
    supplement_reason: str = ""
    supplement_due: date | None = None
    supplement_at: datetime | None = None
    rejected_at: datetime | None = None  # when the department decided 不予受理 (set only for a case it refused)
    rejected_reason: str = ""  # its reason, as the county sent it (may hold numbers: builders mask them)
    withdrawn_at: datetime | None = None  # when the applicant withdrew her application (set only then)
    withdrawn_reason: str = ""  # her reason, as the station recorded it (may hold numbers: builders mask them)
    withdrawn_by: str = ""  # who asked, in words (申请人本人 / 代办人)
    result: str | None = None  # "approved" / "denied" / None
    result_text: str = ""  # licence number, decision summary, reason for denial
    completed_at: datetime | None = None
    commitment_text: str = ""  # item-specific promise; a generic one is printed otherwise
    authorization_scope: str = ""  # 委托事项和权限; a generic one is printed otherwise
    authorization_term: str = ""  # 委托期限; "自签署之日起至本事项办结之日止" otherwise
    issued_at: datetime | None = None  # when this paper is printed; received_at otherwise
    supplied: tuple[SuppliedLine, ...] = ()  # the answer to the county's 补正
    supplied_at: datetime | None = None
    supplied_note: str = ""
    result_certificate_no: str = ""
    delivery: DeliveryDoc | None = None  # set once the result was handed over
    bundle: BundleDoc | None = None  # the 一件事 this case belongs to; its query code is the bundle's


@dataclass(frozen=True)
class TransferLine:
    """One material travelling in a transfer batch."""

    case_no: str
    item_name: str
    material_name: str
    form: str = "original"  # key of rules.labels.MATERIAL_FORMS
    copies: int = 1
    handling_area_name: str = ""  # 跨域办: the county the original goes on to (its case is decided there)


@dataclass(frozen=True)
class Handover:
    """One change of custody (who took the batch, when, where, what they did)."""

    who: str
    when: datetime
    where: str
    action: str  # 交出 / 接收 / 签收 …


@dataclass(frozen=True)
class TransferDoc:
    """A batch of paper originals moving village → township → county (物料流转单)."""

    batch_no: str  # printed as Code 128; ASCII only
    from_station: str
    to_station: str
    created_at: datetime
    handed_by: str
    lines: tuple[TransferLine, ...] = ()
    handovers: tuple[Handover, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class LedgerRow:
    """One case in the daily ledger (台账)."""

    received_at: datetime
    case_no: str
    item_name: str
    applicant_name: str
    applicant_id_number: str = ""  # FULL number; the ledger masks it
    village: str = ""
    agent_name: str = ""
    mode: str = "assisted"  # key of rules.labels.MODES
    status_text: str = ""  # 已收件 / 已受理 / 补正中 / 已办结 …
    statutory_due: date | None = None
    committed_due: date | None = None
    statutory_provisional: bool = False
    committed_provisional: bool = False
    sync_state: str = ""  # 待同步 / 已发送 / 已确认 / 被拒收
    station_name: str = ""  # the county's ledger names the station of each case
    closed_at: datetime | None = None  # 办结 / 不予受理 time, for the spreadsheet


@dataclass(frozen=True)
class HomeVisitRow:
    """One home visit (上门服务) in the ledger; the builders mask the name, phone and address."""

    time: str  # 09:30–10:40
    staff: str
    resident_name: str  # FULL name; the ledger masks it
    address: str  # FULL address; the ledger shows it to the village only
    purpose: str
    outcome: str
    case_numbers: tuple[str, ...] = ()
    visited_on: date | None = None
    village: str = ""  # the village's name (the caller resolves the code)
    resident_phone: str = ""  # FULL number; the ledger masks it
