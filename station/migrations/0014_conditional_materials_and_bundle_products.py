"""Conditional materials and what a bundle's own items produce (issue 19 items 3 and 6).

A catalog material may say when it applies (``condition``, e.g. 仅重度残疾人缴费时提供); the
case keeps the condition it was taken under, next to the agent's 不适用 and its reason. An item
may name the materials its result is (``produces``: 出生医学证明首次签发 issues the
出生医学证明), so a later item of the same 一件事 does not demand it from the resident.
"""

from peewee import TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("material", "condition", TextField(default="")),
        migrator.add_column("case_material", "condition", TextField(default="")),
        migrator.add_column("service_item", "produces", TextField(default="[]")),
        migrator.add_column("user", "id_number_stored", TextField(default="")),
    )
