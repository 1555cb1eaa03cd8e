"""Operator commands: `python -m station init | create-user | run | demo | link | sync`.

Operators script these; keep the names and flags stable.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from station import create_app
from station.extensions import db

log = logging.getLogger(__name__)


def _app(args: argparse.Namespace) -> Flask:
    if getattr(args, "instance", None):
        os.environ["STATION_INSTANCE"] = os.path.abspath(args.instance)
    return create_app(instance_path=os.environ.get("STATION_INSTANCE"))


def initialise(app: Flask, profile: dict[str, str] | None = None, catalog_path: str | None = None,
               demo_catalog: bool = False) -> dict[str, Any]:
    """Create or upgrade the database (create_app already migrated), seed holidays, load a catalog."""
    from station.catalog_data import load_demo_catalog
    from station.models import CatalogVersion
    from station.services import calendar, catalog, station_info

    with db.connection_context():
        seeded = calendar.seed_holidays()
        if profile:
            station_info.update_profile(**{k: v for k, v in profile.items() if v})
        loaded = None
        if catalog_path:
            loaded = catalog.import_catalog(json.loads(Path(catalog_path).read_text(encoding="utf-8")), "file").version
        elif demo_catalog and CatalogVersion.current() is None:
            loaded = catalog.import_catalog(load_demo_catalog(), "demo").version
        from station.migrate import schema_version

        return {"schema": schema_version(db.obj), "holidays": seeded, "catalog": loaded}


def cmd_init(args: argparse.Namespace) -> int:
    app = _app(args)
    profile = {"code": args.code, "name": args.name, "area_code": args.area_code, "level": args.level}
    try:
        result = initialise(app, profile, args.catalog, args.demo_catalog)
    except Exception as exc:  # noqa: BLE001 - the operator needs the message, not a traceback
        print(f"初始化失败：{getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    print(f"数据库已就绪：{app.config['DATABASE']}（结构版本 {result['schema']}）")
    print(f"节假日数据：{result['holidays']} 条")
    if result["catalog"]:
        print(f"事项目录：{result['catalog']}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from station.services.errors import ValidationFailed
    from station.services.users import create_user

    app = _app(args)
    password = args.password or os.environ.get("STATION_NEW_PASSWORD")
    if not password:
        password = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != password:
            print("两次输入的密码不一致。", file=sys.stderr)
            return 1
    with app.app_context(), db.connection_context():
        try:
            user = create_user(args.username, args.name or args.username, args.role, password)
        except ValidationFailed as exc:
            for message in exc.errors.values():
                print(message, file=sys.stderr)
            return 1
    print(f"已创建用户 {user.username}（{user.role_name}）")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from sync.transport import HubLink

    app = _app(args)
    if not args.hub.startswith(("http://", "https://")):
        print("县级平台地址须以 http:// 或 https:// 开头。", file=sys.stderr)
        return 1
    # from the environment or a prompt, so the secret stays out of the shell history
    secret = args.secret or os.environ.get("STATION_HUB_SECRET") or getpass.getpass("县级平台下发的站点密钥：")
    if len(secret.strip()) < 16:
        print("站点密钥不完整，请核对县级平台打印的密钥。", file=sys.stderr)
        return 1
    with app.app_context(), db.connection_context():
        HubLink(args.hub, args.code, secret.strip()).save()
    print(f"已连接县级平台 {args.hub}（本站编码 {args.code}）")
    return 0


def serve(app: Flask, host: str, port: int) -> None:
    """Serve with waitress (pure Python: runs on a Windows village PC without admin rights)."""
    from waitress import serve as waitress_serve

    start_background_jobs(app)
    # What is loaded by now (fonts, catalog index, templates) lives as long as the process: out
    # of the collector's reach, a collection during a request no longer walks all of it.
    gc.freeze()
    waitress_serve(app, host=host, port=port, threads=4, ident="station")  # a station has a handful of users


def start_background_jobs(app: Flask) -> None:
    """Start the sync scheduler; unlinked, each tick only notes that there is no hub yet."""
    from station.sync_hooks import station_hooks
    from sync.jobs import start_scheduler

    start_scheduler(app, station_hooks(app))


def cmd_run(args: argparse.Namespace) -> int:
    app = _app(args)
    print(f"便民服务站已启动：http://{args.host}:{args.port}/")
    serve(app, args.host, args.port)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from station.demo import run_demo

    return run_demo(args)


def cmd_sync(args: argparse.Namespace) -> int:
    from station.sync_hooks import station_hooks
    from sync.jobs import sync_once_command

    app = _app(args)
    return sync_once_command(app, station_hooks(app), as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m station", description="便民服务站")
    parser.add_argument("--instance", help="instance folder (database, secret, attachments); default ./instance")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create or upgrade the database in place")
    p.add_argument("--code", default="")
    p.add_argument("--name", default="")
    p.add_argument("--area-code", default="")
    p.add_argument("--level", default="")
    p.add_argument("--catalog", help="catalog JSON file to import")
    p.add_argument("--demo-catalog", action="store_true", help="load the shipped demo catalog if none is loaded")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("create-user", help="create a staff account (the first admin)")
    p.add_argument("username")
    p.add_argument("--name", default="")
    p.add_argument("--role", default="admin", choices=["agent", "clerk", "admin"])
    p.add_argument("--password", help="omit to be asked (or set STATION_NEW_PASSWORD)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("run", help="serve the station with waitress")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="a ready-to-try station (and county hub) with demo users and catalog")
    p.add_argument("--dir", default="demo-data")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--hub-port", type=int, default=8090)
    p.add_argument("--no-serve", action="store_true", help="prepare the demo data and exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("link", help="store the county hub link settings")
    p.add_argument("--hub", required=True)
    p.add_argument("--code", required=True)
    p.add_argument("--secret", help="omit to be asked (or set STATION_HUB_SECRET): keeps it out of shell history")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("sync", help="push and pull once")
    p.add_argument("--once", action="store_true", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sync)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a tick every few seconds is noise
    args = build_parser().parse_args(argv)
    return args.func(args)
