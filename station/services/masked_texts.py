"""The free text on a case page — the form's fields, the county's reason and result, the materials'
notes, a 差评整改's records, why the county set the case's sync aside, the timeline — with every personal number masked, and the one door through
which one of those numbers is shown in full.

A form's field may hold a relative's ID number, a bank card or a phone; a staff note, a 补交 note,
the county's reason or a 回访 record may hold a phone. The page shows each such number masked, in
the HTML itself, and names it by a path ``<text>/<n>`` (``form_values/<field>/1``,
``status_reason/0``, ``materials/<key>/0``, ``remedy/<id>/contact/0/0``, ``sync_reason/0``, ``timeline/<entry id>/0``):
the n-th masked number of that text. :func:`reveal` gives back the number a path names, checked
against this case's own texts, so that nothing but a number the page shows masked can be read
through it. Finding and cutting the numbers is ``rules.privacy`` (the county's case page does the
same with its copy of the form). The resume flow (再次受理) reads ``Case.form_values`` itself: the
agent's own intake comes back in full.
"""

from __future__ import annotations

from typing import NamedTuple

from rules.privacy import number_at, numbered_pieces
from station.models import Case, CaseMaterial, Remedy, TimelineEntry
from station.services.errors import DomainError
from sync.outbox import case_sync_state

FORM = "form_values"
MATERIALS = "materials"
TIMELINE = "timeline"
REMEDY = "remedy"
SYNC_REASON = "sync_reason"
#: A 差评整改's texts as the county sends them (``remedy.updated``): key → what it is on the page.
REMEDY_TEXTS = {"fix_text": "整改结果", "resident_answer": "群众反馈", "closing_note": "办结说明"}
#: Refused: a path this case's page does not show (forged, stale, or a text with fewer numbers).
NOT_ON_PAGE = "不能显示该号码：本办件页面上没有这个号码，请刷新页面后重试。"
NO_REASON = "请选择显示完整号码的理由。"


class Text(NamedTuple):
    """One free text of the page: its title there, what it is in words for the log, the key that decides
    how it is masked (``rules.privacy.MASK_BY_KEY``), and its value."""

    title: str
    label: str
    key: str
    value: str


class PageTexts(NamedTuple):
    """What the case page shows of its free texts: the form's fields ``(path, label)`` in the order they
    were filled in, and every text cut into ``(text, path)`` pieces by its path (see :func:`on_page`)."""

    form_fields: list[tuple[str, str]]
    pieces: dict[str, list[tuple[str, str]]]


class Revealed(NamedTuple):
    """A full number shown on purpose, and what it is in words (for the access log: never the number)."""

    value: str
    label: str


def _texts(case: Case) -> dict[str, Text]:
    """Every free text the case page shows, by path, in page order."""
    found: dict[str, Text] = {}
    labels = {f.get("name"): f.get("label") or f.get("name") for f in case.item.form_fields or []}
    for key, value in (case.form_values or {}).items():
        if key in labels:  # the page shows a value only under its field's label
            found[f"{FORM}/{key}"] = Text(labels[key], f"表单“{labels[key]}”", key, "" if value is None else str(value))
    # a withdrawn case's status_reason holds the resident's own reason for withdrawing (services/withdrawal.py)
    reason_title = "撤回原因" if case.status == "withdrawn" else "县级说明"
    county = (("status_reason", reason_title, case.status_reason), ("result_text", "办结结果说明", case.result_text))
    for head, title, value in county:
        if value:  # the county's words: they may quote a resident's number
            found[head] = Text(title, title, "note", value)
    for m in CaseMaterial.select().where(CaseMaterial.case == case).order_by(CaseMaterial.position):
        if m.supplied_note:
            found[f"{MATERIALS}/{m.key}"] = Text(m.name, f"材料“{m.name}”的说明", "note", m.supplied_note)
    for r in Remedy.select().where(Remedy.case == case).order_by(Remedy.id):
        data = r.data if isinstance(r.data, dict) else {}
        head = f"{REMEDY}/{r.remedy_id}"
        contacts = data.get("contacts") if isinstance(data.get("contacts"), list) else []
        for i, contact in enumerate(contacts):
            said = contact.get("said") if isinstance(contact, dict) else None
            if isinstance(said, str) and said:
                found[f"{head}/contact/{i}"] = Text("回访", f"差评整改 {r.remedy_id} 第{i + 1}次回访记录", "said", said)
        for key, title in REMEDY_TEXTS.items():
            if isinstance(data.get(key), str) and data[key]:
                found[f"{head}/{key}"] = Text(title, f"差评整改 {r.remedy_id} 的{title}", key, data[key])
    reason = case_sync_state(case.id).get("reason")  # the reason the case page's sync state shows
    if reason:  # the county's words: they may echo the number it refused
        found[SYNC_REASON] = Text("同步状态", "同步退回原因", "note", reason)
    for e in TimelineEntry.select().where(TimelineEntry.case == case).order_by(TimelineEntry.id):
        found[f"{TIMELINE}/{e.id}"] = Text(e.actor, f"办理过程 {e.at:%Y-%m-%d %H:%M} 的记录", "message", e.message or "")
    return found


def on_page(case: Case) -> PageTexts:
    """The case page's free texts with their numbers masked: each masked number comes with the path that
    reveals it, the words around it with an empty path. Joined, a text's pieces are its masked text."""
    texts = _texts(case)
    return PageTexts(
        form_fields=[(head, text.title) for head, text in texts.items() if head.startswith(f"{FORM}/")],
        pieces={head: numbered_pieces(text.key, text.value, head) for head, text in texts.items()},
    )


def reveal(case: Case, path: str, reason: str) -> Revealed:
    """The full number ``path`` names on this case's page, for someone who gave ``reason``.

    The view calls this and nothing else to show a number of the page's free text, and logs the
    access with the label (never the number). Raises :class:`DomainError` with a Chinese message
    for a path the page does not show or an empty reason; nothing is read then.
    """
    head, slash, index = (path or "").rpartition("/")
    text = _texts(case).get(head) if slash else None
    found = number_at(text.key, text.value, index) if text is not None else None
    if text is None or found is None:
        raise DomainError(NOT_ON_PAGE)
    if not (reason or "").strip():
        raise DomainError(NO_REASON)
    return Revealed(found[0], f"{text.label}中的{found[1]}")
