"""Residents' personal data at the hub: sealed at rest, masked on screen, revealed on purpose.

What is sealed (``websec.sealing``, the ring in the instance's key file):

* in a case snapshot, the applicant's and the proxy's ID number, phone and address: taken out of
  the person's entry and sealed together under its ``"sealed"`` key (one seal per person: the
  ingest path seals every snapshot it receives); the rest of the snapshot stays readable JSON,
  so lists and decisions need no key;
* every stored event body and conflict copy, whole (a JSON string ``"enc1:…"`` in the same JSON
  column). The duplicate check never reads it: it compares the digest of the *plain* canonical
  event, computed on arrival as before;
* station secrets (opened on use, cached per worker: the sealed value changes only with the secret).

Exact lookups by ID number go through a blind index (``HubCase.applicant_id_index`` and
``proxy_id_index``): an HMAC of the number under the ring's index key. A clerk sees masked
numbers; the full number is opened only by :func:`reveal`, which asks for a reason so that the
access log can record who looked at whose number and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from peewee import Expression

from rules import events
from rules.privacy import (
    MASK_BY_KEY,
    mask_licence_number,
    mask_name,
    mask_numbers_in,
    number_at,
    numbered_pieces,
    typed_number,
)
from sync.hub.extensions import key_ring
from sync.hub.models import Event, HubCase, Station
from sync.hub.services.errors import ValidationError
from sync.protocol import json_bytes

PEOPLE = ("applicant", "proxy")
SEALED_FIELDS = ("id_number", "phone", "address")
SEALED_KEY = "sealed"  # in a stored person's entry: the sealed JSON of their SEALED_FIELDS
#: What a clerk may reveal on a case page: name → (person, field), with the label shown.
REVEALABLE = {
    "applicant_id_number": ("applicant", "id_number", "申请人证件号码"),
    "applicant_phone": ("applicant", "phone", "申请人联系电话"),
    "proxy_id_number": ("proxy", "id_number", "代办人证件号码"),
}
#: The longest reason a clerk may give for seeing a full number; it is kept word for word in the access log.
REVEAL_REASON_MAX = 200
#: A number inside a form's field, as the reveal form names it: ``form_values/<field>/<n>``, the n-th
#: masked number of that field (from 0), in the order the case page shows them.
FORM_NUMBER = "form_values/"
#: A number inside a station's note on the case (备注): ``notes/<seq>/<n>``, ``seq`` the note event's.
NOTE_NUMBER = "notes/"
HIDDEN_ADDRESS = "（已隐藏）"
#: Parts of a case snapshot beyond its people that hold a resident's numbers, addresses or words: a form's
#: fields (邮寄地址, 配偶身份证号 …), the postal handover (her address), a 补正 answer's notes, an unkept
#: promise's note, a paper handover's note. Each is stored sealed whole: a string ``enc1:…`` in its place.
SEALED_PARTS = ("form_values", "delivery", "supplements", "unkept", "custody", "withdrawal")
#: A material row's licence number and licence record (a 残疾人证's number is its holder's ID number and
#: two digits): taken out of the row and sealed under its ``"sealed"`` key, the rest of the row readable
#: (status, due date: what the county's queues and decisions read without the key).
SEALED_MATERIAL_KEYS = ("e_license_no", "licence")
_ID_LIKE = re.compile(r"^[0-9A-Za-z]{15,18}$")


# --- case snapshots ---------------------------------------------------------------------------
def seal_snapshot(payload: dict[str, Any]) -> dict[str, Any]:
    """The snapshot to store: a copy with each person's numbers and address, each of :data:`SEALED_PARTS` and
    the materials' licence numbers sealed (plain input; a part sealed already is left as it is)."""
    ring = key_ring.obj  # once, not through the proxy per value: this runs for every snapshot received
    snapshot = dict(payload)
    for person in PEOPLE:
        fields = snapshot.get(person)
        if isinstance(fields, dict) and any(name in fields for name in SEALED_FIELDS):
            snapshot[person] = _sealed_apart(ring, fields, SEALED_FIELDS)
    for part in SEALED_PARTS:
        if part in snapshot:
            snapshot[part] = seal_part(snapshot[part])
    if isinstance(snapshot.get("materials"), list):
        snapshot["materials"] = seal_materials(snapshot["materials"])
    return snapshot


def seal_part(value: Any) -> Any:
    """One of :data:`SEALED_PARTS` as stored: sealed whole; empty, or sealed already, as it is."""
    if not value or isinstance(value, str):
        return value
    return key_ring.obj.seal(json_bytes(value))


