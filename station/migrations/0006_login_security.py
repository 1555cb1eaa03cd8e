"""Logins that resist guessing: a stored, rotatable session token per user and the failed-login counters.

Until now the session token was derived from the password hash, so logging out did not end a
copied cookie. Every existing user gets a random token (their open sessions end once, which is
the point). Numbered 0006: 0005 belongs to the sync side's migration; the runner orders by number
and does not mind the gap.
"""

import secrets

from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "session_token", CharField(max_length=32, default="")))
    for (user_id,) in db.execute_sql('SELECT id FROM "user"').fetchall():
        db.execute_sql('UPDATE "user" SET session_token = ? WHERE id = ?', (secrets.token_hex(16), user_id))

    class LoginThrottle(Model):
        key = CharField(max_length=120, unique=True)
        failures = IntegerField(default=0)
        window_started_at = DateTimeField()
        locked_until = DateTimeField(null=True, index=True)

        class Meta:
            database = db
            table_name = "login_throttle"

    db.create_tables([LoginThrottle])
