"""The catalog file format (事项目录): a structural check the station and the hub both apply.

The county publishes catalogs as JSON in the shape of ``station/catalog_data/demo_catalog.json``.
The station's importer trusts that shape, and the hub refuses to publish a catalog its stations
would refuse, so a file is checked here first and every problem is reported at once, in
Chinese, so the admin can send one complete list back to the county.
Codes are opaque strings (DOMAIN.md): only the loose 实施编码 pattern is enforced.
A form field may be required only for some answer of another (``required_when``, answered by
``rules.form_fields``); docs/sync-protocol.md ("A catalog's form fields") describes the keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rules import code_lists, form_fields, labels

IMPL_CODE_RE = re.compile(r"^[0-9A-Z]{18}[0-9A-Z]{1,18}$")
ASCII_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")

TOP_KEYS = ("catalog_version", "published_at", "region", "items", "bundles")
ITEM_KEYS = (
    "item_code",
    "impl_code",
    "name",
    "department",
    "item_type",
    "level",
    "subject",
    "kind",
    "statutory_limit",
    "committed_limit",
    "fee",
    "proxy_allowed",
    "cross_area",
    "station_can_accept",
    "keywords",
    "consult_phone",
    "supervise_phone",
    "legal_basis",
    "form_fields",
    "materials",
)
MATERIAL_KEYS = (
    "key",
    "name",
    "form",
    "copies",
    "essential",
    "deferrable",
    "commitment",
    "e_license",
    "description",
    "source",
)
FIELD_KEYS = ("name", "label", "type", "required")
#: A material's ``condition``: when it applies (e.g. 仅重度残疾人缴费时提供), shown at intake. Short,
#: because it is read aloud to the resident at the counter; a longer text belongs in ``description``.
CONDITION_MAX = 40
BUNDLE_KEYS = ("code", "name", "description", "items")

# The codes a catalog may use are the keys of the glossary's label tables: a code that has a
# label on screen and on paper is valid, and no other.
KINDS = frozenset(labels.ITEM_KINDS)
LIMIT_UNITS = frozenset(labels.LIMIT_UNITS)
MATERIAL_FORMS = frozenset(labels.MATERIAL_FORMS)
FIELD_TYPES = frozenset({"text", "textarea", "select", "date", "number"})
# GB/T 39046-2020 code tables A.1 事项类型, A.2 行使层级, A.4 服务对象.
ITEM_TYPES = frozenset(labels.ITEM_TYPES)
LEVELS = frozenset(labels.ITEM_LEVELS)
SUBJECTS = frozenset({"1", "2", "3", "4", "5", "6"})


def bundle_material_keys(data: dict[str, Any], bundle_code: str) -> list[str]:
    """Return the merged material keys of a bundle, first occurrence first, each key once.

    One key names one kind of document across items, so a resident hands in her 身份证 once
    for the whole 一件事 even if every item lists it.
    """
    items = {item["item_code"]: item for item in data["items"]}
    bundle = next(b for b in data["bundles"] if b["code"] == bundle_code)
    merged: dict[str, None] = {}
    for code in bundle["items"]:
        for material in items[code]["materials"]:
            merged.setdefault(material["key"], None)
    return list(merged)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_text(where: str, obj: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...],
                errors: list[str], max_len: int = 2000) -> None:
    """Names are text: a number, null or an object where a name belongs would reach paper and the UI."""
    for key in required + optional:
        if key not in obj or (key in optional and obj[key] is None):
            continue
        value = obj[key]
        if not isinstance(value, str) or (key in required and not value.strip()):
            errors.append(f"{where}：{key} 应为{'非空' if key in required else ''}文字")
        elif len(value) > max_len:
            errors.append(f"{where}：{key} 过长（最多{max_len}字）")


def _check_limit(where: str, label: str, limit: Any, errors: list[str]) -> bool:
    """Append problems of one time limit; return True when it is usable for comparison."""
    if not isinstance(limit, dict):
        errors.append(f"{where}：{label}应为包含 value 和 unit 的对象")
        return False
    ok = True
    if not _is_int(limit.get("value")) or not 0 <= limit["value"] <= 3650:
        errors.append(f"{where}：{label}的数值应为0至3650的整数")
        ok = False
    if limit.get("unit") not in LIMIT_UNITS:
        errors.append(
            f"{where}：{label}的单位“{limit.get('unit')}”无效，应为 working_days、natural_days 或 hours"
        )
        ok = False
    return ok


def _keyed_entries(where: str, field: str, noun: str, entries: Any, required: tuple[str, ...], key: str,
                   key_label: str, duplicate: str, errors: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of a list whose ``key`` must be a lowercase ASCII name, unique in the list.

    Shape problems (not a list, not an object, missing fields, a bad or repeated key) are
    reported here; each object is yielded with its place in words for the caller's own checks.
    """
    if not isinstance(entries, list):
        errors.append(f"{where}：{field} 应为列表")
        return
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        ewhere = f"{where}{noun}{n}"
        if not isinstance(entry, dict):
            errors.append(f"{ewhere}：应为对象")
            continue
        missing = [k for k in required if k not in entry]
        if missing:
            errors.append(f"{ewhere}：缺少字段 {', '.join(missing)}")
        value = entry.get(key)
        if not isinstance(value, str) or not ASCII_KEY_RE.match(value):
            errors.append(f"{ewhere}：{key_label}“{value}”应为小写英文、数字和下划线")
        elif value in seen:
            errors.append(f"{ewhere}：{key_label}“{value}”{duplicate}")
        else:
            seen.add(value)
        yield ewhere, entry


