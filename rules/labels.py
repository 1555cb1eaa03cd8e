"""The glossary's Chinese labels, each table once, for the screen, the hub and paper alike.

A provided material once read 已提交 on the station's screen and 已收 on paper because each side
kept its own table. Every page and printout now looks its labels up here, so one word means one
thing wherever a resident or a clerk reads it. Keys are the glossary's names in code (the
values stored in the database and sent on the wire).
"""

from __future__ import annotations

from collections.abc import Mapping

from rules import events, home_visits

#: Case.mode (帮办 / 代办).
MODES: Mapping[str, str] = {"assisted": "帮办", "proxy": "代办"}

#: What the county sent down the changes feed (sync.protocol CHANGE_*), as the sync page names an update
#: the station could not apply.
CHANGE_KINDS: Mapping[str, str] = {
    "case.status": "办件状态", "catalog.published": "事项目录", "station.settings": "站点设置",
    "conflict.resolved": "同步冲突的处理", "evaluation.recorded": "好差评", "remedy.updated": "差评整改",
    "hub.restored": "县级平台恢复备份", "case.shared": "本站其他设备的办件", "appointment.changed": "预约",
    "transfer.handover": "物料交接", "transfer.handover_refused": "县级拒收的物料交接",
    "calendar.holidays": "节假日安排", "case.forward_held": "跨域办转送办理地",
    "case.dues": "县级平台的办件期限",
}

#: Where a station's catalog version came from (``CatalogVersion.source``), on its admin's 事项目录 page.
CATALOG_SOURCES: Mapping[str, str] = {"hub": "县级平台下发", "file": "文件导入", "demo": "演示目录"}

#: A station's heartbeat, as the county's station page names each figure (shown as 2 小时 and 9.3 GB, so no unit here).
HEARTBEAT_LABELS: Mapping[str, str] = {
    "app_version": "程序版本", "schema_version": "数据库版本", "protocol": "同步协议版本",
    "queue_length": "待同步条数", "oldest_queued_age_s": "最早积压", "set_aside_count": "搁置条数",
    "clock_offset_s": "时钟偏差（秒）", "free_disk_bytes": "剩余磁盘", "station_time": "站点时间",
}

#: Case.status at the station.
CASE_STATUSES: Mapping[str, str] = {
    "not_collected": "未收件（一次性告知）",
    "collected": "已收件",
    "deferred": "容缺收件",
    "accepted": "已受理",
    "supplement": "待补正",
    "rejected": "不予受理",
    "completed": "已办结",
    "delivered": "已送达",
    "withdrawn": "已撤回",  # the applicant withdrew her application before the county decided (撤件)
}

#: HubCase.status at the county: the county's own statuses share the station's words.
HUB_CASE_STATUSES: Mapping[str, str] = {
    "submitted": "待受理",
    **{status: CASE_STATUSES[status] for status in ("accepted", "supplement", "rejected", "completed", "delivered",
                                                           "withdrawn")},
    "not_collected": "未收件（仅备案）",
}

#: The station's intake decision (Case.decision), as the county sees it on the case page.
INTAKE_DECISIONS: Mapping[str, str] = {
    "collected": "已收件",
    "accepted": "已受理（委托受理）",
    "not_collected": "未收件",
    "deferred": "容缺收件",
}

#: A county clerk's decision, as a verb (受理 / 补正 / 不予受理 / 办结).
COUNTY_DECISIONS: Mapping[str, str] = {
    "accepted": "受理",
    "supplement": "补正",
    "rejected": "不予受理",
    "completed": "办结",
}

#: The result of a completed case (办结结果).
RESULTS: Mapping[str, str] = {"approved": "准予", "denied": "不予"}

#: CaseMaterial.status / MaterialLine.status: what intake decided for one material.
MATERIAL_STATUSES: Mapping[str, str] = {
    "provided": "已提交",
    "deferred": "容缺后补",
    "commitment": "告知承诺",
    "e_license": "电子证照",
    "missing": "缺少",
    "not_applicable": "不适用",
    "in_bundle": "由本件事前项出具",
    "unkept": "逾期未补（承诺未履行）",
}

#: The statuses an agent may choose for a material at intake: 不适用 only for a conditional material
#: (services.intake checks that), 由本件事前项出具 is set by the bundle itself, 逾期未补 comes later.
INTAKE_MATERIAL_STATUSES: Mapping[str, str] = {
    key: word for key, word in MATERIAL_STATUSES.items() if key not in ("in_bundle", "unkept")}

