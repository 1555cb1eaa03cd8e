"""Logins that resist guessing: throttling per account and per address, equal work for every name,
and an idle timeout for a PC left unattended.

The counters live in the app's database (a ``LoginThrottle``-shaped model passed in), so they
survive a restart and are shared by every worker of the hub.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from peewee import IntegrityError, Model
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录。"
SEEN_KEY = "_seen"


def count_in_window(model: type[Model], key: str, window: dt.timedelta, now: dt.datetime,
                    **on_count: object) -> tuple[int, dt.datetime, int]:
    """Count one more for ``key`` in a window that starts again once ``window`` has passed.

    The one counter both the login guard and the public pages' rate limit use, in a
    ``LoginThrottle``-shaped table shared by every worker. Returns (row id, window start, count);
    ``on_count`` are further columns to set with the count.
    """
    m = model
    database = m._meta.database
    with database.atomic():
        row = m.get_or_none(m.key == key)
        if row is None:
            try:
                with database.atomic():
                    m.create(key=key, failures=0, window_started_at=now)
            except IntegrityError:  # another worker created it first
                pass
            row = m.get(m.key == key)
        start = row.window_started_at
        if start < now - window:
            start = now
            m.update(failures=1, window_started_at=now, **on_count).where(m.id == row.id).execute()
        else:
            m.update(failures=m.failures + 1, **on_count).where(m.id == row.id).execute()
        return row.id, start, m.select(m.failures).where(m.id == row.id).scalar()


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures an account or an address may make in a window, and how long it is then refused."""

    account_failures: int = 5
    address_failures: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)


def utcnow() -> dt.datetime:
    """Naive UTC, as both databases store their times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _minutes_left(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


class LoginGuard:
    """Counts failed logins per account name and per client address in ``model``.

    ``model`` has ``key`` (unique), ``failures``, ``window_started_at`` and ``locked_until``.
    Account keys are the typed name whether or not such a user exists, so a lockout tells an
    attacker nothing about which names are real.
    """

    def __init__(self, model: type[Model], policy: ThrottlePolicy | None = None) -> None:
        self.model = model
        self.policy = policy or ThrottlePolicy()

    @staticmethod
    def account_key(username: str) -> str:
        return "account:" + (username or "").strip().lower()[:100]

    @staticmethod
    def address_key(address: str | None) -> str:
        return "address:" + (address or "unknown")[:100]

    def refusal(self, username: str, address: str | None, now: dt.datetime | None = None) -> str | None:
        """A Chinese message when this account or address is locked out right now, else None."""
        now = now or utcnow()
        m = self.model
        rows = {r.key: r for r in m.select().where(
            m.key.in_([self.account_key(username), self.address_key(address)]) & (m.locked_until > now))}
        if self.address_key(address) in rows:
            minutes = _minutes_left(rows[self.address_key(address)].locked_until, now)
            return f"该地址尝试过多，请稍后再试（约 {minutes} 分钟后）。"
        if self.account_key(username) in rows:
            return (f"密码错误次数过多，账号已锁定 {self.policy.lockout.seconds // 60} 分钟"
                    f"（还剩约 {_minutes_left(rows[self.account_key(username)].locked_until, now)} 分钟）。")
        return None

    def failed(self, username: str, address: str | None, now: dt.datetime | None = None) -> str | None:
        """Count one failed login; return the lockout message if this failure locked something."""
        now = now or utcnow()
        address_locked = self._count(self.address_key(address), self.policy.address_failures, now)
        account_locked = self._count(self.account_key(username), self.policy.account_failures, now)
        if account_locked or address_locked:
            return self.refusal(username, address, now)
        return None

    def succeeded(self, username: str) -> None:
        """A right password clears the account's count (the address keeps its own); stale counters go too."""
        self.model.delete().where(self.model.key == self.account_key(username)).execute()
        self.prune()

    def _count(self, key: str, limit: int, now: dt.datetime) -> bool:
        m = self.model
        with m._meta.database.atomic():
            row_id, _start, failures = count_in_window(m, key, self.policy.window, now)
            if failures >= limit:
                m.update(failures=0, window_started_at=now, locked_until=now + self.policy.lockout).where(
                    m.id == row_id).execute()
                return True
        return False

    def prune(self, now: dt.datetime | None = None) -> int:
        """Forget counters that can no longer lock anything."""
        now = now or utcnow()
        m = self.model
        stale = now - max(self.policy.window, self.policy.lockout)
        return m.delete().where((m.window_started_at < stale) & (
            m.locked_until.is_null() | (m.locked_until < now))).execute()


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made the same way as real ones, for names that do not exist."""
    return generate_password_hash(secrets.token_hex(16))


def check_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a user's hash, or against a dummy hash when there is no such user.

    Both paths run the same slow hash, so the answer's timing does not tell which names exist.
    """
    matched = check_password_hash(password_hash or _dummy_hash(), password or "")
    return matched and password_hash is not None


def new_session_token() -> str:
    """A fresh per-user token: part of every session id, rotated on logout and password change."""
    return secrets.token_hex(16)


def mark_seen() -> None:
    """Start the idle clock of a session that has just logged in."""
    session[SEEN_KEY] = int(time.time())


def install_idle_timeout(app: Flask, *, login_endpoint: str = "auth.login",
                         before_logout: Callable[[], None] | None = None,
                         static_endpoints: tuple[str, ...] = ("static",),
                         stateless_prefixes: tuple[str, ...] = ()) -> None:
    """Log out a session that made no request for ``IDLE_TIMEOUT_MINUTES`` (default 30).

    The time of the last request is kept in the signed session, so a copied cookie from an
    idle session is refused as well. Paths under ``stateless_prefixes`` (the hub's signed API)
    have no session and no login user: they neither refresh nor end anyone's session, and the
    user is not loaded for them.
    """
    app.config.setdefault("IDLE_TIMEOUT_MINUTES", 30)

    @app.before_request
    def _idle_timeout() -> Response | None:
        if stateless_prefixes and request.path.startswith(stateless_prefixes):
            return None
        if request.endpoint in static_endpoints or not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        limit = float(app.config["IDLE_TIMEOUT_MINUTES"]) * 60
        if seen is None or now - int(seen) > limit:  # no mark: a session from before the timeout existed
            if before_logout is not None:
                before_logout()
            logout_user()
            session.clear()
            flash(IDLE_MESSAGE, "warning")
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for(login_endpoint, next=target))
        session[SEEN_KEY] = now
        return None