def _check_materials(where: str, materials: Any, errors: list[str]) -> None:
    for mwhere, material in _keyed_entries(where, "materials", "材料", materials, MATERIAL_KEYS, "key", "材料键",
                                           "在同一事项中重复", errors):
        if "form" in material and material["form"] not in MATERIAL_FORMS:
            errors.append(
                f"{mwhere}：材料形式“{material['form']}”无效，应为 original、copy 或 original_and_copy"
            )
        if "copies" in material and (not _is_int(material["copies"]) or not 1 <= material["copies"] <= 99):
            errors.append(f"{mwhere}：份数应为1至99的整数")
        _check_text(mwhere, material, ("name",), ("description", "source"), errors)
        for flag in ("essential", "deferrable", "commitment"):
            if flag in material and not isinstance(material[flag], bool):
                errors.append(f"{mwhere}：{flag} 应为 true 或 false")
        _check_condition(mwhere, material, errors)
        if (
            "e_license" in material
            and material["e_license"] is not None
            and not isinstance(material["e_license"], str)
        ):
            errors.append(f"{mwhere}：e_license 应为电子证照名称或 null")


def _check_condition(where: str, material: dict[str, Any], errors: list[str]) -> None:
    """A conditional material (issue 19): the condition is a short sentence, or absent / null.

    A material with a condition may be marked 不适用 at intake, so an empty or garbled condition
    would let an agent waive any material; a condition on a deferrable or promised material is
    fine (it says who must bring it), but an empty one is refused.
    """
    if material.get("condition") is None:
        return
    condition = material["condition"]
    if not isinstance(condition, str) or not condition.strip():
        errors.append(f"{where}：condition（适用条件）应为非空文字，如“仅重度残疾人缴费时提供”，或省略")
    elif len(condition) > CONDITION_MAX:
        errors.append(f"{where}：condition（适用条件）过长（最多{CONDITION_MAX}字），详细说明请写在 description")


def _check_form_fields(where: str, fields: Any, errors: list[str]) -> None:
    conditional: list[tuple[str, dict[str, Any]]] = []
    for fwhere, fld in _keyed_entries(where, "form_fields", "表单字段", fields, FIELD_KEYS, "name", "字段名", "重复",
                                      errors):
        if fld.get(form_fields.REQUIRED_WHEN) is not None:
            conditional.append((fwhere, fld))
        if "type" in fld and fld["type"] not in FIELD_TYPES:
            errors.append(f"{fwhere}：字段类型“{fld['type']}”无效")
        if fld.get("code_list") is not None:
            if fld.get("type") != "select" or fld["code_list"] not in code_lists.CODE_LISTS:
                errors.append(f"{fwhere}：code_list“{fld['code_list']}”无效，应为下拉字段使用的国家代码表："
                              + "、".join(code_lists.CODE_LISTS))
        elif fld.get("type") == "select" and not (isinstance(fld.get("options"), list) and fld["options"]):
            errors.append(f"{fwhere}：下拉字段必须提供 options")
    named = [f for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)] if conditional else []
    siblings = {f["name"]: f for f in named}
    for fwhere, fld in conditional:
        _check_required_when(fwhere, fld, siblings, errors)