#: Material statuses that are not a paper in the resident's hands: never on a list of what was received.
NOT_HANDED_IN: frozenset[str] = frozenset({"missing", "not_applicable", "in_bundle", "unkept"})

#: CaseMaterial.supplied_as: how a material was handed in after intake (补正 or a 容缺 arrival).
SUPPLY_FORMS: Mapping[str, str] = {
    "original_seen": "原件已核验", "copy": "复印件", "scan": "已上传扫描件", "not_applicable": "不适用"}

#: Who asked the station to withdraw an application (撤回申请).
WITHDRAW_REQUESTERS: Mapping[str, str] = {"applicant": "申请人本人", "proxy": "代办人"}

#: Who collected a result at the window.
COLLECTOR_KINDS: Mapping[str, str] = {"applicant": "申请人本人", "authorised": "受委托人"}

#: Material.form: how the paper must be handed in.
MATERIAL_FORMS: Mapping[str, str] = {"original": "原件", "copy": "复印件", "original_and_copy": "原件及复印件"}

#: On paper, a provided certificate (one with an electronic counterpart: 身份证, 户口簿, 结婚证 …) by its
#: form: the station checks the original and hands it back, so the receipt must not say it was kept.
RETURNED_ORIGINAL_NOTES: Mapping[str, str] = {
    "original": "原件已核验并退还", "original_and_copy": "原件已核验并退还，复印件留存"}

#: Case.pickup_method: how the result is handed over (送达).
PICKUP_METHODS: Mapping[str, str] = {"window": "窗口领取", "post": "免费邮寄", "hand": "代办员送达"}

#: ServiceItem.kind (即办件 / 承诺件).
ITEM_KINDS: Mapping[str, str] = {"instant": "即办件", "committed": "承诺件"}

#: Units of a time limit, as written after the number (5个工作日).
LIMIT_UNITS: Mapping[str, str] = {"working_days": "个工作日", "natural_days": "个自然日", "hours": "小时"}


def limit_text(limit: Mapping[str, object] | None, *, instant: bool = False) -> str:
    """A catalog limit (``{"value": 5, "unit": "working_days"}``) as people read it: 5个工作日,
    or 即时办结 for an instant item's zero; never a bare number, whose unit the reader would guess."""
    if not isinstance(limit, Mapping) or limit.get("value") is None:
        return "—"
    if instant and not limit.get("value"):
        return "即时办结"
    unit = str(limit.get("unit") or "")
    return f"{limit['value']}{LIMIT_UNITS.get(unit, unit)}"

#: GB/T 39046-2020 code table A.1 事项类型.
ITEM_TYPES: Mapping[str, str] = {
    "01": "行政许可", "02": "行政处罚", "03": "行政强制", "04": "行政征收", "05": "行政给付",
    "06": "行政检查", "07": "行政确认", "08": "行政奖励", "09": "行政裁决", "10": "其他行政权力",
    "20": "公共服务",
}

#: GB/T 39046-2020 code table A.2 行使层级.
ITEM_LEVELS: Mapping[str, str] = {
    "1": "国家级", "2": "省级", "3": "市级", "4": "县级", "5": "镇（乡、街道）级", "6": "村（社区）级",
    "7": "分级管理",
}


#: Outbox and hub event kinds, as the sync pages name them.
EVENT_KINDS: Mapping[str, str] = {
    events.SUBMITTED: "收件提交",
    events.MATERIALS_UPDATED: "材料更新",
    events.STATUS_CHANGED: "状态变更",
    events.NOTE: "备注",
    events.DELIVERED: "结果送达",
    events.SUPPLEMENTED: "补正提交",
    events.EVALUATED: "评价",
    events.ORIGINALS_HANDOVER: "原件交接",
    events.ORIGINALS_PACKED: "原件装批",
    events.COMMITMENT_UNKEPT: "承诺未履行",
    events.WITHDRAWN: "撤回申请",
    events.VISIT_RECORDED: "上门服务登记",
    events.VISIT_CASE_TAKEN: "上门服务收件",
}

#: Station staff roles (User.role): on the station's screens and in its log as the county shows it.
STATION_ROLES: Mapping[str, str] = {"agent": "代办员", "clerk": "窗口人员", "admin": "站长"}

#: How a home visit (上门服务) ended.
HOME_VISIT_OUTCOMES: Mapping[str, str] = home_visits.OUTCOMES

