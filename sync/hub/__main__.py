"""Command line of the reference hub.

    python -m sync.hub init
    python -m sync.hub run [--host H] [--port P] [--threads N]
    python -m sync.hub add-station CODE NAME        # prints the station's credentials once
    python -m sync.hub rotate-secret CODE
    python -m sync.hub create-user USERNAME [--password P] [--name NAME] [--role approver|admin]

Configuration comes from ``instance/hub/config.py`` (or ``HUB_INSTANCE_PATH``), ``HUB_*``
environment variables and ``DATABASE_URL``. Every command migrates the database first, so a
fresh install needs no separate step; ``init`` exists to do only that.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence

from sync import protocol
from sync.hub import create_app
from sync.hub.models.users import APPROVER, ROLES
from sync.hub.services import stations, users
from sync.hub.services.errors import HubError

log = logging.getLogger("sync.hub")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync.hub", description="县级平台（参考实现）")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the instance folder and migrate the database")
    run = sub.add_parser("run", help="serve the hub with waitress")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8700)
    run.add_argument("--threads", type=int, default=8)
    add = sub.add_parser("add-station", help="register a station and print its credentials")
    add.add_argument("code")
    add.add_argument("name")
    rotate = sub.add_parser("rotate-secret", help="issue a new secret for a station")
    rotate.add_argument("code")
    user = sub.add_parser("create-user", help="create a county user (or reset their password / change their role)")
    user.add_argument("username")
    user.add_argument("--password", help="omit to be prompted")
    user.add_argument("--name", default="")
    user.add_argument("--role", choices=sorted(ROLES), default=None,
                      help="approver: decides cases (default for a new user); "
                           "admin: also publishes catalogs and sets station settings")
    return parser


def _print_credentials(code: str, name: str, secret: str) -> None:
    print(f"站点已登记：{name}（{code}）")
    print("以下密钥只显示这一次，请录入站点的同步设置：")
    print(f"  station_code = {code}")
    print(f"  station_secret = {secret}")
    print(f"  protocol_version = {protocol.PROTOCOL_VERSION}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    try:
        with app.app_context():
            if args.command == "init":
                print(f"县级平台已初始化：{app.instance_path}")
            elif args.command == "add-station":
                _, secret = stations.create_station(args.code, args.name)
                _print_credentials(args.code, args.name, secret)
            elif args.command == "rotate-secret":
                secret = stations.rotate_secret(args.code)
                print(f"站点 {args.code} 的新密钥（旧密钥已失效）：\n  station_secret = {secret}")
            elif args.command == "create-user":
                password = args.password or getpass.getpass("密码：")
                if args.password is None and getpass.getpass("再次输入密码：") != password:
                    print("两次输入的密码不一致。", file=sys.stderr)
                    return 1
                from sync.hub.models import HubUser

                if HubUser.get_or_none(HubUser.username == args.username):
                    users.set_password(args.username, password)
                    print(f"已重设用户 {args.username} 的密码，其已登录的会话全部失效。")
                    if args.role:
                        users.set_role(args.username, args.role)
                        print(f"用户 {args.username} 的角色改为{ROLES[args.role]}。")
                else:
                    role = args.role or APPROVER
                    users.create_user(args.username, password, name=args.name, role=role)
                    print(f"已创建县级用户 {args.username}（{ROLES[role]}）。")
    except HubError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    if args.command == "run":
        from waitress import serve

        log.info("hub listening on http://%s:%d/ (instance %s)", args.host, args.port, app.instance_path)
        serve(app, host=args.host, port=args.port, threads=args.threads, ident="hub")
    return 0


if __name__ == "__main__":
    sys.exit(main())
