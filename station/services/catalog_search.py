"""Find service items and bundles by Chinese text or pinyin — pure Python, no Flask, no database.

Village agents type on whatever keyboard the station has, often without a Chinese input
method, so "ylbx", "yanglao", "SHEBAOKA" and "ｙｌｂｘ" must all work as well as "城乡居民".
Pinyin is computed once per entry (pypinyin is far too slow to run per query over hundreds
of items); a query then costs a few substring tests per entry on precomputed lowercase strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from station.services.hanzi import has_han

__all__ = [
    "SearchEntry", "CatalogIndex", "build_search_text", "bundle_keywords", "item_keywords",
    "normalize_query",
]

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map onto plain ASCII, so a
# query typed with a Chinese IME in full-width mode matches like a half-width one.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_WHITESPACE_RE = re.compile(r"\s+")
_NOT_ALNUM_RE = re.compile(r"[^a-z0-9]+")
_LATIN_RE = re.compile(r"[a-z]")

# Tier scores, spaced by 10 so that the bonuses below never lift an entry into the next tier.
_EXACT, _PREFIX, _NAME_SUB, _OTHER_SUB = 100.0, 90.0, 80.0, 70.0
_INITIALS_PREFIX, _INITIALS_SUB, _PINYIN_PREFIX, _PINYIN_SUB = 60.0, 50.0, 40.0, 35.0
_KEYWORD_PINYIN = 20.0
# Initials equal to the whole initials of the name or of a keyword (issue 19): "ylbx" is what an
# agent types for 养老保险; it outranks every partial match, just under the exact Chinese name.
_INITIALS_EXACT = 95.0
_WHOLE_KEYWORD_BONUS = 5.0

# A Chinese query's own pinyin, which matches homophone typos (底保 for 低保), is worked out only
# when its direct matches number fewer than this; see CatalogIndex.search for why it is 1.
_HOMOPHONES_BELOW = 1

SEPARATOR = " "  # between name and keyword segments; queries have no spaces, so no match spans two


@dataclass(frozen=True)
class SearchEntry:
    """One searchable thing: an item (key = its row id) or a bundle (key = BUNDLE_PREFIX + bundle code)."""

    key: str
    name: str
    keywords: tuple[str, ...] = ()
    department: str = ""
    # what build_search_text() returned for (name, keywords) when the catalog was imported;
    # given, the index does not compute pinyin again
    pinyin: str = ""
    initials: str = ""


def normalize_query(text: str) -> str:
    """Strip, fold full-width ASCII to half-width, lowercase and drop all spaces."""
    return _WHITESPACE_RE.sub("", text.translate(_FULLWIDTH).lower())


@lru_cache(maxsize=1)
def _pypinyin():  # noqa: ANN202
    """Import pypinyin on first use: its dictionaries add ~54 MB to the station's resident memory,
    and a station that searches with stored pinyin (the usual case) never needs it loaded."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin, Style


def _pinyin(text: str) -> str:
    """Full toneless pinyin, lowercase, letters and digits only ("社会保障卡" -> "shehuibaozhangka")."""
    lazy_pinyin, style = _pypinyin()
    return _NOT_ALNUM_RE.sub("", "".join(lazy_pinyin(text, style=style.NORMAL)).lower())


def _initials(text: str) -> str:
    """First letter of each syllable; Latin runs and digits are kept as typed ("医保yd" -> "ybyd")."""
    lazy_pinyin, style = _pypinyin()
    return _NOT_ALNUM_RE.sub("", "".join(lazy_pinyin(text, style=style.FIRST_LETTER)).lower())


def build_search_text(name: str, keywords: Iterable[str] = ()) -> dict[str, str]:
    """Return the pinyin and initials the station stores alongside an item.

    The name comes first, then each keyword, separated by single spaces. Stored once at
    catalog import, so a database LIKE search or a rebuilt index never recomputes pinyin;
    the separators keep a query from matching across the end of one word and the start of
    the next.
    """
    segments = [normalize_query(name)] + [normalize_query(k) for k in keywords if k.strip()]
    return {
        "pinyin": SEPARATOR.join(_pinyin(s) for s in segments),
        "initials": SEPARATOR.join(_initials(s) for s in segments),
    }


