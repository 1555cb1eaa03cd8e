"""Web safety shared by the station and the county hub: headers, login throttling, idle sessions, URLs.

Plain Flask and peewee helpers with no import of ``station`` or ``sync.hub``, so both apps take
the same rules from one place (the import direction in DESIGN.md: both may use shared code).
"""
