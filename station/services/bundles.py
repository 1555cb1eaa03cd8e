"""一件事一次办 as one thing at the station (issue 19 item 6).

A bundle's items are separate cases for the county (each keeps its own case number), but the
resident sees one thing: one query code (the first item's, printed on every paper of the bundle),
one combined receipt and one state, the least advanced of its cases (rules.bundles).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.bundles import least_advanced
from rules.labels import CASE_STATUSES
from station.models import Bundle, Case, CatalogVersion, ServiceItem


@dataclass(frozen=True)
class BundleView:
    """A bundle as the case page, the paper and the public page show it."""

    code: str
    name: str
    group: str
    query_code: str
    cases: list[Case]  # in the order the items were taken (by case number)

    @property
    def state(self) -> str:
        return least_advanced(c.status for c in self.cases)

    @property
    def state_name(self) -> str:
        return CASE_STATUSES.get(self.state, self.state)


def members(case: Case) -> list[Case]:
    """The cases taken with ``case`` in one submit, itself included, in the order they were taken."""
    if not case.bundle_group:
        return [case]
    return list(Case.select(Case, ServiceItem).join(ServiceItem)
                .where(Case.bundle_group == case.bundle_group).order_by(Case.case_no))


def bundle_name(code: str, catalog_version: str) -> str:
    """The bundle's name in the catalog version it was taken under (its code if that is gone)."""
    row = (Bundle.select(Bundle.name).join(CatalogVersion)
           .where((Bundle.code == code) & (CatalogVersion.version == catalog_version)).first())
    return row.name if row is not None else code


def bundle_of(case: Case) -> BundleView | None:
    """The bundle ``case`` belongs to, or None for a case taken on its own."""
    if not case.bundle_group:
        return None
    cases = members(case)
    name = bundle_name(case.bundle_code, case.catalog_version) if case.bundle_code else "多事项联办"
    return BundleView(code=case.bundle_code, name=name, group=case.bundle_group, query_code=cases[0].query_code,
                      cases=cases)


def query_code_of(case: Case) -> str:
    """The code the resident holds for this case: her bundle's one code, or the case's own."""
    if not case.bundle_group:
        return case.query_code
    lead = (Case.select(Case.query_code).where(Case.bundle_group == case.bundle_group)
            .order_by(Case.case_no).first())
    return lead.query_code if lead is not None else case.query_code


def membership(case: Case) -> dict[str, Any] | None:
    """``bundle`` of the case's ``case.submitted`` body (rules.events.BUNDLE_KEYS), None outside a bundle."""
    view = bundle_of(case)
    if view is None or len(view.cases) < 2:
        return None
    ids = [c.id for c in view.cases]
    return {"code": view.code or "multi", "name": view.name, "group": view.group, "query_code": view.query_code,
            "position": ids.index(case.id) + 1, "size": len(ids)}