def _check_required_when(where: str, fld: dict[str, Any], siblings: dict[str, dict[str, Any]],
                         errors: list[str]) -> None:
    """A field required only for some answer of another field (条件必填), e.g. 邮寄地址 when 领卡方式 is 免费邮寄.

    The condition must name another field of the same item and values that field can hold: a
    typo would leave the field optional for good with nobody told, which is the defect this key
    exists to close. Stations before this key ignore it (unknown keys of a field are kept, not
    refused), so the field stays optional there, as it always was.
    """
    rule = fld[form_fields.REQUIRED_WHEN]
    example = '如 {"field": "delivery_method", "in": ["免费邮寄"]}'
    if not isinstance(rule, dict) or set(rule) != {"field", "in"}:
        errors.append(f"{where}：required_when（条件必填）应为只含 field 和 in 的对象，{example}")
        return
    if fld.get("required") is True:
        errors.append(f"{where}：已是必填字段（required: true），不能再设 required_when（条件必填）")
    other, values = rule["field"], rule["in"]
    if other == fld.get("name"):
        errors.append(f"{where}：required_when（条件必填）不能以字段自身“{other}”为条件")
    elif not isinstance(other, str) or other not in siblings:
        errors.append(f"{where}：required_when（条件必填）引用的字段“{other}”不是本事项的表单字段")
        other = None
    if not (isinstance(values, list) and values and all(isinstance(v, str) and v.strip() for v in values)):
        errors.append(f"{where}：required_when（条件必填）的 in 应为非空的取值列表，{example}")
        return
    if other is None or other == fld.get("name"):
        return
    target = siblings[other]
    if target.get("type") == "select":
        offered = code_lists.options_of(target)
        unknown = [v for v in values if v not in offered]
        if unknown:
            errors.append(f"{where}：required_when（条件必填）的取值“{'”、“'.join(unknown)}”"
                          f"不是字段“{target.get('label') or other}”的选项")


def _check_handling_area(where: str, item: dict[str, Any], errors: list[str]) -> None:
    """跨域办: an item another county handles names that county (6-digit code and name) and is cross-area."""
    area = item.get("handling_area")
    if area is None:
        return
    if not (isinstance(area, str) and len(area) == 6 and area.isdigit()):
        errors.append(f"{where}：办理地 handling_area 应为 6 位县级行政区划代码")
    name = item.get("handling_area_name")
    if not (isinstance(name, str) and name.strip() and len(name) <= 60):
        errors.append(f"{where}：跨域办事项须写明办理地名称 handling_area_name（最多60字）")
    if item.get("cross_area") is not True:
        errors.append(f"{where}：由其他县办理的事项（handling_area）须标为 cross_area: true")


