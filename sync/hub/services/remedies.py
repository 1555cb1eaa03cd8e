"""差评整改 at the county: every 差评 gets an owner, a call-back within a working day, a fix within
15 (hub settings ``REMEDY_CALLBACK_WORKING_DAYS`` / ``REMEDY_FIX_WORKING_DAYS``), each contact
with the resident, the fix, the resident's answer, and a closing note.

Every step goes down the changes feed to the station whose service was rated, so it sees what
the county does about it. After the fix the resident may rate once more (追评,
services/evaluations.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rules.evaluations import LEVELS
from sync import protocol
from sync.hub.china_time import CHINA_TZ, to_china
from sync.hub.extensions import db
from sync.hub.models import HubEvaluation, HubUser, Remedy, RemedyContact, Station, utcnow
from sync.hub.services import changes, users
from sync.hub.services.errors import InvalidTransition, NotFound, ValidationError
from sync.hub.services.workdays import china_today, due_after, provisional_warning

#: How the county reached the resident (回访方式).
CONTACT_METHODS = {"phone": "电话", "visit": "上门", "in_person": "当面", "sms": "短信"}
#: Remedy.status.
STATUSES = {"open": "整改中", "fixed": "已整改待办结", "closed": "已办结"}
_TEXT_MAX = 500


def open_for(evaluation: HubEvaluation, *, callback_days: int, fix_days: int) -> Remedy | None:
    """Open the 整改 of a 差评 (inside the caller's transaction) and tell the station."""
    opened = china_today()
    (Remedy.insert(evaluation_id=evaluation.evaluation_id, station=evaluation.station_id,
                   case_id=evaluation.case_id, opened_at=utcnow(),
                   callback_due=due_after(opened, callback_days).due, fix_due=due_after(opened, fix_days).due)
     .on_conflict_ignore().execute())
    remedy = Remedy.get_or_none(Remedy.evaluation_id == evaluation.evaluation_id)
    if remedy is not None:
        _tell_station(remedy)
    return remedy


def get(remedy_id: int) -> Remedy:
    """One 整改, or NotFound."""
    remedy = Remedy.get_or_none(Remedy.id == remedy_id)
    if remedy is None:
        raise NotFound("没有这条整改记录。")
    return remedy


def evaluation_of(remedy: Remedy) -> HubEvaluation:
    return HubEvaluation.get(HubEvaluation.evaluation_id == remedy.evaluation_id)


def contacts(remedy: Remedy) -> list[RemedyContact]:
    return list(RemedyContact.select().where(RemedyContact.remedy == remedy).order_by(RemedyContact.at,
                                                                                      RemedyContact.id))


def overdue(remedy: Remedy, today: dt.date | None = None) -> list[str]:
    """Which deadlines have passed undone: ``callback`` (no contact yet), ``fix`` (no fix yet)."""
    today = today or china_today()
    late = []
    if remedy.status == "closed":
        return late
    if remedy.first_contact_at is None and today > remedy.callback_due:
        late.append("callback")
    if remedy.fixed_at is None and today > remedy.fix_due:
        late.append("fix")
    return late


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"请填写{what}。")
    if len(text) > _TEXT_MAX:
        raise ValidationError(f"{what}最多{_TEXT_MAX}字。")
    return text


def _open(remedy_id: int) -> Remedy:
    remedy = get(remedy_id)
    if remedy.status == "closed":
        raise InvalidTransition("该整改已办结，不能再修改。")
    return remedy


def assign(remedy_id: int, owner: str, *, by: str) -> Remedy:
    """Name the county user who answers for the 整改."""
    remedy = _open(remedy_id)
    owner = (owner or "").strip()
    if not owner or not HubUser.select().where((HubUser.username == owner) & HubUser.active).exists():
        raise ValidationError("请选择整改责任人。")  # one of the county's users in post; the station is told the name
    with db.atomic():
        remedy.owner = owner
        remedy.updated_at = utcnow()
        remedy.save()
        _tell_station(remedy)
    return remedy


def parse_china_time(text: str) -> dt.datetime | None:
    """A time typed on the form (China time, ``2026-12-01T09:30``) as naive UTC; empty: None (now).

    Raises ValidationError for text that is not a time, or a time in the future.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        local = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError("回访时间格式不正确（如 2026-12-01 09:30）。") from exc
    if local.tzinfo is None:
        local = local.replace(tzinfo=CHINA_TZ)
    at = local.astimezone(dt.UTC).replace(tzinfo=None)
    if at > utcnow() + dt.timedelta(minutes=5):
        raise ValidationError("回访时间不能晚于现在。")
    return at


def add_contact(remedy_id: int, method: str, said: str, *, by: str, at: dt.datetime | None = None) -> RemedyContact:
    """Record one contact with the resident (回访): the first one meets the call-back deadline."""
    remedy = _open(remedy_id)
    if method not in CONTACT_METHODS:
        raise ValidationError("请选择联系方式（电话、上门、当面或短信）。")
    said = _text(said, "沟通内容")
    at = at or utcnow()
    if at < remedy.opened_at.replace(second=0, microsecond=0):
        raise ValidationError("回访时间不能早于差评提交的时间。")
    with db.atomic():
        contact = RemedyContact.create(remedy=remedy, at=at, method=method, said=said, by=by)
        if remedy.first_contact_at is None:
            remedy.first_contact_at = at
        remedy.updated_at = utcnow()
        remedy.save()
        _tell_station(remedy)
    return contact


def record_fix(remedy_id: int, fix_text: str, *, by: str) -> Remedy:
    """What was put right; from now the resident may rate once more (追评)."""
    remedy = _open(remedy_id)
    if remedy.first_contact_at is None:
        raise InvalidTransition("请先回访群众、记录沟通情况，再登记整改结果。")
    text = _text(fix_text, "整改措施和结果")
    with db.atomic():
        remedy.fix_text = text
        remedy.fixed_at = remedy.fixed_at or utcnow()
        remedy.status = "fixed"
        remedy.updated_at = utcnow()
        remedy.save()
        _tell_station(remedy)
    return remedy


def record_answer(remedy_id: int, answer: str, *, by: str) -> Remedy:
    """The resident's answer to the fix (群众反馈)."""
    remedy = _open(remedy_id)
    text = _text(answer, "群众对整改的反馈")
    with db.atomic():
        remedy.resident_answer = text
        remedy.updated_at = utcnow()
        remedy.save()
        _tell_station(remedy)
    return remedy


