"""Sending an SMS to a resident: a small interface, and the only built-in sender, which sends nothing.

A village station has no SMS gateway of its own. The built-in sender writes to the case's
timeline that the message was NOT sent and why, so nobody reads "已通知" where no message left
the building. A real gateway is one class with ``send`` and a factory named by the ``SMS_SENDER``
setting (``"package.module:factory"``); it returns ``sent=True`` only on the gateway's own
acceptance (and even then that is "accepted by the gateway", not "delivered").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from rules.privacy import mask_phone
from station.models import Case
from station.services import timeline


@dataclass(frozen=True)
class SmsResult:
    """What became of one message: ``sent`` only when a gateway accepted it; ``note`` says what happened."""

    sent: bool
    note: str


class SmsSender(Protocol):
    """Anything that can try to send one text to one phone number about one case."""

    def send(self, case: Case, phone: str, text: str, actor: str) -> SmsResult: ...


class TimelineOnlySender:
    """The built-in sender: no gateway, so nothing is sent — and the case timeline says so."""

    def send(self, case: Case, phone: str, text: str, actor: str) -> SmsResult:
        note = "短信未发送（未配置短信网关），请改用电话或当面告知"
        timeline.record(case, actor, "sms_not_sent", f"{note}。拟发送至 {mask_phone(phone)}：{text}")
        return SmsResult(sent=False, note=note)


def load_sender(dotted: str) -> SmsSender:
    """The sender the ``SMS_SENDER`` setting names (``module:factory``)."""
    module_name, _, attr = (dotted or "").partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory()
