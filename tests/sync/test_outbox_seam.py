"""The outbox lives behind sync's own database proxy, bound to the station's very Database object."""

from __future__ import annotations

import pytest

from station.extensions import db
from station.models import Setting
from sync.outbox import OutboxError, OutboxEvent, enqueue


def test_an_event_written_outside_a_transaction_is_refused(database):
    with pytest.raises(OutboxError):
        enqueue("01CASEOUTSIDE0000000000000", "case.note", {"text": "无事务"})
    assert not OutboxEvent.select().where(OutboxEvent.case_id == "01CASEOUTSIDE0000000000000").exists()


def test_an_event_rolls_back_with_the_station_change_it_belongs_to(database):
    with db.atomic() as transaction:  # the station's proxy opens the transaction …
        Setting.set_value("station.note", "改了")
        enqueue("01CASEROLLBACK000000000000", "case.note", {"text": "随变更回滚"})  # … sync's proxy writes in it
        transaction.rollback()
    assert Setting.get_value("station.note") == ""
    assert not OutboxEvent.select().where(OutboxEvent.case_id == "01CASEROLLBACK000000000000").exists()
    with db.atomic():
        enqueue("01CASEROLLBACK000000000000", "case.note", {"text": "提交"})
    assert OutboxEvent.get(OutboxEvent.case_id == "01CASEROLLBACK000000000000").seq == 1
