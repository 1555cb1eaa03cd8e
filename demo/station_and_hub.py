"""`python -m station demo`: a ready-to-try station and county hub with demo users and catalog.

Demo passwords are made at random the first time and kept in `<dir>/DEMO-LOGINS.json`, so even a
demo never runs with a password written in code.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from demo.loopback import register_station, start_hub
from demo.month import seed_month
from demo.peer_county import (
    A_AREA,
    CROSS_AREA_CASES,
    ITEM_NAME,
    PeerCounty,
    demo_catalog,
    start_peer_county,
    write_area_code,
)
from rules.labels import CASE_STATUSES
from station import create_app
from station.extensions import db
from station.models import CatalogVersion, User
from station.services import catalog as station_catalog
from station.services.users import create_user
from station.serving import serve
from station.setup import initialise
from sync import state as sync_state
from sync.hub.extensions import db as hub_db
from sync.hub.models import HubUser
from sync.hub.services import catalog as hub_catalog
from sync.hub.services.users import create_user as create_hub_user
from sync.ports import PortUnavailable
from sync.transport import HubLink

DEMO_PROFILE = {
    "code": "ST141081102201",
    "name": "示范县东关镇东关村便民服务站",
    "area_code": "141081102201",
    "level": "village",
    "address": "示范县东关镇东关村村委会一楼",
    "phone": "0351-5550101",
    "supervise_phone": "12345",
    "query_url_base": "http://127.0.0.1:8080/q",
}
DEMO_USERS = [
    ("agent", "王代办", "agent", "13800000001"),
    ("agent2", "赵代办", "agent", "13800000004"),
    ("clerk", "李窗口", "clerk", "13800000002"),
    ("admin", "张站长", "admin", "13800000003"),
]


def _logins(base: Path) -> dict[str, str]:
    path = base / "DEMO-LOGINS.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    logins = {username: f"demo-{secrets.token_hex(3)}-{i}a" for i, (username, *_rest) in enumerate(DEMO_USERS)}
    path.write_text(json.dumps(logins, ensure_ascii=False, indent=1), encoding="utf-8")
    return logins


def prepare_station(base: Path, port: int) -> tuple[Flask, dict[str, str]]:
    """Create (or reuse) the demo station instance; return the app and the logins."""
    base.mkdir(parents=True, exist_ok=True)
    app = create_app(instance_path=str((base / "station").resolve()))
    profile = dict(DEMO_PROFILE, query_url_base=f"http://127.0.0.1:{port}/q")
    initialise(app, profile)
    logins = _logins(base)
    with app.app_context(), db.connection_context():
        catalog = demo_catalog()  # the county's (hub A's) catalog, 跨域办 item included
        current = CatalogVersion.current()
        if current is None or current.version != catalog["catalog_version"]:
            station_catalog.import_catalog(catalog, "demo")
        for username, name, role, phone in DEMO_USERS:
            if User.get_or_none(User.username == username) is None:
                create_user(username, name, role, logins[username], phone)
    return app, logins


def start_demo_hub(base: Path, host: str, port: int) -> dict[str, Any]:
    """Serve the reference county hub beside the station and register the demo station on it."""
    write_area_code(base / "hub", A_AREA)  # so it forwards the neighbouring county's items (跨域办)
    hub = start_hub(base / "hub", host, port)
    clerk_password, admin_password = _county_login(base, "county", "9a"), _county_login(base, "countyadmin", "8a")
    with hub.app.app_context(), hub_db.connection_context():
        if HubUser.get_or_none(HubUser.username == "county") is None:
            create_hub_user("county", clerk_password, name="县级审批员", role="approver")  # decides cases
        if HubUser.get_or_none(HubUser.username == "countyadmin") is None:  # publishes catalogs, sets stations
            create_hub_user("countyadmin", admin_password, name="县级管理员", role="admin")
        catalog = demo_catalog()
        current = hub_catalog.current()
        if current is None or current.version != catalog["catalog_version"]:
            hub_catalog.publish(catalog, clerk="demo")
    secret = register_station(hub.app, DEMO_PROFILE["code"], DEMO_PROFILE["name"])
    return {"url": hub.url, "code": DEMO_PROFILE["code"], "secret": secret, "clerk_user": "county",
            "clerk_password": clerk_password, "admin_user": "countyadmin", "admin_password": admin_password,
            "served": hub}


def run_demo(data_dir: str, host: str, port: int, hub_port: int, no_serve: bool = False, cases: int = 150,
             peer_port: int = 8091) -> int:
    """Prepare the demo in `data_dir` with a month of cases, print the URLs and logins, and serve them.

    Three servers: the station, its county (hub A) and the neighbouring county (hub B, its own
    process, demo/peer_county.py) that handles the 跨域办 item. With `no_serve` both hubs still run
    on free loopback ports while the month is played (the cases travel through real sync and
    forwarding rounds), then stop.
    """
    if not no_serve:
        taken = _taken(host, ((port, "--port"), (hub_port, "--hub-port"), (peer_port, "--peer-hub-port")))
        if taken:  # said before a minute of preparing, not as a traceback after it
            print(taken, file=sys.stderr)
            return 2
    base = Path(data_dir).resolve()
    app, logins = prepare_station(base, port)
    serve_host = "127.0.0.1" if no_serve else host
    hub = start_demo_hub(base, serve_host, 0 if no_serve else hub_port)
    peer: PeerCounty | None = None
    signal.signal(signal.SIGTERM, _exit_cleanly)  # a stopped demo stops the neighbouring county's process too
    try:
        peer = start_peer_county(base, serve_host, 0 if no_serve else peer_port, hub["served"].app,
                                 _county_login(base, "countyb", "7a"))
        with app.app_context(), db.connection_context():
            HubLink(hub["url"], hub["code"], hub["secret"]).save()
            if not sync_state.interval_seconds():
                sync_state.set_interval_seconds(30)  # a demo shows cases travelling soon
        month = seed_month(app, hub["served"].app, cases, cross_area=(ITEM_NAME, CROSS_AREA_CASES))
        if no_serve:
            hub["served"].stop()
        else:
            hub["served"].app.extensions["peer_rounds"].start_schedule()  # B's decisions come back every PEER_SYNC_INTERVAL_S
        _banner(base, host, port, None if no_serve else hub, None if no_serve else peer, logins, month)
        if no_serve:
            return 0
        try:
            serve(app, host, port)
        except PortUnavailable as exc:  # taken in the minute the demo was being prepared
            print(exc.message, file=sys.stderr)
            return 2
        return 0
    finally:
        if peer is not None:
            peer.stop()


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)  # runs run_demo's finally (its `kill` would leave county B's process behind)


def _county_login(base: Path, username: str, suffix: str) -> str:
    """A county login's demo password, made the first time and kept with the station's in DEMO-LOGINS.json."""
    logins = _logins(base)
    if username not in logins:
        logins[username] = f"{username}-{secrets.token_hex(3)}-{suffix}"
        (base / "DEMO-LOGINS.json").write_text(json.dumps(logins, ensure_ascii=False, indent=1), encoding="utf-8")
    return logins[username]


def _banner(base: Path, host: str, port: int, hub: dict[str, Any] | None, peer: PeerCounty | None,
            logins: dict[str, str], month: Any) -> None:
    print("=" * 60)
    print(f"便民服务站（演示）  http://{host}:{port}/")
    if hub:
        print(f"县级平台（演示）    {hub['url']}/  县级账号 {hub['clerk_user']} / {hub['clerk_password']}")
        print(f"                    县级管理员 {hub['admin_user']} / {hub['admin_password']}（发布目录、站点设置、设备）")
    if peer:
        print(f"邻县县级平台（跨域办演示） {peer.url}/  县级账号 {peer.clerk_user} / {peer.clerk_password}")
    print("演示账号：")
    for username, name, role, _phone in DEMO_USERS:
        print(f"  {name:<6} {role:<6} 用户名 {username:<6} 密码 {logins[username]}")
    states = "，".join(f"{CASE_STATUSES.get(k, k)} {v}" for k, v in month.by_status.most_common())
    print(f"演示办件：{month.cases} 件（{states}）")
    if month.cross_area:
        print(f"跨域办：{month.cross_area} 件“{ITEM_NAME}”已由本县平台转交邻县平台，由邻县受理、办结"
              "（决定经本县平台同步回服务站）")
    print(f"数据目录：{base}（删除该目录即可重置演示）")
    print("=" * 60, flush=True)


def _taken(host: str, ports: tuple[tuple[int, str], ...]) -> str:
    """A Chinese message if one of the demo's ports cannot be listened on, else ""."""
    for port, option in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                return PortUnavailable(host, port, exc, who="演示", option=option).message
    return ""


__all__ = ["prepare_station", "run_demo", "start_demo_hub"]
