"""Agents find items by Chinese text, full pinyin or initials, on any keyboard."""

import pytest

from station.models import CatalogVersion
from station.services.catalog import search_entries
from station.services.catalog_search import (
    CatalogIndex,
    SearchEntry,
    build_search_text,
    normalize_query,
)

PENSION_ENROLL = "城乡居民基本养老保险参保登记"
MEDICAL_ENROLL = "城乡居民基本医疗保险参保登记"
DISABILITY_SUBSIDY = "困难残疾人生活补贴和重度残疾人护理补贴（残疾人两项补贴）申请"
DISABILITY_CARD = "残疾人证办理（新办）"


@pytest.fixture
def entries(database):
    """The entries the station itself indexes: the demo catalog as imported, with its stored pinyin."""
    return search_entries(CatalogVersion.current())


@pytest.fixture
def index(entries):
    return CatalogIndex(entries)


@pytest.fixture
def names(entries):
    return {e.key: e.name for e in entries}


def found(index, names, query, limit=20):
    return [names[key] for key, _ in index.search(query, limit)]


@pytest.mark.parametrize(
    ("query", "expected", "top"),
    [
        ("ylbx", MEDICAL_ENROLL, 3),
        ("ｙｌｂｘ", MEDICAL_ENROLL, 3),  # full-width, typed with the IME still on
        ("y l b x", MEDICAL_ENROLL, 3),
        ("gljt", "高龄津贴申领", 1),
        ("SHEBAOKA", "社会保障卡申领", 1),
        ("shebaoka", "社会保障卡申领", 1),
        ("社会保障卡申领", "社会保障卡申领", 1),
        ("  社会保障卡申领 ", "社会保障卡申领", 1),
        ("cjr", DISABILITY_CARD, 3),
        ("yanglao", PENSION_ENROLL, 5),
        ("城乡居民", PENSION_ENROLL, 5),
        ("低保", "最低生活保障申请", 1),
        ("dibao", "最低生活保障申请", 1),
        ("zjd", "农村宅基地和建房（规划许可）申请", 1),
        ("医保yd", "医保异地就医备案", 1),  # mixed Chinese and initials
        ("医保异地", "医保异地就医备案", 1),
        ("tyjr", "退役军人优待证申领", 1),
        ("异地就医", "医保异地就医备案", 1),
    ],
)
def test_finds(index, names, query, expected, top):
    assert expected in found(index, names, query)[:top]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("底保", "最低生活保障申请"),  # the keyword 低保, one character typed with the wrong homophone
        ("高龄津帖", "高龄津贴申领"),  # in the name
    ],
)
def test_a_homophone_typo_in_chinese_still_finds_the_item(index, names, typo, meant):
    assert found(index, names, typo)[:1] == [meant]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("yl", {PENSION_ENROLL, "城乡居民养老保险待遇申领", "城乡居民养老保险关系转移"}),
        ("残疾", {DISABILITY_SUBSIDY, DISABILITY_CARD}),
        ("cj", {DISABILITY_SUBSIDY, DISABILITY_CARD}),
        ("出生", {"出生登记（户口登记）", "出生医学证明首次签发", "新生儿出生一件事"}),
        ("养老", {PENSION_ENROLL, "城乡居民养老保险待遇申领", "职工退休申请（基本养老保险待遇核定）"}),
    ],
)
def test_finds_all(index, names, query, expected):
    assert expected <= set(found(index, names, query))


@pytest.mark.parametrize("query", ["", "   ", "\u3000", "qwertyzz", "火星移民", "!!", "１２３４５６７８９"])
def test_no_results(index, query):
    assert index.search(query) == []


def test_ranking_tiers(index, names):
    """Exact name beats a prefix, which beats a keyword hit."""
    ranked = found(index, names, "社会保障卡申领")
    assert ranked[0] == "社会保障卡申领"
    scores = [score for _, score in index.search("出生")]
    assert scores == sorted(scores, reverse=True)


def test_shorter_name_breaks_ties():
    index = CatalogIndex([SearchEntry("long", "高龄津贴申领补发"), SearchEntry("short", "高龄津贴申领")])
    assert [key for key, _ in index.search("gljt")] == ["short", "long"]


def test_limit(index):
    assert len(index.search("y", limit=3)) == 3
    assert index.search("y", limit=0) == []


def test_keyword_and_department_hits_rank_below_name():
    index = CatalogIndex(
        [
            SearchEntry("kw", "最低生活保障申请", ("低保",), "示范县民政局"),
            SearchEntry("name", "低保年审", (), "示范县民政局"),
        ]
    )
    assert [key for key, _ in index.search("低保")] == ["name", "kw"]
    assert [key for key, _ in index.search("民政局")] == ["name", "kw"]  # equal tier, shorter first


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("  YLBX ", "ylbx"), ("ｙｌ ｂｘ", "ylbx"), ("医保\u3000ＹＤ", "医保yd"), ("", "")],
)
def test_normalize_query(raw, normalized):
    assert normalize_query(raw) == normalized


def test_build_search_text():
    text = build_search_text("高龄津贴申领", ["高龄", "老年 津贴", " "])
    assert text == {"pinyin": "gaolingjintieshenling gaoling laonianjintie", "initials": "gljtsl gl lnjt"}
    assert build_search_text("社会保障卡申领") == {
        "pinyin": "shehuibaozhangkashenling",
        "initials": "shbzksl",
    }


def test_a_thousand_queries_in_a_row_give_the_same_answers(index, names):
    """An agent's day of searches: each query answers the same every time (timing belongs in bench/)."""
    queries = ["ylbx", "yl", "yanglao", "残疾", "gljt", "SHEBAOKA", "ｙｌｂｘ", "城乡居民", "医保yd", "zzz"]
    first = {query: index.search(query) for query in queries}
    for i in range(1000):
        query = queries[i % len(queries)]
        assert index.search(query) == first[query], query
    top = {query: names[hits[0][0]] if hits else None for query, hits in first.items()}
    assert top == {
        "ylbx": "城乡居民养老保险待遇申领", "yl": "城乡居民基本养老保险参保登记", "yanglao": "城乡居民养老保险待遇申领",
        "残疾": "残疾人服务一件事", "gljt": "高龄津贴申领", "SHEBAOKA": "社会保障卡申领",
        "ｙｌｂｘ": "城乡居民养老保险待遇申领", "城乡居民": "城乡居民养老保险待遇申领", "医保yd": "医保异地就医备案",
        "zzz": None,
    }
    assert first["ｙｌｂｘ"] == first["ylbx"]  # the IME's full-width letters find the same items
    assert {names[key] for key, _ in first["残疾"]} == {"残疾人服务一件事", DISABILITY_CARD, DISABILITY_SUBSIDY}


def test_initials_that_match_an_item_exactly_rank_it_first(index, names):
    """Issue 19: "ylbx" is what a village agent types for 养老保险, the station's most common item;
    the county's keyword 养老保险 (initials ylbx, listed first) puts the pension items above every
    item whose initials merely contain ylbx (城乡居民基本医疗保险参保登记 has the very same initials)."""
    top = found(index, names, "ylbx")[:2]
    assert set(top) == {"城乡居民养老保险待遇申领", PENSION_ENROLL}
    assert found(index, names, "gljt")[0] == "高龄津贴申领"  # the name's own initials, exactly
    assert found(index, names, "城乡居民基本医疗保险参保登记")[0] == MEDICAL_ENROLL  # the exact name stays first
