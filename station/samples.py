"""A complete, valid application as an agent would fill it: one builder for tests and benchmarks.

Like `printouts/samples.py` for paper: realistic input in one place, so the tests that check the
rules and the benchmarks that time them send the same kind of form.
"""

from __future__ import annotations

from station.models import ServiceItem
from station.services.catalog import merge_materials

SAMPLE_AREA = "141081102201"


def complete_form(items: list[ServiceItem], applicant_id: str, name: str = "赵秀英",
                  **overrides: str) -> dict[str, str]:
    """A 帮办 form for `items`: every material handed in, every item field answered."""
    data = {
        "mode": "assisted",
        "applicant_kind": "person",
        "applicant_cert_type": "111",
        "applicant_id_number": applicant_id,
        "applicant_name": name,
        "applicant_phone": "13912345678",
        "applicant_address": "示范县东关镇东关村三组12号",
        "applicant_area_code": SAMPLE_AREA,
        "pickup_method": "window",
    }
    for item in items:
        for spec in item.form_fields or []:
            key = f"field__{spec['name']}"
            if spec.get("type") == "select":
                data[key] = spec["options"][0]
            elif spec.get("type") == "date":
                data[key] = "2026-11-01"
            elif spec.get("type") == "number":
                data[key] = "3"
            else:
                data[key] = "按申请人口述填写"
    for m in merge_materials(items):
        data[f"mat__{m.key}__status"] = "provided"
    data.update(overrides)
    return data
