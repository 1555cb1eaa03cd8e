"""Case numbers and query codes, minted offline.

Case number: {station area code, 12}{YYYYMMDD}{4-digit daily sequence} (DOMAIN.md), and on a
second device of the station (a laptop on a home visit) the same with ``-NN``, its number at the
hub (rules/case_numbers.py): each device counts in its own database, the suffix keeps them apart.
The sequence row is bumped inside the caller's IMMEDIATE transaction, so two clerks saving at the
same moment queue on SQLite's write lock and never get the same number.
"""

from __future__ import annotations

import datetime as dt
import secrets

from peewee import fn

from rules import case_numbers, query_codes
from station.extensions import db
from station.models import Case, DailySequence
from station.services.errors import DomainError
from sync import state

QUERY_ALPHABET = query_codes.ALPHABET
QUERY_CODE_LENGTH = query_codes.LENGTH


def next_case_no(area_code: str, day: dt.date) -> str:
    """Return the next case number for `day`; call inside the transaction that saves the case."""
    if not db.in_transaction():
        raise DomainError("办件编号必须在保存办件的事务中生成。")
    key = day.strftime("%Y%m%d")
    DailySequence.insert(day=key, last=0).on_conflict_ignore().execute()
    DailySequence.update(last=DailySequence.last + 1).where(DailySequence.day == key).execute()
    last = DailySequence.get_by_id(key).last
    if last > 9999:
        raise DomainError("今日办件编号已用完（9999件），请联系管理员。")
    return case_numbers.compose(area_code, key, last, state.device_number())


def new_query_code() -> str:
    """A random short code printed on the resident's paper; unique among this station's cases."""
    for _ in range(20):
        code = "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
        if not Case.select().where(Case.query_code == code).exists():
            return code
    raise DomainError("查询码生成失败，请重试。")


def raise_daily_sequences(last_by_day: dict[str, int]) -> None:
    """Move each day's sequence to at least the given last number (the hub's, after a restore).

    A restored backup's sequences are behind the case numbers the station used after the backup;
    the next number of such a day must come after the hub's. Call inside a transaction.
    """
    for day, last in last_by_day.items():
        DailySequence.insert(day=day, last=0).on_conflict_ignore().execute()
        DailySequence.update(last=fn.MAX(DailySequence.last, last)).where(DailySequence.day == day).execute()
