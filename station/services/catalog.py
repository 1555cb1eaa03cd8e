"""Catalog import, lookup, search and bundle material merging.

A catalog version is imported whole in one transaction and becomes current only when complete;
older versions stay, because open cases point at the item rows they were taken under.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rules.catalog_format import validate_catalog
from rules.code_lists import options_of
from station.extensions import db
from station.models import Bundle, CatalogVersion, ItemPower, Material, ServiceItem
from station.services.catalog_search import (
    CatalogIndex,
    SearchEntry,
    build_search_text,
    bundle_keywords,
    item_keywords,
)
from station.services.errors import DomainError, NotFound

BUNDLE_PREFIX = "bundle:"
_index_lock = threading.Lock()
_index_cache: dict[tuple[str, int, str], CatalogIndex] = {}


def import_catalog(data: dict[str, Any], source: str = "file") -> CatalogVersion:
    """Store a catalog version and make it current; a version already stored is just made current."""
    problems = validate_catalog(data)
    if problems:
        more = f"等{len(problems)}处" if len(problems) > 5 else ""
        raise DomainError("事项目录格式有误：" + "；".join(problems[:5]) + more)
    version = str(data["catalog_version"])
    with db.atomic("IMMEDIATE"):  # nested (inside a pull) this is a savepoint
        existing = CatalogVersion.get_or_none(CatalogVersion.version == version)
        if existing is None:
            existing = CatalogVersion.create(
                version=version,
                published_at=str(data.get("published_at") or ""),
                region=str(data.get("region") or ""),
                source=source,
            )
            _store_items(existing, data)
        CatalogVersion.update(is_current=False).where(CatalogVersion.id != existing.id).execute()
        CatalogVersion.update(is_current=True).where(CatalogVersion.id == existing.id).execute()
    return CatalogVersion.get_by_id(existing.id)


def _store_items(catalog: CatalogVersion, data: dict[str, Any]) -> None:
    for raw in data["items"]:
        search = build_search_text(raw["name"], item_keywords(raw["name"], raw.get("short_name"),
                                                              raw.get("keywords") or ()))
        item = ServiceItem.create(
            catalog=catalog,
            item_code=raw["item_code"],
            impl_code=raw["impl_code"],
            name=raw["name"],
            short_name=raw.get("short_name") or raw["name"],
            department=raw.get("department") or "",
            item_type=raw.get("item_type") or "20",
            level=raw.get("level") or "4",
            subject=raw.get("subject") or [],
            kind=raw["kind"],
            statutory_value=int(raw["statutory_limit"]["value"]),
            statutory_unit=raw["statutory_limit"]["unit"],
            committed_value=int(raw["committed_limit"]["value"]),
            committed_unit=raw["committed_limit"]["unit"],
            fee=raw.get("fee") or "不收费",
            proxy_allowed=bool(raw.get("proxy_allowed", True)),
            cross_area=bool(raw.get("cross_area", False)),
            handling_area=raw.get("handling_area") or "",
            handling_area_name=raw.get("handling_area_name") or "",
            station_can_accept=bool(raw.get("station_can_accept", False)),
            keywords=list(raw.get("keywords") or []),
            consult_phone=raw.get("consult_phone") or "",
            supervise_phone=raw.get("supervise_phone") or "",
            legal_basis=raw.get("legal_basis") or "",
            form_fields=[_with_code_list(f) for f in raw.get("form_fields") or []],
            produces=list(raw.get("produces") or []),
            search_pinyin=search["pinyin"],
            search_initials=search["initials"],
        )
        Material.insert_many(
            [
                {
                    "item": item,
                    "position": position,
                    "key": m["key"],
                    "name": m["name"],
                    "form": m.get("form") or "original",
                    "copies": int(m.get("copies") or 1),
                    "essential": bool(m.get("essential", True)),
                    "deferrable": bool(m.get("deferrable", False)),
                    "commitment": bool(m.get("commitment", False)),
                    "e_license": m.get("e_license") or None,
                    "description": m.get("description") or "",
                    "source": m.get("source") or "",
                    "condition": (m.get("condition") or "").strip(),
                }
                for position, m in enumerate(raw.get("materials") or [])
            ]
        ).execute()
    names = {raw["item_code"]: raw["name"] for raw in data["items"]}
    for raw in data.get("bundles") or []:
        search = build_search_text(raw["name"], bundle_keywords(names[c] for c in raw["items"] if c in names))
        Bundle.create(
            catalog=catalog,
            code=raw["code"],
            name=raw["name"],
            description=raw.get("description") or "",
            item_codes=list(raw["items"]),
            search_pinyin=search["pinyin"],
            search_initials=search["initials"],
        )


def _with_code_list(spec: dict[str, Any]) -> dict[str, Any]:
    """A field drawing on a national code list (民族) gets that list as its options, stored with the item."""
    if spec.get("code_list"):
        return {**spec, "options": options_of(spec)}
    return dict(spec)


#: What a page says on a fresh station before its first pull (``python -m station init`` without a catalog).
NO_CATALOG = "本站还没有事项目录：目录在本站首次与县级平台同步时下发，站长也可在“目录”页导入。"


def has_catalog() -> bool:
    """Whether the station has a catalog yet: pages that list items ask first and say :data:`NO_CATALOG`."""
    return CatalogVersion.current() is not None


def current_catalog() -> CatalogVersion:
    catalog = CatalogVersion.current()
    if catalog is None:
        raise DomainError(NO_CATALOG)
    return catalog


def current_items() -> list[ServiceItem]:
    return list(
        ServiceItem.select().where(ServiceItem.catalog == current_catalog()).order_by(ServiceItem.name)
    )


def current_bundles() -> list[Bundle]:
    return list(Bundle.select().where(Bundle.catalog == current_catalog()).order_by(Bundle.code))


def get_item(item_id: int) -> ServiceItem:
    """An item of the current catalog (intake is only taken under the current version)."""
    item = ServiceItem.get_or_none((ServiceItem.id == item_id) & (ServiceItem.catalog == current_catalog()))
    if item is None:
        raise NotFound("没有找到这个事项，目录可能已更新，请重新搜索。")
    return item


def get_bundle(code: str) -> tuple[Bundle, list[ServiceItem]]:
    bundle = Bundle.get_or_none((Bundle.code == code) & (Bundle.catalog == current_catalog()))
    if bundle is None:
        raise NotFound("没有找到这个“一件事”，目录可能已更新，请重新搜索。")
    by_code = {
        item.item_code: item
        for item in ServiceItem.select().where(
            (ServiceItem.catalog == bundle.catalog) & (ServiceItem.item_code.in_(bundle.item_codes))
        )
    }
    return bundle, [by_code[c] for c in bundle.item_codes if c in by_code]


def materials_of(item: ServiceItem) -> list[Material]:
    return list(item.materials.order_by(Material.position))


@dataclass
class MergedMaterial:
    """One line of a bundle's de-duplicated material list, and which items need it."""

    key: str
    name: str
    form: str
    copies: int
    essential: bool
    deferrable: bool
    commitment: bool
    e_license: str | None
    description: str
    source: str
    items: list[ServiceItem]  # the items that ask for it
    condition: str = ""  # when it applies (a conditional material may be marked 不适用); "" = always
    produced_by: ServiceItem | None = None  # an earlier item of the same bundle issues it: not demanded

    @property
    def item_names(self) -> list[str]:
        return [item.name for item in self.items]


