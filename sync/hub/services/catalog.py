"""Catalog versions: publishing, and the grace window for cases taken under an older one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from peewee import IntegrityError, ModelSelect

from rules.catalog_format import validate_catalog
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import CatalogVersion, utcnow
from sync.hub.services import changes
from sync.hub.services.errors import ValidationError
from sync.hub.services.kept import Kept


def current() -> CatalogVersion | None:
    """The newest published catalog version (without its body), or None before the first publication.

    Every received batch asks this; loading and parsing a county's whole catalog each time
    would cost more than the batch. Read ``body`` with ``CatalogVersion.get_by_id`` when needed.
    """
    return CatalogVersion.first_raw('SELECT "id", "version", "published_at" FROM "hub_catalog_version" '
                                    'ORDER BY "id" DESC LIMIT 1')


#: How long a process keeps the catalog head it read for a batch's quick check (:func:`head_for_batches`).
HEAD_SECONDS = 5.0
_head: Kept[CatalogVersion | None] = Kept(HEAD_SECONDS)


def head_for_batches() -> CatalogVersion | None:
    """:func:`current` as this process read it in the last :data:`HEAD_SECONDS`, for a batch's quick check.

    Every batch asked the database, and a county publishes a catalog a few times a year. A head
    a few seconds old is safe there: an event naming a newer version is sent to
    :func:`check_grace`, which reads afresh and accepts it; an event naming the version superseded
    in those seconds is accepted, as the grace window (``CATALOG_GRACE_DAYS``) would anyway.
    Publishing here forgets it at once; another node sees the new head within the seconds.
    """
    return _head.get("head", current)


def _headers() -> ModelSelect:
    """Catalog versions without their bodies (id, version, published_at)."""
    return CatalogVersion.select(CatalogVersion.id, CatalogVersion.version, CatalogVersion.published_at)


def publish(catalog: Any, *, clerk: str) -> CatalogVersion:
    """Store a new catalog version and broadcast it to every station in one transaction.

    The catalog JSON is opaque to the hub beyond ``catalog_version`` and ``items`` (same schema
    as ``station/catalog_data/demo_catalog.json``), so the station's catalog can evolve freely.
    """
    if not isinstance(catalog, dict):
        raise ValidationError("目录须为 JSON 对象。")
    version = catalog.get("catalog_version")
    if not isinstance(version, str) or not version.strip():
        raise ValidationError("目录缺少版本号 catalog_version。")
    items = catalog.get("items")
    if not isinstance(items, list) or not items:
        raise ValidationError("目录缺少事项列表 items，或列表为空。")
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not (item.get("impl_code") or item.get("item_code")):
            raise ValidationError(f"第 {index} 个事项缺少事项编码（item_code / impl_code）。")
    # the same check every station applies on import: a catalog stations would refuse is never sent
    problems = validate_catalog(catalog)
    if problems:
        more = f"（共{len(problems)}处）" if len(problems) > 5 else ""
        raise ValidationError("目录格式有误，站点无法导入：" + "；".join(problems[:5]) + more)
    try:
        with db.atomic():
            row = CatalogVersion.create(version=version.strip(), published_by=clerk,
                                        item_count=len(items), body=catalog)
            changes.emit(protocol.CHANGE_CATALOG_PUBLISHED, catalog)
    except IntegrityError as exc:
        raise ValidationError(f"目录版本 {version} 已发布过，请使用新的版本号。") from exc
    _head.forget()  # this process's batches see the new head at once
    return row


@dataclass
class Recollect:
    """What must be collected again because the item changed between two catalog versions."""

    fields: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    item_removed: bool = False

    def __bool__(self) -> bool:
        return bool(self.fields or self.materials or self.item_removed)


def _find_item(catalog: dict[str, Any] | None, impl_code: str | None, item_code: str | None) -> dict | None:
    if not catalog:
        return None
    items = [i for i in catalog.get("items") or [] if isinstance(i, dict)]
    for key, value in (("impl_code", impl_code), ("item_code", item_code)):
        if value:
            for item in items:
                if item.get(key) == value:
                    return item
    return None


def _keyed(entries: Any, *keys: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in entries or []:
        if isinstance(entry, dict):
            ident = next((entry[k] for k in keys if entry.get(k)), None)
            if ident:
                out[str(ident)] = entry
    return out


def diff_item(old: dict[str, Any] | None, new: dict[str, Any] | None,
              impl_code: str | None, item_code: str | None) -> Recollect:
    """Compare one item across two catalogs: form fields and materials added or changed.

    Removed fields need nothing collected, so they are not listed. With the old catalog unknown
    to the hub, everything the new item asks for has to be confirmed again.
    """
    new_item = _find_item(new, impl_code, item_code)
    if new_item is None:
        return Recollect(item_removed=True, labels=["该事项已在新目录中取消或调整"])
    old_item = _find_item(old, impl_code, item_code) if old is not None else None
    recollect = Recollect()
    old_fields = _keyed((old_item or {}).get("form_fields"), "name", "key")
    for name, spec in _keyed(new_item.get("form_fields"), "name", "key").items():
        if old_item is None or old_fields.get(name) != spec:
            recollect.fields.append(name)
            recollect.labels.append(f"表单项「{spec.get('label') or name}」")
    old_materials = _keyed((old_item or {}).get("materials"), "key", "name")
    for key, spec in _keyed(new_item.get("materials"), "key", "name").items():
        if old_item is None or old_materials.get(key) != spec:
            recollect.materials.append(key)
            recollect.labels.append(f"材料「{spec.get('name') or key}」")
    return recollect


def _as_utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def check_grace(event: dict[str, Any], *, grace_days: int,
                now: dt.datetime | None = None) -> protocol.EventResult | None:
    """Return a ``catalog_stale`` rejection for a case taken under a superseded catalog, else None.

    The clock starts when the newer version was published. A case taken (``occurred_at``, never
    later than now) within ``grace_days`` of that is accepted: a village offline for a week must
    not lose its cases. Past the window the answer lists what to collect again — and if the item
    did not change at all, there is nothing to collect and the case is accepted.
    """
    latest = current()
    version = event.get("catalog_version")
    if latest is None or version == latest.version:
        return None
    theirs = _headers().where(CatalogVersion.version == version).first()
    if theirs is not None and theirs.id > latest.id:
        return None
    if theirs is None:
        superseded_at = latest.published_at
    else:
        successor = _headers().where(CatalogVersion.id > theirs.id).order_by(CatalogVersion.id).first()
        superseded_at = successor.published_at if successor else latest.published_at
    now = now or utcnow()
    taken_at = min(_as_utc_naive(protocol.parse_occurred_at(event["occurred_at"])), now)
    if taken_at <= superseded_at + dt.timedelta(days=grace_days):
        return None
    # past the window: only now are the two catalogs themselves read and compared
    payload = event.get("payload") or {}
    recollect = diff_item(CatalogVersion.get_by_id(theirs.id).body if theirs else None,
                          CatalogVersion.get_by_id(latest.id).body,
                          payload.get("impl_code"), payload.get("item_code"))
    if not recollect:
        return None
    reason = (f"事项目录已更新（{version} → {latest.version}），已超过 {grace_days} 天宽限期。"
              "以下内容需重新采集：" + "；".join(recollect.labels) + "。")
    return protocol.EventResult(
        event_id=event["event_id"], status=protocol.STATUS_REJECTED, reason=reason,
        code=protocol.CODE_CATALOG_STALE, retryable=False,
        extra={"recollect": {"fields": recollect.fields, "materials": recollect.materials,
                             "item_removed": recollect.item_removed,
                             "catalog_version": latest.version}},
    )