def _check_item(n: int, item: Any, errors: list[str]) -> None:
    if not isinstance(item, dict):
        errors.append(f"第{n}个事项：应为对象")
        return
    where = f"第{n}个事项（{item.get('item_code', '?')} {item.get('name', '')}）"
    missing = [k for k in ITEM_KEYS if k not in item]
    if missing:
        errors.append(f"{where}：缺少字段 {', '.join(missing)}")
    _check_text(where, item, ("name",), ("short_name", "department", "fee", "consult_phone", "supervise_phone",
                                         "legal_basis"), errors)
    code = item.get("item_code")
    if "item_code" in item and not (isinstance(code, str) and code.strip()):
        errors.append(f"{where}：事项编码应为非空字符串")
    impl = item.get("impl_code")
    if "impl_code" in item and not (isinstance(impl, str) and IMPL_CODE_RE.match(impl)):
        errors.append(f"{where}：实施编码“{impl}”格式不符（应为18位统一社会信用代码加1至18位大写字母或数字）")
    if "kind" in item and item["kind"] not in KINDS:
        errors.append(f"{where}：办件类型“{item['kind']}”无效，应为 instant（即办件）或 committed（承诺件）")
    if "item_type" in item and item["item_type"] not in ITEM_TYPES:
        errors.append(f"{where}：事项类型“{item['item_type']}”不在 GB/T 39046 A.1 代码表中")
    if "level" in item and item["level"] not in LEVELS:
        errors.append(f"{where}：行使层级“{item['level']}”不在 GB/T 39046 A.2 代码表中")
    if "subject" in item and not (
        isinstance(item["subject"], list) and item["subject"] and set(item["subject"]) <= SUBJECTS
    ):
        errors.append(f"{where}：服务对象应为 GB/T 39046 A.4 代码的非空列表")
    for flag in ("proxy_allowed", "cross_area", "station_can_accept"):
        if flag in item and not isinstance(item[flag], bool):
            errors.append(f"{where}：{flag} 应为 true 或 false")
    _check_handling_area(where, item, errors)
    if "keywords" in item and not (
        isinstance(item["keywords"], list) and all(isinstance(k, str) for k in item["keywords"])
    ):
        errors.append(f"{where}：keywords 应为字符串列表")
    statutory_ok = "statutory_limit" in item and _check_limit(
        where, "法定时限", item["statutory_limit"], errors
    )
    committed_ok = "committed_limit" in item and _check_limit(
        where, "承诺时限", item["committed_limit"], errors
    )
    if statutory_ok and committed_ok:
        statutory, committed = item["statutory_limit"], item["committed_limit"]
        if statutory["unit"] == committed["unit"] and committed["value"] > statutory["value"]:
            errors.append(f"{where}：承诺时限（{committed['value']}）超过法定时限（{statutory['value']}）")
    if "produces" in item and not (
        isinstance(item["produces"], list)
        and all(isinstance(k, str) and ASCII_KEY_RE.match(k) for k in item["produces"])
    ):
        errors.append(f"{where}：produces（办结后出具的材料）应为材料键的列表，如 [\"birth_medical_cert\"]")
    if "form_fields" in item:
        _check_form_fields(where, item["form_fields"], errors)
    if "materials" in item:
        _check_materials(where, item["materials"], errors)


def validate_catalog(data: dict[str, Any]) -> list[str]:
    """Return every structural problem of a catalog as a Chinese message; [] means importable.

    Collects all problems instead of stopping at the first, so one round trip to the county
    fixes the whole file.
    """
    if not isinstance(data, dict):
        return ["目录文件应为 JSON 对象"]
    errors: list[str] = []
    missing = [k for k in TOP_KEYS if k not in data]
    if missing:
        errors.append(f"目录缺少字段 {', '.join(missing)}")
    version = data.get("catalog_version")
    if "catalog_version" in data and not (isinstance(version, str) and 0 < len(version.strip()) <= 40):
        errors.append("catalog_version 应为1至40字的版本号文字")
    items = data.get("items", [])
    if not isinstance(items, list):
        errors.append("items 应为列表")
        items = []
    item_codes: set[str] = set()
    impl_codes: set[str] = set()
    for n, item in enumerate(items, 1):
        _check_item(n, item, errors)
        if not isinstance(item, dict):
            continue
        code, impl = item.get("item_code"), item.get("impl_code")
        if isinstance(code, str):
            if code in item_codes:
                errors.append(f"第{n}个事项：事项编码“{code}”重复")
            item_codes.add(code)
        if isinstance(impl, str):
            if impl in impl_codes:
                errors.append(f"第{n}个事项：实施编码“{impl}”重复")
            impl_codes.add(impl)

    bundles = data.get("bundles", [])
    if not isinstance(bundles, list):
        errors.append("bundles 应为列表")
        bundles = []
    bundle_codes: set[str] = set()
    for n, bundle in enumerate(bundles, 1):
        if not isinstance(bundle, dict):
            errors.append(f"第{n}个一件事：应为对象")
            continue
        _check_text(f"第{n}个一件事", bundle, ("name", "code"), ("description",), errors)
        where = f"第{n}个一件事（{bundle.get('code', '?')} {bundle.get('name', '')}）"
        missing = [k for k in BUNDLE_KEYS if k not in bundle]
        if missing:
            errors.append(f"{where}：缺少字段 {', '.join(missing)}")
        code = bundle.get("code")
        if isinstance(code, str):
            if code in bundle_codes:
                errors.append(f"{where}：一件事编码“{code}”重复")
            bundle_codes.add(code)
        members = bundle.get("items", [])
        if not isinstance(members, list) or not members:
            errors.append(f"{where}：items 应为非空的事项编码列表")
            continue
        for member in members:
            if member not in item_codes:
                errors.append(f"{where}：引用了目录中不存在的事项编码“{member}”")
        if len(set(map(str, members))) != len(members):
            errors.append(f"{where}：同一事项被重复列入")
    return errors