def merge_materials(items: list[ServiceItem]) -> list[MergedMaterial]:
    """A bundle's one material list: the same document asked by several items appears once.

    The merged line takes the strictest demand: essential if any item needs it, an original if
    any item needs one, the most copies; it may be deferred or promised only if every item allows it,
    and it is conditional only if every item asks for it under a condition.
    A material that an earlier item of the same list produces (the 出生医学证明 of the 新生儿出生
    bundle's first item) is marked ``produced_by`` that item: the resident is not asked for it.
    """
    merged: dict[str, MergedMaterial] = {}
    products = bundle_products(items)
    for item in items:
        for m in materials_of(item):
            line = merged.get(m.key)
            if line is not None and line.produced_by is not None and products.get(m.key) is not item:
                line.items.append(item)
                continue
            if line is None:
                merged[m.key] = MergedMaterial(
                    key=m.key,
                    name=m.name,
                    form=m.form,
                    copies=m.copies,
                    essential=m.essential,
                    deferrable=m.deferrable,
                    commitment=m.commitment,
                    e_license=m.e_license,
                    description=m.description,
                    source=m.source,
                    items=[item],
                    condition=m.condition or "",
                    produced_by=_producer_before(products, m.key, item, items),
                )
                continue
            line.items.append(item)
            line.condition = _merged_condition(line.condition, m.condition or "")
            line.essential = line.essential or m.essential
            line.deferrable = line.deferrable and m.deferrable
            line.commitment = line.commitment and m.commitment
            line.e_license = line.e_license if line.e_license == m.e_license else None
            line.copies = max(line.copies, m.copies)
            if m.form != line.form:
                line.form = "original_and_copy"
    return list(merged.values())


