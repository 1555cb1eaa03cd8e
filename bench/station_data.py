"""A station database with many cases, made fast.

A handful of real cases are taken through ``services.intake`` (so every column, material row,
timeline entry and outbox payload is what the app really writes); those rows are then cloned
with raw ``executemany`` inside one transaction, varying ids, case numbers, query codes,
applicants, dates and status. 100,000 cases take seconds this way instead of an hour of
service calls.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from stdnum.cn import ric
from ulid import ULID

from rules.events import MATERIALS_UPDATED, NOTE, SUBMITTED
from station import create_app
from station.config import Config
from station.extensions import db
from station.samples import complete_form
from station.services.users import create_user
from station.setup import initialise
from websec.sealing import KeyRing

AREA = "141081102201"
STATION_CODE = "ST141081102201"
PASSWORDS = {"agent": "bench-agent-pass-1", "clerk": "bench-clerk-pass-1", "admin": "bench-admin-pass-1"}
SEED_ITEMS = ("高龄津贴申领", "城乡居民基本养老保险参保登记", "社会保障卡申领", "城乡居民基本医疗保险参保登记",
              "最低生活保障申请", "医保异地就医备案", "生育登记", "耕地地力保护补贴申报")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = ("秀英", "桂英", "建国", "志强", "淑珍", "玉兰", "明", "军", "丽", "勇", "静", "海燕", "国华", "德胜",
         "翠花", "红梅", "振华", "春生", "凤英", "长顺", "永福", "金凤", "俊杰", "晓东")
QUERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CLOSED = ("completed", "completed", "completed", "completed", "delivered", "delivered", "rejected", "not_collected")
OPEN = ("collected", "accepted", "accepted", "deferred", "supplement", "completed", "delivered")
NOTES = ("申请人来电询问进度，已告知预计办结时间。", "已电话通知申请人补交户口簿复印件。", "材料原件已核验退回申请人。",
         "申请人委托其子代为领取结果。", "村委会已出具证明，随件上报。")


def station_config(instance: Path) -> type[Config]:
    """The field defaults with the database and attachments in `instance`."""
    return Config.with_overrides(DATABASE=str(instance / "station.sqlite3"), ATTACHMENT_DIR=str(instance / "attachments"),
                                 READ_INSTANCE_CONFIG=False)


def make_station(instance: Path) -> Flask:
    """A fresh station in `instance`: profile, demo catalog, holidays, one user per role.

    The secret key is generated into the instance folder, so `python -m station --instance`
    started on the same folder later serves the same sessions.
    """
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(station_config(instance), instance_path=str(instance))
    initialise(app, {"code": STATION_CODE, "name": "示范县东关镇东关村便民服务站", "area_code": AREA,
                     "level": "village", "query_url_base": "http://station.local/q"}, demo_catalog=True)
    with app.app_context(), db.connection_context():
        for role, password in PASSWORDS.items():
            create_user(role, {"agent": "王代办", "clerk": "李窗口", "admin": "张站长"}[role], role, password,
                        "13800000000")
    return app


def id_number(n: int, rng: random.Random, county: str = "141081") -> str:
    """A valid resident ID (GB 11643 checksum) born 1935–2005 in `county` (霍州市 by default)."""
    born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 70 * 365))
    body = f"{county}{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def intake_items() -> list:
    """The current catalog items the seeds (and the intake benchmark) use."""
    from station.services.catalog import current_items

    found = []
    for item in current_items():
        if any(item.name.startswith(name) for name in SEED_ITEMS):
            found.append(item)
    return found


def seed_cases(app: Flask) -> list[str]:
    """Take one real application per seed item through services.intake; return the case ids."""
    from station.models import User
    from station.services import intake

    rng = random.Random(7)
    ids = []
    with app.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for n, item in enumerate(intake_items()):
            data = complete_form([item], id_number(900 + n, rng))
            draft = intake.check_input([item], data, dt.date.today())
            [case] = intake.create_cases([item], draft, agent, allow_duplicate=True)
            ids.append(case.id)
    return ids


def _query_code(n: int) -> str:
    value = (n * 0x9E3779B1 + 12345) % (32 ** 8)  # an odd multiplier: a bijection on 40 bits
    out = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        out.append(QUERY_ALPHABET[digit])
    return "".join(out)


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Seed:
    case: dict[str, Any]
    materials: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    event: dict[str, Any]  # its case.submitted outbox row
    snapshot: dict[str, Any] = field(default_factory=dict)


def _rows(conn: sqlite3.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


SEALED_CASE_COLUMNS = ("applicant_id_stored", "applicant_phone_stored", "applicant_address", "proxy_id_stored",
                       "proxy_phone_stored", "form_values")


def _load_seeds(conn: sqlite3.Connection, ids: list[str], ring: KeyRing) -> list[Seed]:
    """The seed cases with their personal columns and payload opened (each clone is sealed afresh)."""
    seeds = []
    for case_id in ids:
        [case] = _rows(conn, 'SELECT * FROM "case" WHERE id = ?', case_id)
        case.update({name: ring.unseal(case[name]) for name in SEALED_CASE_COLUMNS})
        materials = _rows(conn, "SELECT * FROM case_material WHERE case_id = ? ORDER BY position", case_id)
        timeline = _rows(conn, "SELECT * FROM timeline_entry WHERE case_id = ? ORDER BY id", case_id)
        [event] = _rows(conn, "SELECT * FROM outbox_event WHERE case_id = ? AND seq = 1", case_id)
        event["payload"] = ring.unseal_bytes(event["payload"]).decode("utf-8")
        seeds.append(Seed(case, materials, timeline, event, json.loads(event["payload"])))
    return seeds


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = [c for c in rows[0] if not (table in ("case_material", "timeline_entry", "outbox_event") and c == "id")]
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
    conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])


@dataclass
class Clone:
    """What varies from one cloned case to the next."""

    case_id: str
    case_no: str
    query_code: str
    name: str
    id_number: str
    phone: str
    area: str
    received: dt.datetime
    status: str
    committed_due: dt.date


def _clones(count: int, per_day: int, rng: random.Random) -> list[Clone]:
    today = dt.date.today()
    days = max(1, -(-count // per_day))
    out = []
    for n in range(count):
        day = today - dt.timedelta(days=days - n // per_day)  # oldest first, ending yesterday
        received = dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(seconds=(n % per_day) * 150
                                                                            + rng.randrange(0, 120))
        age = (today - day).days
        status = rng.choice(CLOSED) if age > 45 else rng.choice(OPEN)
        out.append(Clone(
            case_id=str(ULID.from_datetime(received.astimezone())),
            case_no=f"{AREA}{day:%Y%m%d}{n % per_day + 1:04d}",
            query_code=_query_code(n),
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            id_number=id_number(n, rng),
            phone=f"139{rng.randrange(10**8):08d}",
            area=f"141081102{rng.randrange(201, 212):03d}",
            received=received,
            status=status,
            committed_due=day + dt.timedelta(days=rng.choice((5, 10, 15, 20, 30))),
        ))
    return out


def _sealed(ring: KeyRing, payload: str) -> bytes:
    """An outbox payload as the station stores it (sync.local_db.seal_payload)."""
    return ring.seal_bytes(payload.encode("utf-8"))


def _case_row(seed: Seed, c: Clone, ring: KeyRing) -> dict[str, Any]:
    """The clone's case row, its personal data sealed as the station stores it (station/services/personal.py)."""
    row = dict(seed.case)
    row.update({name: ring.seal(seed.case[name]) for name in SEALED_CASE_COLUMNS})
    closed = c.status in ("completed", "delivered", "rejected", "not_collected")
    row.update(
        id=c.case_id, case_no=c.case_no, query_code=c.query_code, applicant_name=c.name,
        applicant_id_stored=ring.seal(c.id_number), applicant_id_index=ring.blind_index(c.id_number),
        applicant_phone_stored=ring.seal(c.phone), applicant_area_code=c.area,
        status=c.status, received_at=_stamp(c.received), updated_at=_stamp(c.received),
        committed_due=c.committed_due.isoformat(), statutory_due=(c.committed_due + dt.timedelta(days=10)).isoformat(),
        closed_at=_stamp(c.received + dt.timedelta(days=7)) if closed else None,
        result="approved" if c.status in ("completed", "delivered") else "",
        hub_case_no=f"HZ{c.case_no[-12:]}" if c.status not in ("collected", "not_collected") else "",
    )
    return row


