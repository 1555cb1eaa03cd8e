"""The county's case search: exact numbers (query code, case number, ID number by its blind
index), applicant name, item, station, state and deadline line; 一件事 items kept together.

The 超期 filter lists this county's own overdue cases, as the dashboard counts them: a 跨域办 case
another county decides is 待办理地处理 (``decisions.elsewhere_condition``), counted apart
(:func:`search` with ``elsewhere``) and labelled so in the list, as the 四条线 warnings show it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import ModelSelect

from rules import events
from rules.labels import HUB_CASE_STATUSES
from rules.privacy import typed_number
from rules.time_lines import LINES
from sync.hub.extensions import key_ring
from sync.hub.models import Event, HubCase, Station
from sync.hub.services import decisions, personal, stations
from sync.hub.services.errors import ValidationError
from sync.hub.services.statistics import overdue_condition


@dataclass(frozen=True)
class CaseSearch:
    q: str = ""  # query code, case number, platform number or ID number: exact
    name: str = ""  # applicant's name: from its first character
    item_code: str = ""
    station_code: str = ""
    status: str = ""
    line: str = ""  # statutory / committed / assessed: open cases past that line
    id_index: str = ""  # an ID number's blind index: how the list's address names a number searched for


#: The filters of the case list's form, as its address carries them.
FILTERS = ("q", "name", "item", "station", "status", "line")
_BLIND_INDEX = re.compile(r"^[0-9a-f]{64}$")


def address_args(form: Mapping[str, str]) -> dict[str, str]:
    """The case list's filters for its address: an ID number typed into 查找 goes as its blind index (``id``),
    so that neither the browser's history nor a proxy's log holds it. A typed value that reads like an ID
    number but is a case's number (its case number, platform number or query code) stays as typed."""
    args = {key: form.get(key, "").strip()[:64] for key in FILTERS}
    q = typed_number(args["q"])  # typed full-width too: an ID number never goes into the address
    if personal.looks_like_id_number(q) and not HubCase.select().where(personal.number_condition(q)).exists():
        args.pop("q")
        args["id"] = key_ring.blind_index(q)
    return {key: value for key, value in args.items() if value}


def id_index_arg(value: str) -> str:
    """An ``id`` argument of the case list if it is a blind index, else ""."""
    return value if _BLIND_INDEX.match(value or "") else ""


def search(f: CaseSearch, today: dt.date, *, elsewhere: bool = False) -> ModelSelect:
    """The matching cases (unordered); a bad choice is refused in Chinese.

    With a 超期 line, this county's own overdue cases; with ``elsewhere`` too, only the 跨域办 cases
    past that line that another county decides (待办理地处理) — never both in one list."""
    if f.status and f.status not in HUB_CASE_STATUSES:
        raise ValidationError("请从列表中选择状态。")
    if f.line and f.line not in LINES:
        raise ValidationError("请选择法定、承诺或考核时限。")
    query = HubCase.select(HubCase, Station).join(Station)
    if f.q:
        query = query.where(personal.search_condition(f.q))
    if f.id_index:
        query = query.where((HubCase.applicant_id_index == f.id_index) | (HubCase.proxy_id_index == f.id_index))
    if f.name:
        query = query.where(HubCase.applicant_name.startswith(f.name))
    if f.item_code:
        query = query.where(HubCase.item_code == f.item_code)
    station = stations.chosen(f.station_code)
    if station is not None:
        query = query.where(HubCase.station == station)
    if f.status:
        query = query.where(HubCase.status == f.status)
    if f.line:  # 补正: its clock stopped; 跨域办 decided elsewhere: not this county's overdue case
        apart = decisions.elsewhere_condition()
        query = query.where(overdue_condition(f.line, today) & (apart if elsewhere else ~apart))
    return query


def decided_elsewhere_ids(rows: list[HubCase]) -> set[int]:
    """Which of a page's cases another county decides (跨域办, labelled 待办理地处理 in the list): one query."""
    ids = [case.id for case in rows if case.handling_area]
    if not ids:
        return set()
    return {case_id for (case_id,) in HubCase.select(HubCase.id).join(Station)
            .where(HubCase.id.in_(ids) & decisions.elsewhere_condition()).tuples()}


def group_bundles(rows: list[HubCase]) -> list[HubCase]:
    """The page's rows with the items of one 一件事 next to each other, where the first of them stood."""
    order: dict[str, int] = {}
    for n, case in enumerate(rows):
        key = case.bundle_group or f"#{case.id}"
        order.setdefault(key, n)
    return sorted(rows, key=lambda c: (order[c.bundle_group or f"#{c.id}"], c.id))


def item_choices() -> list[tuple[str, str]]:
    """(item code, name) of the items the county has cases for."""
    return [(code, name) for code, name in HubCase.select(HubCase.item_code, HubCase.item_name)
            .where(HubCase.item_code.is_null(False)).distinct().order_by(HubCase.item_name).tuples()]


def station_notes(case_id: str) -> list[dict[str, Any]]:
    """The station's notes on a case, in order (their bodies are stored sealed): ``pieces`` cut each for
    the case page, every number in it masked and revealable on its own (:func:`personal.note_pieces`)."""
    notes = []
    for event in Event.select().where((Event.case_id == case_id) & (Event.kind == events.NOTE)).order_by(Event.seq):
        body = personal.open_body(event.body)
        payload = body.get("payload") if isinstance(body, dict) else None
        if isinstance(payload, dict):
            text = str(payload.get("text") or "")
            notes.append({"at": event.occurred_at, "by": str(payload.get("by") or ""),
                          "pieces": personal.note_pieces(event.seq, text)})
    return notes