def bundle_products(items: list[ServiceItem]) -> dict[str, ServiceItem]:
    """Material key → the first item of ``items`` whose result is that material (``produces``).

    Only meaningful when several items are taken together (a 一件事): a single item's own product
    is what the resident applies for, never something she hands in.
    """
    products: dict[str, ServiceItem] = {}
    if len(items) < 2:
        return products
    for item in items:
        for key in item.produces or []:
            products.setdefault(key, item)
    return products


def _producer_before(products: dict[str, ServiceItem], key: str, item: ServiceItem,
                     items: list[ServiceItem]) -> ServiceItem | None:
    """The item producing ``key`` when it comes before ``item`` in the bundle (so it is issued first)."""
    producer = products.get(key)
    if producer is None or producer is item:
        return None
    return producer if items.index(producer) < items.index(item) else None


def _merged_condition(first: str, other: str) -> str:
    """A material asked unconditionally by any item is unconditional; else every distinct condition."""
    if not first or not other:
        return ""
    return first if other in first.split("；") else f"{first}；{other}"


def station_can_accept(item: ServiceItem) -> bool:
    """Whether this station holds the power to accept the item (per-station override first)."""
    power = ItemPower.get_or_none(ItemPower.impl_code == item.impl_code)
    return power.can_accept if power is not None else bool(item.station_can_accept)


def set_station_power(impl_code: str, can_accept: bool) -> None:
    """Admin setting: this station is (or is not) 委托受理 for an item."""
    ItemPower.insert(impl_code=impl_code, can_accept=can_accept).on_conflict_replace().execute()


def search_entries(catalog: CatalogVersion) -> list[SearchEntry]:
    """What the catalog search indexes: every item (keyed by its id) and every bundle, with the stored pinyin."""
    items = list(ServiceItem.select().where(ServiceItem.catalog == catalog))
    names = {item.item_code: item.name for item in items}
    entries = [
        SearchEntry(
            key=str(item.id),
            name=item.name,
            keywords=item_keywords(item.name, item.short_name, item.keywords or ()),
            department=item.department,
            pinyin=item.search_pinyin,
            initials=item.search_initials,
        )
        for item in items
    ]
    entries += [
        SearchEntry(
            key=BUNDLE_PREFIX + b.code,
            name=b.name,
            keywords=bundle_keywords(names[c] for c in b.item_codes if c in names),
            department="",
            pinyin=b.search_pinyin,
            initials=b.search_initials,
        )
        for b in Bundle.select().where(Bundle.catalog == catalog)
    ]
    return entries


def _index_for(catalog: CatalogVersion) -> CatalogIndex:
    with _index_lock:
        key = (str(db.obj.database), catalog.id, catalog.version)
        index = _index_cache.get(key)
        if index is None:
            index = CatalogIndex(search_entries(catalog))
            _index_cache.clear()  # only the current catalog is searched
            _index_cache[key] = index
        return index


@dataclass
class SearchHit:
    kind: str  # item / bundle
    item: ServiceItem | None
    bundle: Bundle | None


def search(query: str, limit: int = 20) -> list[SearchHit]:
    """Items and bundles of the current catalog matching Chinese text or pinyin, best first."""
    catalog = current_catalog()
    keys = [key for key, _score in _index_for(catalog).search(query, limit=limit)]
    item_ids = [int(k) for k in keys if not k.startswith(BUNDLE_PREFIX)]
    bundle_codes = [k[len(BUNDLE_PREFIX) :] for k in keys if k.startswith(BUNDLE_PREFIX)]
    items = {i.id: i for i in ServiceItem.select().where(ServiceItem.id.in_(item_ids))} if item_ids else {}
    bundles = (
        {
            b.code: b
            for b in Bundle.select().where((Bundle.catalog == catalog) & Bundle.code.in_(bundle_codes))
        }
        if bundle_codes
        else {}
    )
    hits = []
    for key in keys:
        if key.startswith(BUNDLE_PREFIX):
            bundle = bundles.get(key[len(BUNDLE_PREFIX) :])
            if bundle is not None:
                hits.append(SearchHit("bundle", None, bundle))
        elif int(key) in items:
            hits.append(SearchHit("item", items[int(key)], None))
    return hits
