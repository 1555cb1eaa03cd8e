"""Rules that the station, the county hub and paper all follow, kept in one pure package.

Masking, the catalog file format, the glossary's Chinese labels and the event kinds with the
shape of their bodies. Nothing here imports Flask, peewee, ``station``, ``sync`` or
``printouts``: each of those imports these rules, so a rule changes in one place and the
screen, the hub and the printed page cannot drift apart.
"""