def submitted_payload(seed: Seed, c: Clone) -> str:
    """The seed's case.submitted snapshot, rewritten for the clone (same shape and size)."""
    s = seed.case
    return (seed.event["payload"]
            .replace(s["case_no"], c.case_no)
            .replace(s["query_code"], c.query_code)
            .replace(s["applicant_name"], c.name)
            .replace(s["applicant_id_stored"], c.id_number)
            .replace(s["applicant_phone_stored"], c.phone)
            .replace(s["received_at"].replace(" ", "T"), c.received.isoformat()))


def _occurred(value: dt.datetime) -> str:
    return value.astimezone().replace(microsecond=0).isoformat()


def fill(app: Flask, count: int, *, events: str = "acked", per_day: int = 200, seed: int = 11) -> dict[str, Any]:
    """Add `count` cloned cases (materials, timeline, outbox) to the station database.

    events="acked": one acknowledged case.submitted per case, as on a station that has synced
    for years. events="queued": three queued events per case (case.submitted, case.note,
    case.materials_updated), as after a long time offline.
    """
    ring = app.extensions["key_ring"]
    seeds = _load_seeds_from(app, seed_cases(app), ring)
    rng = random.Random(seed)
    clones = _clones(count, per_day, rng)
    conn = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    conn.execute("BEGIN IMMEDIATE")
    chunk = 5000
    n_events = 0
    for start in range(0, len(clones), chunk):
        cases, materials, timeline, outbox = [], [], [], []
        for i, c in enumerate(clones[start:start + chunk], start):
            s = seeds[i % len(seeds)]
            cases.append(_case_row(s, c, ring))
            for m in s.materials:
                materials.append({**m, "case_id": c.case_id, "received_at": _stamp(c.received)})
            for t in s.timeline:
                timeline.append({**t, "case_id": c.case_id, "at": _stamp(c.received)})
            if c.status in ("completed", "delivered", "rejected"):
                timeline.append({**s.timeline[0], "case_id": c.case_id, "action": f"county_{c.status}",
                                 "actor": "县级平台 county", "message": "县级平台：办结，结果：准予",
                                 "at": _stamp(c.received + dt.timedelta(days=7)), "data": "{}"})
            occurred = _occurred(c.received)
            base = {**s.event, "case_id": c.case_id, "occurred_at": occurred, "created_at": _stamp(c.received),
                    "deadline": c.committed_due.isoformat()}
            if events == "acked":
                outbox.append({**base, "event_id": str(ULID()), "payload": _sealed(ring, submitted_payload(s, c)),
                               "state": "acked", "attempts": 1, "result": "accepted",
                               "acked_at": _stamp(c.received + dt.timedelta(minutes=5))})
            else:
                note = {"text": rng.choice(NOTES), "by": "agent"}
                materials_update = {"materials": [{**m, "status": "provided"} for m in s.snapshot["materials"]]}
                for seq, (kind, payload) in enumerate(((SUBMITTED, submitted_payload(s, c)),
                                                       (NOTE, json.dumps(note, ensure_ascii=False)),
                                                       (MATERIALS_UPDATED,
                                                        json.dumps(materials_update, ensure_ascii=False))), 1):
                    outbox.append({**base, "event_id": str(ULID()), "seq": seq, "kind": kind, "payload": _sealed(ring, payload),
                                   "state": "queued", "attempts": 0})
            n_events = n_events + (1 if events == "acked" else 3)
        _insert(conn, "case", cases)
        _insert(conn, "case_material", materials)
        _insert(conn, "timeline_entry", timeline)
        _insert(conn, "outbox_event", outbox)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"cases": count + len(seeds), "events": n_events, "seeds": len(seeds)}


def _load_seeds_from(app: Flask, ids: list[str], ring: KeyRing) -> list[Seed]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        seeds = _load_seeds(conn, ids, ring)
    finally:
        conn.close()
    return seeds
