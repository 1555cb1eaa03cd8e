"""Finding the right service item: search by Chinese text or pinyin, item and bundle pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from station.services import catalog
from station.services.errors import DomainError
from station.services.scanned import from_scan
from station.views.access import FRONT_OFFICE
from websec.roles import roles_required

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.get("/")
@roles_required(*FRONT_OFFICE)
def search():  # noqa: ANN201
    _code, scanned = from_scan(request.args.get("q", "")[:300])
    if scanned:  # a receipt's QR scanned into the item search: the agent wants that case
        return redirect(url_for("cases.index", q=request.args.get("q", "")[:300]))
    query = (request.args.get("q") or "").strip()[:50]
    error = None
    hits = []
    bundles = []
    try:
        hits = catalog.search(query, limit=30) if query else []
        bundles = catalog.current_bundles() if not query else []
        version = catalog.current_catalog()
    except DomainError as exc:
        error, version = exc.message, None
    return render_template("catalog/search.html", query=query, hits=hits, bundles=bundles, error=error,
                           version=version)


@bp.get("/search.json")
@roles_required(*FRONT_OFFICE)
def search_json():  # noqa: ANN201
    query = (request.args.get("q") or "").strip()[:50]
    try:
        hits = catalog.search(query, limit=12) if query else []
    except DomainError as exc:
        return jsonify({"results": [], "message": exc.message})
    results = []
    for hit in hits:
        if hit.kind == "item":
            results.append({"kind": "item", "name": hit.item.name, "department": hit.item.department,
                            "kind_name": hit.item.kind_name, "url": url_for("intake.item_form", item_id=hit.item.id)})
        else:
            results.append({"kind": "bundle", "name": hit.bundle.name, "department": "一件事一次办",
                            "kind_name": "一件事", "url": url_for("intake.bundle_form", code=hit.bundle.code)})
    return jsonify({"results": results})


@bp.get("/items/<int(max=2147483647):item_id>")
@roles_required(*FRONT_OFFICE)
def item(item_id: int):  # noqa: ANN201
    entry = catalog.get_item(item_id)
    return render_template("catalog/item.html", item=entry, materials=catalog.materials_of(entry),
                           can_accept=catalog.station_can_accept(entry))