@lru_cache(maxsize=2048)
def _query_forms(query: str) -> tuple[str, str, bool]:
    """Return (full pinyin, initials, use_initials) of a normalized query, cached.

    Initials are only compared when the agent typed Latin letters: a pure Chinese query's
    initials ("残疾" -> "cj") would match unrelated names by accident.
    """
    if not has_han(query):
        plain = _NOT_ALNUM_RE.sub("", query)
        return plain, plain, bool(plain)
    return _pinyin(query), _initials(query), bool(_LATIN_RE.search(query))


@dataclass(frozen=True)
class _Prepared:
    """An entry's strings, normalized once. Keyword fields are space-joined and space-padded
    (" 低保 救助 "), so "any keyword contains q" is one substring test and "a keyword equals q"
    is a test for " q "; a normalized query never contains a space."""

    key: str
    name: str
    name_pinyin: str
    name_initials: str
    other: str  # department and keywords
    keywords: str
    keyword_pinyin: str
    keyword_initials: str
    tie_break: float
    keyword_initials_list: tuple[str, ...] = ()  # in the county's order: the first keyword is the most meant


def _padded(parts: Iterable[str]) -> str:
    return SEPARATOR + SEPARATOR.join(parts) + SEPARATOR


class CatalogIndex:
    """In-memory search over items and bundles, built once per catalog version.

    Ranking, best first, and why:

    1. exact name — the agent typed the whole name, nothing else can be meant;
    2. name starts with the query — agents type names from their beginning;
    3. Chinese substring of the name — "城乡居民" finds every 城乡居民 item;
    4. substring of a keyword or the department — keywords are the county's synonyms
       ("低保", "社保卡"), weaker than the official name;
    5. pinyin initials are a prefix of the name's initials — "gljt" -> 高龄津贴申领;
    6. initials anywhere in the name — "ylbx" -> 城乡居民基本医疗保险参保登记;
    7. full pinyin prefix, then substring, of the name — "yanglao", or a homophone typo;
    8. pinyin or initials of a keyword — "shebaoka" -> the keyword 社保卡.

    Within a tier, an entry that has a keyword equal to the query (in Chinese, pinyin or
    initials) goes first: initials are ambiguous (养老保险 and 医疗保险 are both "ylbx"),
    and the keywords the county curated say which reading it means. Then the shorter name
    wins, because a short name that contains the query is mostly the query.
    """

    def __init__(self, entries: Iterable[SearchEntry]) -> None:
        self._entries: list[_Prepared] = []
        for entry in entries:
            keywords = [k for k in (normalize_query(k) for k in entry.keywords) if k]
            name = normalize_query(entry.name)
            if entry.pinyin and entry.initials:
                pinyin_parts = entry.pinyin.split(SEPARATOR)
                initials_parts = entry.initials.split(SEPARATOR)
            else:
                pinyin_parts = [_pinyin(name), *(_pinyin(k) for k in keywords)]
                initials_parts = [_initials(name), *(_initials(k) for k in keywords)]
            self._entries.append(
                _Prepared(
                    key=entry.key,
                    name=name,
                    name_pinyin=pinyin_parts[0],
                    name_initials=initials_parts[0],
                    other=_padded([normalize_query(entry.department), *keywords]),
                    keywords=_padded(keywords),
                    keyword_pinyin=_padded(pinyin_parts[1:]),
                    keyword_initials=_padded(initials_parts[1:]),
                    tie_break=1.0 / (1 + len(name)),
                    keyword_initials_list=tuple(initials_parts[1:]),
                )
            )

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: str, limit: int = 20) -> list[tuple[str, float]]:
        """Return up to ``limit`` (key, score) pairs, best first; [] for an empty query.

        A Chinese query is first matched as text: Chinese name, keywords, department. Its own
        pinyin, which finds homophone typos through the items' stored pinyin, needs pypinyin
        (+54 MB of the station's resident memory, measured after the bench's warm-up), so it is
        worked out only when the text finds fewer than _HOMOPHONES_BELOW entries; homophones
        then rank after every direct match (the pinyin tiers are the lowest).

        Why 1, that is "the text found nothing", and not a few: a typo rarely matches as text,
        since the whole query must be a substring of a name or keyword, so "nothing found" is
        the case a typo makes. Queries typed right often find one or two entries (in the demo
        catalog 低保 finds 1, 高龄 2, 残疾 and 户口 3): with 3 the bench's warm-up loaded pypinyin
        and the station read 181 MB after it instead of 123 MB (target < 120).
        """
        q = normalize_query(query)
        if not q or limit <= 0:
            return []
        if has_han(q) and not _LATIN_RE.search(q):
            found = self._scan(q, "", "", False, limit)
            if len(found) >= min(_HOMOPHONES_BELOW, limit):
                return found
        return self._scan(q, *_query_forms(q), limit)

    def _scan(self, q: str, q_pinyin: str, q_initials: str, use_initials: bool,
              limit: int) -> list[tuple[str, float]]:
        # Empty forms (a query of punctuation only) must not match everything.
        if not q_initials:
            use_initials = False
        word, word_pinyin, word_initials = f" {q} ", f" {q_pinyin} ", f" {q_initials} "
        hits: list[tuple[float, str]] = []
        for e in self._entries:
            # One flat chain of substring tests: this loop is the whole cost of a query.
            if q == e.name:
                tier = _EXACT
            elif use_initials and (q_initials == e.name_initials or word_initials in e.keyword_initials):
                tier = _INITIALS_EXACT + _exact_initials_rank(e, q_initials)
            elif e.name.startswith(q):
                tier = _PREFIX
            elif q in e.name:
                tier = _NAME_SUB
            elif q in e.other:
                tier = _OTHER_SUB
            elif use_initials and e.name_initials.startswith(q_initials):
                tier = _INITIALS_PREFIX
            elif use_initials and q_initials in e.name_initials:
                tier = _INITIALS_SUB
            elif q_pinyin and e.name_pinyin.startswith(q_pinyin):
                tier = _PINYIN_PREFIX
            elif q_pinyin and q_pinyin in e.name_pinyin:
                tier = _PINYIN_SUB
            elif (q_pinyin and q_pinyin in e.keyword_pinyin) or (
                use_initials and q_initials in e.keyword_initials
            ):
                tier = _KEYWORD_PINYIN
            else:
                continue
            if tier < _INITIALS_EXACT and (
                word in e.keywords
                or (q_pinyin and word_pinyin in e.keyword_pinyin)
                or (use_initials and word_initials in e.keyword_initials)
            ):
                tier += _WHOLE_KEYWORD_BONUS
            hits.append((tier + e.tie_break, e.key))
        hits.sort(key=lambda hit: (-hit[0], hit[1]))
        return [(key, score) for score, key in hits[:limit]]


def _exact_initials_rank(e: _Prepared, q_initials: str) -> float:
    """Within exact-initials matches: the name itself first, then by the matching keyword's place.

    Initials are ambiguous (养老保险 and 医疗保险 are both "ylbx"); the county lists an item's
    keywords most-meant first, so the item naming "养老保险" first wins "ylbx". Stays below 3, so
    with the tie break it never reaches the tier above.
    """
    if q_initials == e.name_initials:
        return 2.0
    return 2.0 / (2 + e.keyword_initials_list.index(q_initials))


BUNDLE_KEYWORD = "一件事"


def item_keywords(name: str, short_name: str | None, keywords: Iterable[str]) -> tuple[str, ...]:
    """What an item is found by besides its name: its short name, then the county's keywords.

    One rule for the stored pinyin and for the index, so the two never disagree.
    """
    lead = (short_name,) if short_name and short_name != name else ()
    return (*lead, *keywords)


def bundle_keywords(member_names: Iterable[str]) -> tuple[str, ...]:
    """A bundle is found by "一件事" and by its members' names: typing one item offers its bundle."""
    return (BUNDLE_KEYWORD, *member_names)
