"""Every county user has a person's name: the one residents and village agents read as who decided.

Decisions, 整改 and 回访 now show (and send to the station) the user's ``name``, not the login.
Accounts made before ``create-user`` filled it in may have it empty; they carry over with the login
as their name until an admin sets the real one (``python -m sync.hub set-name LOGIN 张三``), so no
page or change ever shows an empty actor.
"""


def up(migrator, db):
    db.execute_sql("UPDATE hub_user SET name = username WHERE name IS NULL OR TRIM(name) = ''")


def down(migrator, db):
    pass  # a filled-in name is harmless to the older release, which shows ``name or username``
