"""The catalog file format: every fault is reported, in Chinese, all at once, and garbage never crashes the check."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rules import labels
from rules.catalog_format import validate_catalog

# The shipped demo catalog, read as the data file it is: a valid catalog to break one fault at a time.
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "station" / "catalog_data" / "demo_catalog.json"


def _demo_catalog() -> dict:
    return json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))


@pytest.fixture
def catalog() -> dict:
    return _demo_catalog()


def _first_item(data):
    return data["items"][0]


def _set(path, value):
    def mutate(data):
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(data):
        target = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


MAILING_WHEN = ["items", 3, "form_fields", 2, "required_when"]


def _duplicate_item_code(data):
    data["items"][1]["item_code"] = data["items"][0]["item_code"]


def _duplicate_impl_code(data):
    data["items"][1]["impl_code"] = data["items"][0]["impl_code"]


def _duplicate_bundle_code(data):
    data["bundles"][1]["code"] = data["bundles"][0]["code"]


def _duplicate_material_key(data):
    materials = data["items"][0]["materials"]
    materials.append(copy.deepcopy(materials[0]))


FAULTS = [
    pytest.param(_delete(["catalog_version"]), "catalog_version", id="missing-top-key"),
    pytest.param(_delete(["items", 0, "kind"]), "缺少字段 kind", id="missing-item-key"),
    pytest.param(
        _delete(["items", 0, "materials", 0, "source"]), "缺少字段 source", id="missing-material-key"
    ),
    pytest.param(_set(["items", 0, "kind"], "fast"), "办件类型", id="bad-kind"),
    pytest.param(_set(["items", 0, "statutory_limit", "unit"], "weeks"), "单位“weeks”", id="bad-unit"),
    pytest.param(_set(["items", 0, "committed_limit", "value"], -1), "0至3650的整数", id="negative-limit"),
    pytest.param(_set(["items", 0, "impl_code"], "11141081MB0194271R"), "实施编码", id="impl-code-too-short"),
    pytest.param(
        _set(["items", 0, "impl_code"], "11141081mb0194271r4000111001000"), "实施编码", id="impl-code-lower"
    ),
    pytest.param(
        _set(["items", 0, "committed_limit"], {"value": 30, "unit": "working_days"}),
        "超过法定时限",
        id="committed-over-statutory",
    ),
    pytest.param(_set(["items", 0, "item_type"], "99"), "A.1", id="bad-item-type"),
    pytest.param(_set(["items", 0, "level"], "8"), "A.2", id="bad-level"),
    pytest.param(_set(["items", 0, "proxy_allowed"], "yes"), "proxy_allowed", id="flag-not-bool"),
    pytest.param(_set(["items", 0, "materials", 0, "form"], "scan"), "材料形式", id="bad-material-form"),
    pytest.param(_set(["items", 0, "materials", 0, "copies"], 0), "份数", id="zero-copies"),
    pytest.param(_set(["items", 0, "materials", 0, "key"], "身份证"), "材料键", id="non-ascii-material-key"),
    pytest.param(_duplicate_material_key, "重复", id="duplicate-material-key"),
    pytest.param(_set(["items", 0, "form_fields", 0, "type"], "checkbox"), "字段类型", id="bad-field-type"),
    pytest.param(
        _set(["items", 0, "form_fields", 0, "options"], None), "options", id="select-without-options"
    ),
    pytest.param(
        _set(["bundles", 0, "items"], ["000000000000"]), "不存在的事项编码", id="bundle-unknown-item"
    ),
    pytest.param(_set(["bundles", 0, "items"], []), "非空", id="empty-bundle"),
    pytest.param(_duplicate_item_code, "事项编码“000111001000”重复", id="duplicate-item-code"),
    pytest.param(
        _duplicate_impl_code, "实施编码“11141081MB0194271R4000111001000”重复", id="duplicate-impl-code"
    ),
    pytest.param(_duplicate_bundle_code, "一件事编码“B001”重复", id="duplicate-bundle-code"),
    # issue 19: a conditional material's condition, an item's own products, a national code list
    pytest.param(_set(["items", 0, "materials", 3, "condition"], ""), "condition（适用条件）应为非空文字",
                 id="empty-condition"),
    pytest.param(_set(["items", 0, "materials", 3, "condition"], 1), "condition（适用条件）应为非空文字",
                 id="condition-not-text"),
    pytest.param(_set(["items", 0, "materials", 3, "condition"], "仅" * 41), "condition（适用条件）过长",
                 id="condition-too-long"),
    pytest.param(_set(["items", 0, "produces"], "birth_medical_cert"), "produces", id="produces-not-a-list"),
    pytest.param(_set(["items", 0, "produces"], ["出生医学证明"]), "produces", id="produces-not-keys"),
    pytest.param(_set(["items", 0, "form_fields", 0, "code_list"], "religions"), "code_list“religions”无效",
                 id="unknown-code-list"),
    # 条件必填: items[3] is 社会保障卡申领, its field 2 the 邮寄地址 required when 领卡方式 is 免费邮寄
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_mode", "in": ["免费邮寄"]}),
                 "第4个事项（000111004000 社会保障卡申领）表单字段3：required_when（条件必填）引用的字段“delivery_mode”"
                 "不是本事项的表单字段", id="condition-on-unknown-field"),
    pytest.param(_set(MAILING_WHEN, {"field": "mailing_address", "in": ["免费邮寄"]}),
                 "不能以字段自身“mailing_address”为条件", id="condition-on-itself"),
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_method", "in": []}), "in 应为非空的取值列表",
                 id="condition-empty-list"),
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_method", "in": "免费邮寄"}), "in 应为非空的取值列表",
                 id="condition-values-not-a-list"),
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_method", "in": ["免费邮寄", 3]}), "in 应为非空的取值列表",
                 id="condition-value-not-text"),
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_method", "in": ["免费邮寄", "快递到付"]}),
                 "required_when（条件必填）的取值“快递到付”不是字段“领卡方式”的选项", id="condition-value-not-offered"),
    pytest.param(_set(MAILING_WHEN, "免费邮寄"), "应为只含 field 和 in 的对象", id="condition-not-an-object"),
    pytest.param(_set(MAILING_WHEN, {"field": "delivery_method", "in": ["免费邮寄"], "not_in": ["x"]}),
                 "应为只含 field 和 in 的对象", id="condition-with-unknown-key"),
    pytest.param(_set(["items", 3, "form_fields", 2, "required"], True), "已是必填字段（required: true）",
                 id="condition-on-an-always-required-field"),
]


@pytest.mark.parametrize(("mutate", "expected"), FAULTS)
def test_validate_catalog_catches_fault(catalog, mutate, expected):
    mutate(catalog)
    errors = validate_catalog(catalog)
    assert errors, "fault not reported"
    assert any(expected in e for e in errors), errors


def test_committed_longer_in_other_unit_is_not_compared(catalog):
    item = _first_item(catalog)
    item["statutory_limit"] = {"value": 1, "unit": "working_days"}
    item["committed_limit"] = {"value": 4, "unit": "hours"}
    assert validate_catalog(catalog) == []


def test_validate_reports_all_faults_at_once(catalog):
    catalog["items"][0]["kind"] = "fast"
    catalog["items"][1]["statutory_limit"]["unit"] = "weeks"
    catalog["bundles"][0]["items"].append("999999999999")
    assert len(validate_catalog(catalog)) == 3


@pytest.mark.parametrize("garbage", [[], "x", {"items": "x", "bundles": None}, {"items": [1, None]}])
def test_validate_never_crashes_on_garbage(garbage):
    assert validate_catalog(garbage)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("items", 0, "name"), 123, "name 应为非空文字"),
        (("items", 0, "materials", 0, "name"), None, "name 应为非空文字"),
        (("bundles", 0, "name"), None, "name 应为非空文字"),
        (("items", 0, "materials", 0, "copies"), 10**30, "份数应为1至99"),
        (("catalog_version",), {"a": 1}, "catalog_version"),
        (("items", 0, "statutory_limit", "value"), 10**9, "0至3650"),
    ],
)
def test_wrong_types_are_reported_not_crashed_on(path, value, message):
    data = _demo_catalog()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = validate_catalog(data)
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    ("field", "table"),
    [("kind", labels.ITEM_KINDS), ("item_type", labels.ITEM_TYPES), ("level", labels.ITEM_LEVELS)],
)
def test_a_code_is_valid_exactly_when_screen_and_paper_have_a_label_for_it(catalog, field, table):
    for code in table:
        catalog["items"][0][field] = code
        assert validate_catalog(catalog) == [], code
    catalog["items"][0][field] = "no-label"
    assert validate_catalog(catalog)


def test_a_material_form_is_valid_exactly_when_it_has_a_label(catalog):
    material = catalog["items"][0]["materials"][0]
    for form in labels.MATERIAL_FORMS:
        material["form"] = form
        assert validate_catalog(catalog) == [], form
    material["form"] = "scan"
    assert any("材料形式" in p for p in validate_catalog(catalog))


def test_the_demo_catalog_uses_conditions_where_they_are_real(catalog):
    pension = next(i for i in catalog["items"] if i["name"] == "城乡居民基本养老保险参保登记")
    disability = next(m for m in pension["materials"] if m["key"] == "disability_cert")
    assert disability["condition"] == "仅重度残疾人申请政府代缴时提供"
    assert validate_catalog(catalog) == []


@pytest.mark.parametrize("fields, expected", [
    ({"handling_area": "14108", "handling_area_name": "邻县", "cross_area": True}, "6 位县级行政区划代码"),
    ({"handling_area": "141082", "cross_area": True}, "handling_area_name"),
    ({"handling_area": "141082", "handling_area_name": "邻县", "cross_area": False}, "cross_area: true"),
])
def test_an_item_another_county_handles_must_name_it_and_be_cross_area(catalog, fields, expected):
    catalog["items"][0].update(fields)
    assert any(expected in e for e in validate_catalog(catalog)), validate_catalog(catalog)


def test_an_item_another_county_handles_passes_when_complete(catalog):
    catalog["items"][0].update(handling_area="141082", handling_area_name="示范市邻县民政局", cross_area=True)
    assert validate_catalog(catalog) == []


def test_the_demo_card_item_asks_for_a_mailing_address_only_when_posting(catalog):
    card = catalog["items"][3]
    assert card["name"] == "社会保障卡申领"
    mailing = card["form_fields"][2]
    assert (mailing["name"], mailing["required"]) == ("mailing_address", False)
    assert mailing["required_when"] == {"field": "delivery_method", "in": ["免费邮寄"]}
    assert validate_catalog(catalog) == []


def test_a_condition_on_a_typed_field_may_name_any_value(catalog):
    """Only a choice's values can be checked: a text field's answer is whatever was typed."""
    fields = catalog["items"][3]["form_fields"]
    fields.append({"name": "note", "label": "备注", "type": "text", "required": False, "options": None,
                   "required_when": {"field": "mailing_address", "in": ["见备注"]}})
    assert validate_catalog(catalog) == []


def test_a_catalog_without_conditions_and_a_field_with_a_key_it_does_not_know_still_pass(catalog):
    """What a station older than a key does with it: unknown keys of a field are kept, not refused."""
    for item in catalog["items"]:
        for spec in item["form_fields"]:
            spec.pop("required_when", None)
    assert validate_catalog(catalog) == []
    catalog["items"][3]["form_fields"][2]["shown_when"] = {"field": "delivery_method", "in": ["免费邮寄"]}
    assert validate_catalog(catalog) == []
