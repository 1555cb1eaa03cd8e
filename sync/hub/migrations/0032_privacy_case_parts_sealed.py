"""More of a case sealed at rest: what its snapshot holds beyond the applicant and the proxy, and the
certificate number of a granted result.

Until now only each person's ID number, phone and address were sealed in ``hub_case.snapshot``; the rest
stayed readable JSON, and with it a form's fields (邮寄地址, 配偶身份证号 …), the address a result was
posted to (``delivery``), the notes of a 补正 answer, of an unkept promise and of a paper handover, and a
material's e-licence number and licence record (a 残疾人证's number is its holder's ID number and two
digits). The certificate number the county typed for a granted 残疾人证 is that same number, kept plain
in ``hub_decision.certificate_no`` and in the ``case.status`` change sent to the station — while the
licence register it went into seals it. A copy of the database gave them all away.

A home visit's words (what was done, the outcome note), sealed at the station since its 0027, were plain in
``hub_home_visit.purpose`` and ``outcome_note``, and so was a booking's note (``hub_appointment.note``,
sealed at the station since its 0028): a number typed into them is a resident's. Sealed now too
(``sync/hub/services/home_visits.py``; the note by its field, whose column becomes ``text``).

``sync/hub/services/personal.py`` now seals those parts (``SEALED_PARTS``, ``SEALED_MATERIAL_KEYS``) and
the certificate number. Its column becomes ``text`` (a sealed value is longer than the 60 characters a
PostgreSQL ``varchar(60)`` holds). The rows already stored are sealed by the start
that applies this migration, in its locked transaction (``sync.hub.create_app``'s ``after`` hook), as 0003
did; a value stored before reads as it is.

Numbered 0032 on the privacy branch (the lead renumbers on merge).
"""

from peewee import TextField


def up(migrator, db):
    migrator.migrate(migrator.alter_column_type("hub_decision", "certificate_no", TextField(null=True)),
                     migrator.alter_column_type("hub_appointment", "note", TextField(default="")))


def down(migrator, db):
    pass  # sealed values are longer than 60 characters: the column stays text; the older release reads them as they are