#: AccessLog.action on both apps (访问日志): what someone did with a resident's data or the system.
ACCESS_ACTIONS: Mapping[str, str] = {
    "case_view": "查看办件",
    "case_list": "查看办件列表",
    "reveal": "显示完整号码",
    "print": "打印文书",
    "ledger": "打印或导出台账",
    "cases_export": "导出办件（省级平台）",
    "evaluations_export": "导出好差评（省级平台）",
    "county_settings": "修改县级设置",
    "scan_download": "下载扫描件",
    "resume": "再次受理（读取首次来访信息）",
    "library_view": "查看居民材料库",
    "library_consent": "登记材料保存同意",
    "library_withdraw": "撤回材料保存同意（删除保存的材料）",
    "library_reuse": "复用已核验材料",
    "licence_lookup": "查询电子证照",
    "library_purge": "删除过期的居民材料",
    "shared_case_purge": "清除其他设备办件副本的个人信息",
    "licence_import": "导入电子证照",
    "login": "登录",
    "login_failed": "登录失败",
    "lockout": "账号或地址被锁定",
    "logout": "退出登录",
    "user_create": "添加用户",
    "user_role": "更改角色",
    "user_name": "更改姓名",
    "password_reset": "重置密码",
    "user_deactivate": "停用用户",
    "user_activate": "启用用户",
    "settings_station": "修改站点设置",
    "settings_holiday": "修改节假日",
    "holiday_publish": "发布节假日安排",
    "settings_items": "修改受理权限",
    "settings_library": "修改材料复用有效期",
    "catalog_import": "导入事项目录",
    "catalog_publish": "发布事项目录",
    "station_settings": "下发站点设置",
    "device_add": "登记站点设备",
    "device_revoke": "停用站点设备",
    "conflict_view": "查看冲突",
    "conflict_resolve": "处理冲突",
    "decision": "作出决定",
    "log_view": "查看访问日志",
    "log_verify": "校验访问日志",
    "appointment_list": "查看预约安排",
    "appointment_change": "登记或更改预约",
    "settings_appointments": "修改预约设置",
    "home_visit": "登记或查看上门服务",
    "usb_export": "导出离线包",
    "usb_import": "导入离线包",
    "usb_return_export": "导出回执包",
    "transfer_create": "建立物料流转批次",
    "transfer_handover": "物料交接",
    "remedy_view": "查看差评整改",
    "remedy_update": "处理差评整改",
    "kiosk_open": "打开评价平板",
}

#: Why a full number was shown (显示完整号码的理由); "other" needs words of its own.
REVEAL_REASONS: Mapping[str, str] = {
    "verify_identity": "核对申请人身份",
    "fill_form": "填写其他系统或纸质表格",
    "contact_resident": "联系申请人",
    "county_request": "县级部门要求核对",
    "other": "其他（请说明）",
}

#: Every table by the name templates use: ``{{ case.mode|label('modes') }}``.
TABLES: Mapping[str, Mapping[str, str]] = {
    "modes": MODES,
    "case_statuses": CASE_STATUSES,
    "hub_case_statuses": HUB_CASE_STATUSES,
    "withdraw_requesters": WITHDRAW_REQUESTERS,
    "intake_decisions": INTAKE_DECISIONS,
    "county_decisions": COUNTY_DECISIONS,
    "results": RESULTS,
    "material_statuses": MATERIAL_STATUSES,
    "supply_forms": SUPPLY_FORMS,
    "collector_kinds": COLLECTOR_KINDS,
    "material_forms": MATERIAL_FORMS,
    "pickup_methods": PICKUP_METHODS,
    "item_kinds": ITEM_KINDS,
    "limit_units": LIMIT_UNITS,
    "item_types": ITEM_TYPES,
    "item_levels": ITEM_LEVELS,
    "event_kinds": EVENT_KINDS,
    "access_actions": ACCESS_ACTIONS,
    "reveal_reasons": REVEAL_REASONS,
    "catalog_sources": CATALOG_SOURCES,
    "change_kinds": CHANGE_KINDS,
}


def label(key: str | None, table: str, empty: str = "—") -> str:
    """The Chinese label of ``key`` in the named table (a Jinja filter in both apps).

    A key the table does not know is shown as it is, so a value from a newer station is never
    hidden; a missing value shows ``empty``.
    """
    if key is None or key == "":
        return empty
    return TABLES[table].get(key, key)
