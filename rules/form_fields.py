"""An item's applicant form fields (表单字段): which answers are needed, given the other answers.

A field is required always (``"required": true``), never, or only when another field of the same
item holds one of some values (``"required_when": {"field": "delivery_method", "in": ["免费邮寄"]}``):
a card posted to no address is the defect this answers. Single items, bundles (一件事) and a
second visit (再次受理) all check a form here, so the rule cannot differ between the three paths;
the catalog's own shape is checked in ``rules.catalog_format``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.periods import bad_date_message, is_date

REQUIRED_WHEN = "required_when"
MAX_ANSWER = 500

Spec = Mapping[str, Any]


def condition_of(spec: Spec) -> tuple[str, tuple[str, ...]] | None:
    """The other field and the values of it that make ``spec`` required, or None for a plain field.

    A malformed condition reads as none: the catalog check refuses it before it is stored, so
    only a hand-edited database could hold one, and then the field simply stays optional.
    """
    rule = spec.get(REQUIRED_WHEN)
    if not isinstance(rule, Mapping):
        return None
    other, values = rule.get("field"), rule.get("in")
    if not isinstance(other, str) or not isinstance(values, list) or not values:
        return None
    return other, tuple(str(v) for v in values)


def required_mark(spec: Spec, siblings: Mapping[str, Spec]) -> str:
    """The words beside a conditional field's label, e.g. （领卡方式选“免费邮寄”时必填）; "" otherwise.

    ``siblings`` are the fields of the same item by name: the condition names one of them.
    """
    condition = condition_of(spec)
    if condition is None or spec.get("required"):
        return ""
    other, values = condition
    verb = "选" if (siblings.get(other) or {}).get("type") == "select" else "填"
    return f"（{_label(siblings, other)}{verb}“{'”或“'.join(values)}”时必填）"


@dataclass(frozen=True)
class ConditionalMark:
    """What the intake page shows and what its script watches for one conditional field."""

    text: str  # （领卡方式选“免费邮寄”时必填）
    other: str  # the field whose answer decides
    values: tuple[str, ...]


def required_marks(field_lists: Iterable[Sequence[Spec]]) -> dict[str, ConditionalMark]:
    """For the intake page: each conditional field's mark, by field name (the first item naming it wins)."""
    marks: dict[str, ConditionalMark] = {}
    for fields in field_lists:
        siblings = _by_name(fields)
        for spec in fields:
            text, condition = required_mark(spec, siblings), condition_of(spec)
            if text and condition:
                marks.setdefault(spec["name"], ConditionalMark(text, *condition))
    return marks


def _by_name(fields: Sequence[Spec]) -> dict[str, Spec]:
    return {spec["name"]: spec for spec in fields}


def _label(siblings: Mapping[str, Spec], name: str) -> str:
    return (siblings.get(name) or {}).get("label") or name


def check_answers(field_lists: Sequence[Sequence[Spec]], answers: Mapping[str, str],
                  today: dt.date) -> tuple[dict[str, str], dict[str, str]]:
    """Check a form's answers against the fields of every item on it; return (answers kept, errors).

    ``answers`` and both results are keyed by field name, answers already stripped. A bundle
    shows a field two items share once: its type and choices come from the first item naming it,
    and it is required when ANY item requires it — always, or by that item's condition on the
    answers given — so no item of the bundle is saved with a field it needs left empty.
    """
    errors: dict[str, str] = {}
    for fields in field_lists:
        siblings = _by_name(fields)
        for spec in fields:
            name = spec["name"]
            if name in errors or answers.get(name):
                continue
            if spec.get("required"):
                errors[name] = f"请填写“{_label(siblings, name)}”。"
                continue
            condition = condition_of(spec)
            chosen = answers.get(condition[0], "") if condition else ""
            if condition and chosen in condition[1]:
                errors[name] = (f"“{_label(siblings, condition[0])}”选择“{chosen}”时须填写“{_label(siblings, name)}”。")
    kept: dict[str, str] = {}
    first: dict[str, Spec] = {}
    for fields in field_lists:
        for spec in fields:
            first.setdefault(spec["name"], spec)
    for name, spec in first.items():
        value = answers.get(name, "")
        problem = errors.get(name) or _shape_problem(spec, value, today)
        if problem:
            errors[name] = problem
        elif value:
            kept[name] = value
    return kept, errors


def _shape_problem(spec: Spec, value: str, today: dt.date) -> str:
    """What is wrong with a typed answer for its field's type, or "" (an empty answer is never wrong here);
    a date's refusal gives ``today`` as the example (rules.periods.bad_date_message)."""
    label = spec.get("label") or spec["name"]
    kind = spec.get("type")
    if not value:
        return ""
    if kind == "select" and value not in (spec.get("options") or []):
        return f"“{label}”请从列表中选择。"
    if kind == "number" and not _is_number(value):
        return f"“{label}”须为数字。"
    if kind == "date" and not is_date(value):
        return bad_date_message(f"“{label}”", today)
    if len(value) > MAX_ANSWER:
        return f"“{label}”最多{MAX_ANSWER}个字。"
    return ""


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
