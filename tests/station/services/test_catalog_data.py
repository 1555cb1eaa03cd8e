"""The shipped demo catalog is importable and realistic (the format checks are in tests/rules)."""

import re
from collections import Counter

import pytest

from rules.catalog_format import IMPL_CODE_RE, bundle_material_keys, validate_catalog
from station.catalog_data import DEMO_CATALOG_PATH, load_demo_catalog

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

REQUIRED_NAMES = (
    "城乡居民基本养老保险参保登记",
    "城乡居民基本医疗保险参保登记",
    "困难残疾人生活补贴和重度残疾人护理补贴（残疾人两项补贴）申请",
    "高龄津贴申领",
    "临时救助申请",
    "最低生活保障申请",
    "生育登记",
    "农村宅基地和建房（规划许可）申请",
    "社会保障卡申领",
    "就业登记和失业登记",
    "医保异地就医备案",
    "老年人优待证办理",
)


@pytest.fixture
def catalog():
    return load_demo_catalog()


def items_by_code(data):
    return {item["item_code"]: item for item in data["items"]}


def test_demo_catalog_file_is_utf8_json_with_chinese_unescaped():
    text = DEMO_CATALOG_PATH.read_text(encoding="utf-8")
    assert "城乡居民" in text  # ensure_ascii=False: the county and humans can read the file


def test_shipped_catalog_validates(catalog):
    assert validate_catalog(catalog) == []


def test_catalog_size_and_header(catalog):
    assert catalog["catalog_version"] == "2026.11-demo"
    assert catalog["region"] == "示范县"
    assert len(catalog["items"]) >= 28
    assert len(catalog["bundles"]) >= 3


@pytest.mark.parametrize("name", REQUIRED_NAMES)
def test_required_items_present(catalog, name):
    assert name in {item["name"] for item in catalog["items"]}


def test_codes_unique_and_impl_code_starts_with_valid_uscc(catalog):
    items = catalog["items"]
    assert len({i["item_code"] for i in items}) == len(items)
    assert len({i["impl_code"] for i in items}) == len(items)
    for item in items:
        assert len(item["item_code"]) == 12
        assert IMPL_CODE_RE.match(item["impl_code"])
        uscc = item["impl_code"][:18]
        # GB 32100 MOD 31 check digit, so the demo codes survive a strict county check.
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(uscc[:17], USCC_WEIGHTS, strict=True))
        assert uscc[17] == USCC_CHARS[(31 - total % 31) % 31], item["name"]
        assert uscc[2:8] == "141081"


def test_items_of_one_department_share_one_uscc(catalog):
    by_department: dict[str, set[str]] = {}
    for item in catalog["items"]:
        by_department.setdefault(item["department"], set()).add(item["impl_code"][:18])
    assert all(len(codes) == 1 for codes in by_department.values())
    assert len({next(iter(c)) for c in by_department.values()}) == len(by_department)


def test_realistic_mix(catalog):
    items = catalog["items"]
    kinds = Counter(i["kind"] for i in items)
    assert 0.25 <= kinds["instant"] / len(items) <= 0.45
    for item in items:
        if item["kind"] == "instant":
            assert item["statutory_limit"]["value"] <= 1 and item["committed_limit"]["value"] == 0
        else:
            assert 10 <= item["statutory_limit"]["value"] <= 60
            assert 0 < item["committed_limit"]["value"] <= item["statutory_limit"]["value"]
    assert 3 <= sum(i["station_can_accept"] for i in items) <= 4
    assert any(not i["proxy_allowed"] for i in items)
    by_name = {i["name"]: i for i in items}
    assert by_name["医保异地就医备案"]["cross_area"] and by_name["社会保障卡申领"]["cross_area"]
    materials = [m for i in items for m in i["materials"]]
    assert any(m["deferrable"] for m in materials)
    assert any(m["commitment"] for m in materials)
    assert any(m["e_license"] for m in materials)
    assert any(not m["essential"] for m in materials)
    for item in items:
        # the 新生儿出生 items ask the baby's sex and birth date and both parents (issue 19): up to 7
        assert 1 <= len(item["form_fields"]) <= 7, item["name"]
        assert item["materials"], item["name"]


def test_same_material_key_means_same_document(catalog):
    """Bundles merge by key, so one key must name one document everywhere."""
    names: dict[str, set[str]] = {}
    for item in catalog["items"]:
        for m in item["materials"]:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", m["key"])
            names.setdefault(m["key"], set()).add(m["name"])
    assert {k: v for k, v in names.items() if len(v) > 1} == {}


def test_every_bundle_really_deduplicates(catalog):
    items = items_by_code(catalog)
    for bundle in catalog["bundles"]:
        total = sum(len(items[code]["materials"]) for code in bundle["items"])
        merged = bundle_material_keys(catalog, bundle["code"])
        assert len(merged) == len(set(merged))
        assert len(merged) < total, bundle["name"]
        assert "id_card" in merged


def test_required_bundles(catalog):
    items = items_by_code(catalog)
    bundles = {b["name"]: [items[c]["name"] for c in b["items"]] for b in catalog["bundles"]}
    assert {"新生儿出生一件事", "退休一件事", "残疾人服务一件事"} <= set(bundles)
    newborn = bundles["新生儿出生一件事"]
    for name in (
        "出生医学证明首次签发",
        "生育登记",
        "出生登记（户口登记）",
        "新生儿参保登记",
        "社会保障卡申领",
    ):
        assert name in newborn
