"""Each village's township centre, taken from the handovers already recorded (issue 15's custody check).

Since this release a station may record a handover only of a batch on its route: the packer, the
township centre the county registered for the packer (its ``township`` setting), the batch's
destination, or a station that already handed it on. Hubs that relayed papers before the setting
existed would refuse their townships' scans of a village's next batch until a person filled it in.
So: where exactly one other station (not the batch's destination) has recorded handovers of a
village's batches, that station becomes the village's township; where there were several or none,
nothing is guessed and the county sets it on the station's page. A setting already there is kept.
"""

import json

from peewee import PostgresqlDatabase

_NAME_ENDINGS = ("便民服务中心", "便民服务站", "政务服务中心")  # as services/transfers.py at this release


def _core(name):
    text = "".join((name or "").split())
    for ending in _NAME_ENDINGS:
        text = text.removesuffix(ending)
    return text


def up(migrator, db):
    rows = db.execute_sql(
        'SELECT t.station_id, s.code, s.name, t.destination FROM hub_transfer_handover h '
        'JOIN hub_transfer t ON t.id = h.transfer_id JOIN hub_station s ON s.id = h.recorded_at_id '
        'WHERE t.station_id IS NOT NULL AND h.recorded_at_id <> t.station_id').fetchall()
    relays = {}
    for village, code, name, destination in rows:
        if _core(name) and _core(name) == _core(destination):
            continue  # the batch's destination, allowed without a setting
        relays.setdefault(village, set()).add(code)
    cast = "CAST({} AS JSONB)" if isinstance(db, PostgresqlDatabase) else "{}"
    for village, codes in relays.items():
        if len(codes) != 1:
            continue
        (stored,) = db.execute_sql(f"SELECT settings FROM hub_station WHERE id = {db.param}", (village,)).fetchone()
        settings = stored if isinstance(stored, dict) else json.loads(stored or "{}")
        if settings.get("township"):
            continue
        settings["township"] = next(iter(codes))
        db.execute_sql(f"UPDATE hub_station SET settings = {cast.format(db.param)} WHERE id = {db.param}",
                       (json.dumps(settings, ensure_ascii=False), village))
