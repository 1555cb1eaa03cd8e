"""County roles and logins that resist guessing.

``role``: county users were all allowed everything; they become county admins (``admin``) so an
upgrade takes nothing away — demote approvers with ``create-user NAME --role approver``. New
users are approvers unless created with ``--role admin``. ``session_token``: a per-user token in
every session id, rotated on logout and password reset. ``hub_login_throttle``: failed-login
counters shared by every worker.
"""

import secrets

from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hub_user", "role", CharField(max_length=16, default="admin")),
        migrator.add_column("hub_user", "session_token", CharField(max_length=32, default="")),
    )
    for (user_id,) in db.execute_sql("SELECT id FROM hub_user").fetchall():
        db.execute_sql(f"UPDATE hub_user SET session_token = {db.param} WHERE id = {db.param}",
                       (secrets.token_hex(16), user_id))

    class HubLoginThrottle(Model):
        key = CharField(max_length=120, unique=True)
        failures = IntegerField(default=0)
        window_started_at = DateTimeField()
        locked_until = DateTimeField(null=True, index=True)

        class Meta:
            database = db
            table_name = "hub_login_throttle"

    db.create_tables([HubLoginThrottle])