def close(remedy_id: int, note: str, *, by: str) -> Remedy:
    """Close the 整改: only after the fix and the resident's answer, and only with a closing note."""
    remedy = _open(remedy_id)
    if remedy.fixed_at is None:
        raise InvalidTransition("尚未登记整改结果，不能办结。")
    if not remedy.resident_answer:
        raise InvalidTransition("尚未记录群众对整改的反馈，不能办结。")
    text = _text(note, "办结说明")
    with db.atomic():
        updated = (Remedy.update(status="closed", closing_note=text, closed_at=utcnow(), closed_by=by,
                                 updated_at=utcnow())
                   .where((Remedy.id == remedy.id) & (Remedy.status != "closed")).execute())
        if updated != 1:
            raise InvalidTransition("该整改刚被其他人员办结。")
        remedy = Remedy.get_by_id(remedy.id)
        _tell_station(remedy)
    return remedy


def _stamp(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def payload(remedy: Remedy) -> dict[str, Any]:
    """The ``remedy.updated`` change: what the station shows about the 整改 of its service."""
    evaluation = evaluation_of(remedy)
    return {
        "remedy_id": remedy.id, "evaluation_id": remedy.evaluation_id, "status": remedy.status,
        "level": evaluation.level, "visit": evaluation.visit, "owner": remedy.owner,
        "owner_name": users.person_name(remedy.owner),  # the person the station's staff read as 责任人
        "callback_due": remedy.callback_due.isoformat(), "fix_due": remedy.fix_due.isoformat(),
        # why a date is only 暂定 ("" when firm): counted Monday–Friday through a year without holiday data
        "callback_due_warning": provisional_warning(to_china(remedy.opened_at), remedy.callback_due),
        "fix_due_warning": provisional_warning(to_china(remedy.opened_at), remedy.fix_due),
        "first_contact_at": _stamp(remedy.first_contact_at), "fixed_at": _stamp(remedy.fixed_at),
        "fix_text": remedy.fix_text, "resident_answer": remedy.resident_answer,
        "closing_note": remedy.closing_note, "closed_at": _stamp(remedy.closed_at),
        "contacts": [{"at": _stamp(c.at), "method": c.method, "said": c.said} for c in contacts(remedy)],
        "overdue": overdue(remedy),
    }


def _tell_station(remedy: Remedy) -> None:
    changes.emit(protocol.CHANGE_REMEDY, payload(remedy), station=Station.get_by_id(remedy.station_id),
                 case_id=remedy.case_id)


@dataclass
class StationRates:
    """Call-back and fix rates of one station's 整改 (回访率 / 整改率), on time."""

    station: Station
    total: int = 0
    callback_due: int = 0  # call-backs due by now or done
    callback_on_time: int = 0
    fix_due: int = 0
    fix_on_time: int = 0
    closed: int = 0
    overdue: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> str:
        return f"{part * 100 / whole:.0f}%" if whole else "—"

    @property
    def callback_rate(self) -> str:
        return self._rate(self.callback_on_time, self.callback_due)

    @property
    def fix_rate(self) -> str:
        return self._rate(self.fix_on_time, self.fix_due)


def _china_day(value: dt.datetime) -> dt.date:
    local = to_china(value)
    return local.date() if local else value.date()


def rates_by_station(today: dt.date | None = None) -> list[StationRates]:
    """Per station: of the call-backs (fixes) due by today or already done, how many were done on time."""
    today = today or china_today()
    by: dict[int, StationRates] = {}
    for remedy in Remedy.select(Remedy, Station).join(Station):
        row = by.setdefault(remedy.station_id, StationRates(remedy.station))
        row.total += 1
        row.closed += remedy.status == "closed"
        row.overdue += bool(overdue(remedy, today))
        if remedy.first_contact_at is not None or today > remedy.callback_due:
            row.callback_due += 1
            row.callback_on_time += (remedy.first_contact_at is not None
                                     and _china_day(remedy.first_contact_at) <= remedy.callback_due)
        if remedy.fixed_at is not None or today > remedy.fix_due:
            row.fix_due += 1
            row.fix_on_time += remedy.fixed_at is not None and _china_day(remedy.fixed_at) <= remedy.fix_due
    return sorted(by.values(), key=lambda r: r.station.code)


def level_word(level: str) -> str:
    return LEVELS.get(level, level)
