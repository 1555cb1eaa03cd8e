"""The one set of rules that decides what happens to an incoming event: accepted, duplicate, conflict or rejected.

Both ways of taking a batch (whole, or one event per transaction) call :func:`classify`; they
differ only in how they look things up (read up front, or read now) and how they write, so a
rule or a message is written here once. Nothing here touches the database: what the hub holds
is passed in, and the caller stores what the verdict says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rules import events
from sync import protocol


class StoredEvent(Protocol):
    """An event the hub holds (a row, or one accepted earlier in the same batch)."""

    event_id: str
    station_id: int
    digest: str


class CaseState(Protocol):
    """What the rules read of a case the hub holds."""

    station_id: int
    last_seq: int


@dataclass(frozen=True)
class Verdict:
    """The answer for one event; a conflict also names the event already in its place (if known)."""

    result: protocol.EventResult
    existing_event_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.result.status == protocol.STATUS_ACCEPTED

    @property
    def conflict(self) -> bool:
        return self.result.status == protocol.STATUS_CONFLICT


def rejected(event_id: str, code: str, reason: str, *, retryable: bool) -> protocol.EventResult:
    """A rejection with its machine code; ``retryable`` tells the station whether to send it again."""
    return protocol.EventResult(event_id, protocol.STATUS_REJECTED, reason=reason, code=code,
                                retryable=retryable)


def bad_envelope(event: Any) -> protocol.EventResult | None:
    """Reject an event whose envelope is malformed (before anything is looked up for it)."""
    problem = protocol.validate_event(event)
    if not problem:
        return None
    event_id = str(event.get("event_id") or "") if isinstance(event, dict) else ""
    return rejected(event_id, protocol.CODE_BAD_EVENT, problem, retryable=False)


def named_files(event: dict[str, Any]) -> list[str]:
    """The SHA-256 of every file an event's body attaches to its case (what the hub would link)."""
    attachments = event.get("payload", {}).get("attachments") if isinstance(event.get("payload"), dict) else None
    if not isinstance(attachments, list):
        return []
    return list(dict.fromkeys(item["sha256"] for item in attachments
                              if isinstance(item, dict) and protocol.is_sha256(item.get("sha256"))))


def classify(station_id: int, event: dict[str, Any], digest: str, *, existing: StoredEvent | None,
             case: CaseState | None, seq_holder: Callable[[str, int], StoredEvent | None],
             stale: Callable[[dict[str, Any]], protocol.EventResult | None],
             not_held: Callable[[list[str]], list[str]] = lambda digests: [],
             conflict_open: Callable[[str], bool] = lambda case_id: False) -> Verdict:
    """Decide one well-formed event against what the hub holds.

    ``existing`` is the stored event with the same id, ``case`` the stored case; ``seq_holder``
    finds the event holding ``(case_id, seq)`` and is asked only when that place is taken;
    ``stale`` answers whether a ``case.submitted`` was taken under a catalog past its grace;
    ``not_held`` returns those of the given file digests this station has not uploaded (whole or
    in part) itself — a file is linked to a case only on its own station's word, so naming
    another station's SHA-256 cannot put that station's scan under this station's case;
    ``conflict_open`` tells whether the case has a conflict the county has not yet resolved —
    until it has, later events of the case wait (retryable) instead of being applied on top of
    a copy the station does not share.
    """
    event_id, case_id, seq, kind = event["event_id"], event["case_id"], event["seq"], event["kind"]
    if existing is not None:
        return _against_existing(station_id, event_id, digest, existing)
    if case is not None and case.station_id != station_id:
        return Verdict(rejected(event_id, protocol.CODE_NOT_YOUR_CASE, "该办件属于其他站点，不能由本站提交。",
                                retryable=False))
    if kind not in events.KINDS:
        return Verdict(rejected(event_id, protocol.CODE_UNKNOWN_KIND,
                                f"平台不认识事件类型「{kind}」，请联系县级平台升级。", retryable=False))
    problem = events.body_problem(kind, event["payload"])
    if problem:
        return Verdict(rejected(event_id, protocol.CODE_BAD_EVENT, problem, retryable=False))
    files = named_files(event)
    foreign = not_held(files) if files else []
    if foreign:
        return Verdict(rejected(
            event_id, protocol.CODE_NOT_YOUR_FILE,
            f"事件引用的附件（{foreign[0][:12]}…）不是本站上传的，平台不予关联；请重新扫描该材料后再提交。",
            retryable=False))
    last = case.last_seq if case is not None else 0
    if seq <= last:
        holder = seq_holder(case_id, seq)
        if holder is not None and holder.event_id == event_id:
            # This very event was stored by another worker between our two reads (PostgreSQL
            # READ COMMITTED gives each statement a fresh snapshot): judge it as a resend.
            return _against_existing(station_id, event_id, digest, holder)
        return Verdict(protocol.EventResult(event_id, protocol.STATUS_CONFLICT, code=protocol.CODE_SEQ_TAKEN,
                                            reason=f"该办件第 {seq} 条事件已由另一事件占用，已转人工核对。",
                                            retryable=False),
                       existing_event_id=holder.event_id if holder is not None else None)
    if conflict_open(case_id):
        return Verdict(rejected(
            event_id, protocol.CODE_CONFLICT_PENDING,
            "该办件有一条事件与县级平台记录冲突，正待县级核对；本条暂缓，核对后自动续传。", retryable=True))
    if seq > last + 1:
        return Verdict(rejected(
            event_id, protocol.CODE_OUT_OF_ORDER,
            f"事件顺序不连续：平台已收到该办件第 {last} 条，本条为第 {seq} 条，须先补发前面的事件。",
            retryable=True))
    if kind == events.SUBMITTED:
        too_old = stale(event)
        if too_old is not None:
            return Verdict(too_old)
    return Verdict(protocol.EventResult(event_id, protocol.STATUS_ACCEPTED))


def resent(station_id: int, digest: str, existing: StoredEvent | None) -> protocol.EventResult | None:
    """The answer to an event this station sent before with the same content (duplicate), else None.

    Asked before the envelope is checked: content whose digest equals what the hub stored is
    content the hub checked when it took it, so a batch sent again after a lost answer costs
    each event its digest, not the checks again. Anything else (another station's id, other
    content) goes the whole way through :func:`bad_envelope` and :func:`classify`.
    """
    if existing is None or existing.station_id != station_id or existing.digest != digest:
        return None
    return protocol.EventResult(existing.event_id, protocol.STATUS_DUPLICATE)


def _against_existing(station_id: int, event_id: str, digest: str, existing: StoredEvent) -> Verdict:
    """The hub already holds this event id: duplicate if the content matches, else conflict."""
    if existing.station_id != station_id:
        return Verdict(rejected(event_id, protocol.CODE_NOT_YOUR_CASE, "该事件编号属于其他站点。", retryable=False))
    if existing.digest == digest:
        return Verdict(protocol.EventResult(event_id, protocol.STATUS_DUPLICATE))
    return Verdict(protocol.EventResult(event_id, protocol.STATUS_CONFLICT, code=protocol.CODE_CONTENT_MISMATCH,
                                        reason="同一事件编号的内容与平台已收到的不一致，已转人工核对。",
                                        retryable=False),
                   existing_event_id=existing.event_id)