def open_part(stored: Any) -> Any:
    """One of :data:`SEALED_PARTS` as the station sent it (a value stored before sealing, as it is)."""
    if isinstance(stored, str) and key_ring.is_sealed(stored):
        return json.loads(key_ring.unseal(stored))
    return stored


def seal_materials(rows: list[Any]) -> list[Any]:
    """Material rows as stored: each row's licence number and record sealed under its ``"sealed"`` key."""
    ring = key_ring.obj
    return [_sealed_apart(ring, row, SEALED_MATERIAL_KEYS)
            if isinstance(row, dict) and any(row.get(name) for name in SEALED_MATERIAL_KEYS) else row
            for row in rows]


def _sealed_apart(ring: Any, fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` with those of ``names`` it holds taken out and sealed together under its ``"sealed"`` key
    (a person's numbers and address, a material's licence): the rest stays readable without the key."""
    kept = {name: value for name, value in fields.items() if name not in names}
    kept[SEALED_KEY] = ring.seal(json_bytes({name: fields[name] for name in names if name in fields}))
    return kept


def _opened_apart(fields: Any) -> Any:
    """What :func:`_sealed_apart` stored, whole again; anything else (stored before sealing) as it is."""
    if not (isinstance(fields, dict) and isinstance(fields.get(SEALED_KEY), str)):
        return fields
    plain = {name: value for name, value in fields.items() if name != SEALED_KEY}
    plain.update(json.loads(key_ring.unseal(fields[SEALED_KEY])))
    return plain


def open_snapshot(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot as the station sent it (each person's sealed fields, each sealed part and each material's
    licence number opened and put back)."""
    opened = dict(snapshot or {})
    for person in PEOPLE:
        if person in opened:
            opened[person] = _opened_apart(opened[person])
    for part in SEALED_PARTS:
        if isinstance(opened.get(part), str):
            opened[part] = open_part(opened[part])
    if isinstance(opened.get("materials"), list):
        opened["materials"] = [_opened_apart(row) for row in opened["materials"]]
    return opened


def snapshot_needs_sealing(snapshot: dict[str, Any] | None) -> bool:
    """Whether a stored snapshot holds anything plain that :func:`seal_snapshot` seals, or a seal under an older key."""
    snapshot = snapshot or {}
    ring = key_ring.obj
    for person in PEOPLE:
        fields = snapshot.get(person)
        if isinstance(fields, dict) and (any(name in fields for name in SEALED_FIELDS)
                                         or ring.needs_resealing(fields.get(SEALED_KEY))):
            return True
    for part in SEALED_PARTS:
        value = snapshot.get(part)
        if value and (not isinstance(value, str) or ring.needs_resealing(value)):
            return True
    for row in snapshot.get("materials") or []:
        if isinstance(row, dict) and (any(row.get(name) for name in SEALED_MATERIAL_KEYS)
                                      or ring.needs_resealing(row.get(SEALED_KEY))):
            return True
    return False


#: Keys whose meaning depends on the object holding them: (holder, key) → rule.
_MASK_BY_HOLDER: dict[tuple[str, str], Callable[[str], str]] = {
    ("licence", "number"): mask_licence_number,  # a 残疾人证 number is the holder's ID number and two digits
    ("resident", "name"): mask_name,  # as the county's home-visit pages show the resident
}


def _rule(holder: str, key: str) -> Callable[[str], str] | None:
    """How the value under ``key`` of the object ``holder`` is masked as a whole (None: as free text)."""
    return _MASK_BY_HOLDER.get((holder, key)) or MASK_BY_KEY.get(key)


def _masked(value: Any, holder: str = "", *, hide_address: bool = True) -> Any:
    """``value`` with every personal number masked: by its key where the key says what it is, and in
    any other text (a note, a form's field, a visit's outcome) every ID-like and phone-like number.

    No key is trusted to be harmless (a form's field may be called ``spouse_id``); ids (ULIDs), digests,
    dates, area codes and case numbers are left whole by ``mask_numbers_in`` itself.
    """
    if isinstance(value, dict):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            rule = _rule(holder, key)
            if key == "address" and hide_address and item:
                masked[key] = HIDDEN_ADDRESS
            elif rule is not None and isinstance(item, str):
                masked[key] = rule(item)
            else:
                masked[key] = _masked(item, key, hide_address=hide_address)
        return masked
    if isinstance(value, list):
        return [_masked(item, holder, hide_address=hide_address) for item in value]
    if isinstance(value, str):
        return mask_numbers_in(value)
    return value


def masked_snapshot(snapshot: dict[str, Any] | None, *, show_address: bool = True) -> dict[str, Any]:
    """The snapshot for a page: every number masked (a form's fields too); addresses opened (case page)
    or hidden (lists)."""
    shown: dict[str, Any] = _masked(open_snapshot(snapshot), hide_address=not show_address)
    for person in PEOPLE:  # a number the station did not send reads as empty, as the pages expect
        fields = shown.get(person)
        if isinstance(fields, dict):
            fields.setdefault("id_number", "")
            fields.setdefault("phone", "")
    return shown


def form_numbers(snapshot: dict[str, Any] | None) -> dict[str, list[tuple[str, str]]]:
    """Each text field of a case's form cut into pieces for the case page: ``(text, path)``, where
    ``path`` names a masked number the clerk may reveal (:data:`FORM_NUMBER`) and is empty for the
    text around it. Joined, the texts read as :func:`masked_snapshot` shows the field (the cutting is
    ``rules.privacy.numbered_pieces``, shared with the station's case page)."""
    form = open_snapshot(snapshot).get("form_values")
    return {key: numbered_pieces(key, value, f"{FORM_NUMBER}{key}")
            for key, value in (form.items() if isinstance(form, dict) else ()) if isinstance(value, str)}


def note_pieces(seq: int, text: str) -> list[tuple[str, str]]:
    """A station note cut for the case page as a form field is (:func:`form_numbers`): each masked
    number with the path that reveals it (:data:`NOTE_NUMBER`), the text around it as it is."""
    return numbered_pieces("", text, f"{NOTE_NUMBER}{seq}")


def id_indexes(payload: dict[str, Any]) -> dict[str, str | None]:
    """The blind-index columns of a case for this snapshot as received (applicant's and proxy's ID numbers)."""
    ring = key_ring.obj
    found: dict[str, str | None] = {}
    for person in PEOPLE:
        fields = payload.get(person)
        number = fields.get("id_number") if isinstance(fields, dict) else None
        found[f"{person}_id_index"] = ring.blind_index(number) if isinstance(number, str) and number else None
    return found


# --- the county's changes to a station ------------------------------------------------------------
#: In a ``case.status`` change: the certificate number of a granted result (a 残疾人证's holds the ID number).
SEALED_CHANGE_KEY = "certificate_no"


def seal_change(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``case.status`` change as stored: its certificate number sealed (served opened: ``open_change``)."""
    number = payload.get(SEALED_CHANGE_KEY)
    if not isinstance(number, str) or not number or key_ring.is_sealed(number):
        return payload
    return {**payload, SEALED_CHANGE_KEY: key_ring.obj.seal(number)}


def open_change(payload: dict[str, Any] | None) -> dict[str, Any]:
    """A stored ``case.status`` change as the station receives it (one stored before sealing, as it is)."""
    payload = payload or {}
    number = payload.get(SEALED_CHANGE_KEY)
    if isinstance(number, str) and key_ring.is_sealed(number):
        return {**payload, SEALED_CHANGE_KEY: key_ring.obj.unseal(number)}
    return payload


# --- event bodies and conflict copies ----------------------------------------------------------
def seal_body(event: Any) -> str:
    """The stored copy of an event: its JSON sealed whole (the digest is taken of the plain event)."""
    return key_ring.obj.seal(json_bytes(event))


def open_body(stored: Any) -> Any:
    """A stored event body as received; a body stored before sealing existed is returned as it is."""
    if isinstance(stored, str) and key_ring.is_sealed(stored):
        return json.loads(key_ring.unseal(stored))
    return stored


def masked_body(stored: Any) -> Any:
    """A stored event for a page (the conflicts page shows both copies whole): opened, with every
    personal number in its payload masked and addresses hidden, whatever the kind of event."""
    body = open_body(stored)
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        body = dict(body, payload=_masked(body["payload"]))
    return body


# --- station secrets ----------------------------------------------------------------------------
_SECRETS: dict[str, str] = {}  # sealed → plain, per worker: every signed request needs it twice
_SECRETS_MAX = 4096


def seal_secret(secret: str) -> str:
    """A station secret as stored."""
    return key_ring.seal(secret)


def station_secret(station: Station) -> str:
    """The plain secret of a station for HMAC, opened once per worker (and per new secret)."""
    stored = station.secret
    plain = _SECRETS.get(stored)
    if plain is None:
        plain = key_ring.unseal(stored)
        if len(_SECRETS) >= _SECRETS_MAX:
            _SECRETS.clear()
        _SECRETS[stored] = plain
    return plain


# --- search and reveal ----------------------------------------------------------------------------
def looks_like_id_number(text: str) -> bool:
    """A resident ID (15 or 18 characters, digits and a final X) or a similar certificate number."""
    return bool(_ID_LIKE.match(text)) and any(ch.isdigit() for ch in text)


def number_condition(text: str) -> Expression:
    """Cases whose query code, case number or platform number is ``text`` (exact)."""
    return (HubCase.query_code.in_(sorted({text, text.upper()})) | (HubCase.case_no == text)
            | (HubCase.hub_case_no == text))


def search_condition(text: str) -> Expression:
    """Cases matching a typed query code, case number, platform number or ID number — exact, never LIKE.

    An ID number is matched by its blind index under every key of the ring, so a search still
    finds cases during a key rotation.
    """
    text = typed_number(text)  # an ID number typed full-width (１１０１…) is that number
    condition = number_condition(text)
    if looks_like_id_number(text):
        tokens = key_ring.blind_indexes(text)
        condition |= HubCase.applicant_id_index.in_(tokens) | HubCase.proxy_id_index.in_(tokens)
    return condition


class Revealed(NamedTuple):
    """A full number shown on purpose, and what it is in words (for the access log: never the number)."""

    value: str
    label: str


def reveal(case: HubCase, field: str, reason: str, user: Any) -> Revealed:
    """The full value of one personal number of a case, for a clerk who gave a reason.

    ``field`` is a name of :data:`REVEALABLE` (the applicant's and the proxy's numbers) or the path
    of one masked number in the form's fields (:data:`FORM_NUMBER`), checked against this case's
    snapshot so that nothing but a number the page shows masked can be read through it.
    The view calls this and nothing else to show a full number, so the access log can hook in
    here (``user`` and ``reason`` are what it records). Raises :class:`ValidationError` with a
    Chinese message for an empty or too long reason (the form's limit is only the browser's) or an
    unknown field.
    """
    snapshot = open_snapshot(case.snapshot)
    found = (_form_number(snapshot, field) if field.startswith(FORM_NUMBER)
             else _note_number(case, field) if field.startswith(NOTE_NUMBER) else None)
    if found is None and field not in REVEALABLE:
        raise ValidationError("不能显示该项信息。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写查看完整号码的原因。")
    if len(reason) > REVEAL_REASON_MAX:
        raise ValidationError(f"查看原因最多 {REVEAL_REASON_MAX} 个字（现在 {len(reason)} 个），请精简后再提交。")
    if found is not None:
        return found
    person, name, label = REVEALABLE[field]
    fields = snapshot.get(person)
    value = fields.get(name) if isinstance(fields, dict) else None
    return Revealed(value if isinstance(value, str) else "", label)


def _note_number(case: HubCase, path: str) -> Revealed | None:
    """The number a :data:`NOTE_NUMBER` path names among this case's station notes, or None."""
    seq, slash, index = path[len(NOTE_NUMBER):].partition("/")
    if not slash or not (seq.isascii() and seq.isdigit()) or len(seq) > 9 or seq != str(int(seq)):
        return None
    event = Event.get_or_none((Event.case_id == case.case_id) & (Event.kind == events.NOTE) & (Event.seq == int(seq)))
    body = open_body(event.body) if event is not None else None
    payload = body.get("payload") if isinstance(body, dict) else None
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        return None
    found = number_at("", text, index)
    return Revealed(found[0], f"服务站备注（第{seq}条事件）中的{found[1]}") if found is not None else None


def _form_number(snapshot: dict[str, Any], path: str) -> Revealed | None:
    """The number a :data:`FORM_NUMBER` path names in this snapshot's form, or None if it names none."""
    key, slash, index = path[len(FORM_NUMBER):].rpartition("/")
    form = snapshot.get("form_values")
    if not slash or not isinstance(form, dict) or key not in form:
        return None
    found = number_at(key, form[key], index)
    if found is None:
        return None
    labels = snapshot.get("form_labels")
    name = labels.get(key) if isinstance(labels, dict) else None
    title = (name if isinstance(name, str) and name else key)[:50]
    return Revealed(found[0], f"表单“{title}”中的{found[1]}")
