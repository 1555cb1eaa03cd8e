"""Command line of the reference hub: ``python -m sync.hub init | run | add-station | rotate-secret | create-user | rotate-key``.

    python -m sync.hub init
    python -m sync.hub run [--host H] [--port P] [--threads N]
    python -m sync.hub add-station CODE NAME [--peer] # prints the station's credentials once
    python -m sync.hub add-peer AREA NAME --url URL --as CODE   # 跨域办: the hub handling AREA's items
    python -m sync.hub peers --once                 # forward to every peer, bring decisions back
    python -m sync.hub rotate-secret CODE
    python -m sync.hub add-device CODE NAME         # a second device of the station; prints its credentials once
    python -m sync.hub revoke-device CODE NAME --reason TEXT
    python -m sync.hub list-devices CODE
    python -m sync.hub create-user USERNAME [--password P] [--name NAME] [--role approver|admin]
    python -m sync.hub set-name USERNAME NAME       # the person's name shown as who decided
    python -m sync.hub rotate-key                   # new key, everything sealed again (workers stopped)
    python -m sync.hub purge-personal [--dry-run]   # finished bookings' and visits' residents past retention

Configuration comes from ``instance/hub/config.py`` (or ``HUB_INSTANCE_PATH``), ``HUB_<NAME>``
environment variables and ``DATABASE_URL``. Every command migrates the database first; ``init``
exists to do only that, and alone makes a new hub. Every other command refuses a folder without a
hub (a mistyped ``HUB_INSTANCE_PATH`` served, or filled, a new, empty county).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from peewee import ImproperlyConfigured
from waitress import create_server

from sync import protocol
from sync.hub import create_app
from sync.hub.config import DEFAULT_INSTANCE_PATH, database_location
from sync.hub.database import DatabaseUnavailable
from sync.hub.extensions import db, key_ring
from sync.hub.models import HubUser
from sync.hub.models.users import APPROVER, ROLES
from sync.hub.services import (
    access_log,
    devices,
    holidays,
    licences,
    peer_overview,
    peers,
    resealing,
    retention,
    stations,
    users,
)
from sync.hub.services.errors import HubError, ValidationError
from sync.hub.services.restored import mark_restored
from sync.instance_lock import LockHeld, hold_lock
from sync.malloc_arenas import limit_malloc_arenas
from sync.ports import PortUnavailable
from websec.audit import cli_actor
from websec.command_line import ChineseGroup
from websec.environment import SettingInvalid, cannot_make, check_serving, not_a_folder
from websec.sealing import SealingError, save_key_ring

log = logging.getLogger("sync.hub")

PROG = "python -m sync.hub"
WORKER_LOCK = "hub-workers.lock"  # shared by a node's workers (run), taken alone by rotate-key


def _app(new_hub: bool = False) -> Flask:
    """The hub app, or one Chinese line and exit 1 when its database or key file cannot be opened
    (a county's IT person read a psycopg2 or peewee traceback instead).

    Only ``init`` passes ``new_hub``: every other command refuses a folder holding no hub
    (refuse_a_missing_hub) rather than make a new, empty one there.
    """
    if not new_hub:
        refuse_a_missing_hub()
    try:
        return create_app()
    except (SealingError, SettingInvalid) as exc:  # the key file missing while the database holds sealed
        # data (or not its key); a HUB_ variable of the wrong kind
        _fail(exc.message)
    except DatabaseUnavailable as exc:
        _fail(database_unavailable(exc))
    except (FileExistsError, NotADirectoryError) as exc:  # a mistyped path naming a file: was makedirs' traceback
        _fail(not_a_folder(exc, "HUB_INSTANCE_PATH（或设置 DATABASE_PATH、ATTACHMENT_DIR、KEY_FILE）"))
    except OSError as exc:  # the drive not there, read-only: was makedirs' traceback
        _fail(cannot_make(exc, "HUB_INSTANCE_PATH（或设置 DATABASE_PATH、ATTACHMENT_DIR、KEY_FILE）"))


def database_unavailable(exc: DatabaseUnavailable) -> str:
    """What the operator checks when the hub's database does not open; the address without its password."""
    detail = (str(exc.cause).strip().splitlines() or [type(exc.cause).__name__])[0]
    address = peer_overview.display_url(exc.url) if exc.url else ""
    if isinstance(exc.cause, ImproperlyConfigured):
        return (f"县级平台未能启动：DATABASE_URL {address} 不可用（{detail}）。"
                "请用 postgresql://用户@主机:5432/数据库名（需安装 requirements.txt 中的 PostgreSQL 驱动），"
                "或不设 DATABASE_URL 而用实例文件夹中的 SQLite 文件。")
    where = f"数据库 {address}" if address else "实例文件夹中的 SQLite 数据库"
    return (f"县级平台未能启动：无法打开{where}（{detail}）。请检查数据库服务器是否在运行、"
            "数据库是否已建好、用户名和密码是否正确（DATABASE_URL）。")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(1)


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """县级平台（参考实现）"""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command("init", help="新建县级平台（实例文件夹和数据库），或升级已有的数据库。")
def init_command() -> None:
    """Create the instance folder and migrate the database."""
    app = _app(new_hub=True)
    click.echo(f"县级平台已初始化：{app.instance_path}")


@cli.command("run", help="启动县级平台（waitress）；登记了对端县级平台时，按时转送跨域办办件。")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听的地址；由本机的 HTTPS 代理转发时保持 127.0.0.1")
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True, help="端口")
@click.option("--threads", type=click.IntRange(1), default=24,
              help="waitress 线程数；应多于 ADMISSION_SLOTS，使突发的请求在准入处排队（按时答复 503），"
                   "而不是在 waitress 的队列里无声等待")
@click.option("--connection-limit", type=click.IntRange(1), default=2000,
              help="同时保持的连接数（waitress 默认 100，少于一个县各服务站在两次同步之间保持的连接，"
                   "其余的会在监听队列里无声等待）")
def run_command(host: str, port: int, threads: int, connection_limit: int) -> None:
    """Serve the hub with waitress (and, when peer hubs are registered, forward 跨域办 cases to them)."""
    limit_malloc_arenas()  # before waitress's threads (sync/malloc_arenas.py)
    app = _app()
    try:  # DEBUG or TESTING left on from development (websec.environment.check_serving)
        check_serving(app.config, app.instance_path)
    except SettingInvalid as exc:
        _fail(exc.message)
    try:  # shared with this node's other workers, held for the process's life; rotate-key takes it alone
        app.extensions["worker_lock"] = hold_lock(Path(app.instance_path) / WORKER_LOCK, shared=True)
    except LockHeld:
        _fail(f"县级平台未能启动：本机正在更换密钥（{PROG} rotate-key），请等它完成后再启动。没有做任何改动。")
    try:  # bound before the peer rounds start: a hub that cannot listen forwards nothing either
        server = create_server(app, host=host, port=port, threads=threads, connection_limit=connection_limit,
                               backlog=2048, ident="hub")
    except OSError as exc:
        _fail(PortUnavailable(host, port, exc, who="县级平台", taken_by="另一个县级平台进程").message)
    app.extensions["peer_rounds"].start_schedule()
    log.info("hub listening on http://%s:%d/ (instance %s)", host, port, app.instance_path)
    server.run()


def refuse_a_missing_hub() -> None:
    """Stop any command but ``init`` when the instance folder holds no hub; nothing is created.

    A mistyped HUB_INSTANCE_PATH made a new, empty hub: ``run`` served a county that knew none of
    its stations (credentials refused), ``create-user`` or ``publish-holidays`` said 已创建 / 已发布
    into a hub nobody uses. A hub is its SQLite database there; on PostgreSQL (DATABASE_URL) the
    database cannot tell, so the folder must hold the hub's own files: its settings (config.py), its
    key file or its session secret, as ``init`` (or a county's prepared config.py) leaves it. Only
    ``init`` makes a new hub.
    """
    instance = Path(os.environ.get("HUB_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH).resolve()
    command = click.get_current_context().info_name
    who = "县级平台未能启动" if command == "run" else f"未能执行 {PROG} {command}"
    new_hub = (f"新建县级平台请先执行 {PROG} init（HUB_INSTANCE_PATH 设为同一文件夹）。没有做任何改动。")
    if instance.exists() and not instance.is_dir():
        _fail(not_a_folder(FileExistsError(17, "File exists", str(instance)), "HUB_INSTANCE_PATH "))
    try:  # a setting that cannot work is named first, wherever the folder is
        url, sqlite_file, key_file = database_location(instance)
    except SettingInvalid as exc:
        _fail(exc.message)
    if not instance.is_dir():
        _fail(f"{who}：实例文件夹 {instance} 不存在。请检查 HUB_INSTANCE_PATH 是否写错；{new_hub}")
    if url is None and not (sqlite_file.is_file() and sqlite_file.stat().st_size > 0):
        _fail(f"{who}：实例文件夹 {instance} 中没有县级平台的数据库（{sqlite_file}）。"
              f"请检查 HUB_INSTANCE_PATH（或 DATABASE_PATH）是否写错；{new_hub}")
    if url is not None and not any(path.is_file() for path in (instance / "config.py", key_file,
                                                                 instance / "secret_key")):
        _fail(f"{who}：实例文件夹 {instance} 中没有县级平台（没有设置文件 config.py，也没有密钥文件 "
              f"{key_file.name}）。请检查 HUB_INSTANCE_PATH 是否写错；{new_hub}")


@cli.command("add-station", help="登记服务站，显示其站点密钥（只显示这一次）。")
@click.argument("code")
@click.argument("name")
@click.option("--peer", is_flag=True, help="登记的是向本平台转送跨域办办件的对端县级平台")
def add_station_command(code: str, name: str, peer: bool) -> None:
    """Register a station and print its credentials."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            station, secret = stations.create_station(code, name)
            if peer:
                station.is_peer = True
                station.save()
        except HubError as exc:
            _fail(exc.message)
    click.echo(f"站点已登记：{name}（{code}）")
    click.echo("以下密钥只显示这一次，请录入站点的同步设置：")
    click.echo(f"  station_code = {code}")
    click.echo(f"  station_secret = {secret}")
    click.echo(f"  protocol_version = {protocol.PROTOCOL_VERSION}")
    if peer:  # the secret goes to the other county's hub, not to a station: say where and how
        area = app.config.get("AREA_CODE") or "<本县6位行政区划代码>"
        url = app.config.get("PUBLIC_URL") or "<本平台地址>"
        click.echo("这是对端县级平台的登记：请对端管理员在其平台运行（密钥在提示时输入）：")
        click.echo(f"  python -m sync.hub add-peer {area} <本平台名称> --url {url} --as {code}")


@cli.command("add-peer", help="登记办理行政区划 AREA_CODE 跨域办事项的对端县级平台，及本平台在对端的站点编码和密钥。")
@click.argument("area_code")
@click.argument("name")
@click.option("--url", required=True, help="对端县级平台的地址")
@click.option("--as", "station_code", required=True, help="本平台在对端登记的站点编码")
@click.option("--secret", envvar="HUB_PEER_SECRET", help="不填则提示输入（也可设环境变量 HUB_PEER_SECRET）")
def add_peer_command(area_code: str, name: str, url: str, station_code: str, secret: str | None) -> None:
    """Register the county hub that handles AREA_CODE's 跨域办 items, with this hub's credentials there."""
    app = _app()  # a mistyped HUB_INSTANCE_PATH is refused before the secret is asked for
    secret = secret or click.prompt("对端签发的密钥", hide_input=True)
    with app.app_context(), db.connection_context():
        try:
            peer = peers.add_peer(area_code, name, url, station_code, secret)
        except HubError as exc:
            _fail(exc.message)
    click.echo(f"已登记对端县级平台：{peer.name}（{peer.area_code}，{peer_overview.display_url(peer.url)}）")
    click.echo("运行中的本平台须重启后才按计划与对端同步；在此之前可在“跨域办”页面点“立即同步”，"
               "或运行 python -m sync.hub peers --once。")


@cli.command("peers", help="与各对端县级平台同步一次：转送跨域办事件，带回对端的决定。")
@click.option("--once", is_flag=True, required=True, help="同步一次（唯一的方式，必须加上）")
def peers_command(once: bool) -> None:
    """Forward 跨域办 events to each peer hub and bring its decisions back, once."""
    app = _app()
    with app.app_context(), db.connection_context():
        reports = peers.sync_all()
    for report in reports:
        line = (f"{report.peer}：转送 {report.forwarded} 条，确认 {report.acked} 条，搁置 {report.set_aside} 条，"
                f"附件 {report.files_uploaded} 个，带回决定 {report.decisions_applied} 条，"
                f"物料交接送达 {report.handovers_acked} 条、被拒 {report.handovers_set_aside} 条")
        click.echo(line + (f"；未完成：{report.error}" if report.error else ""))
    if any(r.error for r in reports):
        sys.exit(1)


@cli.command("rotate-secret", help="给服务站换发新的站点密钥（旧密钥立即失效）。")
@click.argument("code")
def rotate_secret_command(code: str) -> None:
    """Issue a new secret for a station."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            secret = stations.rotate_secret(code)
        except HubError as exc:
            _fail(exc.message)
    click.echo(f"站点 {code} 的新密钥（旧密钥已失效）：\n  station_secret = {secret}")


@cli.command("add-device", help="在服务站下登记第二台设备（如上门服务用的笔记本），显示其密钥。")
@click.argument("code")
@click.argument("name")
def add_device_command(code: str, name: str) -> None:
    """Register a second device (e.g. a laptop for home visits) under a station and print its credentials."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            with db.atomic():  # the device and its access-log entry, or neither
                device, secret = devices.add_device(code, name)
                access_log.record(None, "device_add", actor_name=cli_actor(), obj=f"{device.station.code}/{device.number}",
                                  detail=f"登记设备“{device.name}”（第 {device.number} 号），密钥已在命令行显示一次")
        except HubError as exc:
            _fail(exc.message)
    click.echo(f"设备已登记：站点 {code} 的第 {device.number} 号设备“{device.name}”")
    click.echo(f"以下密钥只显示这一次。请在该设备上执行（随后按提示粘贴 device_secret）：\n"
               f"  python -m station link --hub 县级平台地址 --code {code} --device {device.number}")
    click.echo(f"  station_code = {code}")
    click.echo(f"  device = {device.number}")
    click.echo(f"  device_secret = {secret}")


@cli.command("revoke-device", help="立即停用一台设备；站点电脑和其他设备照常。")
@click.argument("code")
@click.argument("name")
@click.option("--reason", required=True, help="停用原因，例如 笔记本遗失")
def revoke_device_command(code: str, name: str, reason: str) -> None:
    """Stop a device at once; the station PC and other devices go on."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            with db.atomic():
                device = devices.revoke_device(code, name, reason)
                access_log.record(None, "device_revoke", actor_name=cli_actor(),
                                  obj=f"{device.station.code}/{device.number}",
                                  detail=f"停用设备“{device.name}”：{device.revoked_reason}")
        except HubError as exc:
            _fail(exc.message)
    click.echo(f"已停用站点 {code} 的第 {device.number} 号设备“{device.name}”（{device.revoked_reason}）")


@cli.command("list-devices", help="列出服务站的设备。")
@click.argument("code")
def list_devices_command(code: str) -> None:
    """List a station's devices."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            rows = devices.list_devices(code)
        except HubError as exc:
            _fail(exc.message)
    if not rows:
        click.echo(f"站点 {code} 没有登记其他设备（只有站点电脑）。")
    for device in rows:
        state = "在用" if device.active else f"已停用（{device.revoked_reason}）"
        seen = f"{device.last_seen_at:%Y-%m-%d %H:%M}" if device.last_seen_at else "从未同步"
        click.echo(f"{device.number:>2}  {device.name}  {state}  最近同步：{seen}")


@cli.command("purge-personal", help="清除超过 PERSONAL_RETENTION_MONTHS 的已结束预约和上门服务中的居民信息（办件档案保留）。")
@click.option("--dry-run", is_flag=True, help="只列出将清除的内容（已遮挡），不做改动")
def purge_personal_command(dry_run: bool) -> None:
    """Clear the residents of finished bookings and home visits older than PERSONAL_RETENTION_MONTHS (cases are kept)."""
    app = _app()
    months = int(app.config["PERSONAL_RETENTION_MONTHS"] or 0)
    if months <= 0:
        _fail("未设置预约和上门服务记录的保存期限（PERSONAL_RETENTION_MONTHS），不清除任何信息。")
    with app.app_context(), db.connection_context():
        if dry_run:
            visits = retention.visit_candidates(months)
            bookings = retention.booking_candidates(months)
        else:
            actor = cli_actor()
            visits = retention.purge_visits(months, actor=actor)
            bookings = retention.purge_bookings(months, actor=actor)  # after the visits: a booking waits for its visit
    for v in visits:
        click.echo(f"上门服务记录\t{v.station}\t{v.visited_on:%Y-%m-%d}\t{v.staff}\t{v.masked_name}\t{v.outcome_name}"
                   f"\t所收办件 {v.cases} 件")
    for b in bookings:
        click.echo(f"预约\t{b.station}\t{b.slot_date:%Y-%m-%d} {b.slot_start}\t{b.code}\t{b.item_name}"
                   f"\t{b.masked_name}\t{b.status_name}")
    verb = "将清除" if dry_run else "已清除"
    click.echo(f"保存期 {months} 个月（{retention.cutoff(months):%Y-%m-%d} 以前）：")
    click.echo(f"上门服务记录：{verb} {len(visits)} 条的服务对象姓名、电话和地址（只含所收办件均已办结的上门服务）。")
    click.echo(f"预约：{verb} {len(bookings)} 个的预约人姓名、电话、住址和备注（只含已取消、未到、所转办件已办结、"
               "所约上门服务已清除，或一直未登记到否的预约）。办件档案不在清除之列。")


@cli.command("create-user", help="添加县级用户（已有的用户：重设密码、修改角色或姓名）。")
@click.argument("username")
@click.option("--password", help="不填则提示输入")
@click.option("--name", default="", help="居民和服务站看到的决定人姓名"
                                          "（默认为登录名）；用于已有用户时修改姓名")
@click.option("--role", type=click.Choice(sorted(ROLES)), default=None,
              help="approver：审批办件（新用户默认）；admin：另可发布事项目录、"
                   "设置服务站；用于已有用户时修改角色")
def create_user_command(username: str, password: str | None, name: str, role: str | None) -> None:
    """Create a county user (or reset their password / change their role)."""
    app = _app()
    if password is None:
        password = click.prompt("密码", hide_input=True)
        if click.prompt("再次输入密码", hide_input=True) != password:
            _fail("两次输入的密码不一致。")
    with app.app_context(), db.connection_context():
        try:
            messages = []
            with db.atomic():  # each change and its access-log entry, or neither
                if HubUser.get_or_none(HubUser.username == username):
                    users.set_password(username, password)
                    access_log.record(None, "password_reset", actor_name=cli_actor(), obj=username,
                                      detail=f"重置用户 {username} 的密码")
                    messages.append(f"已重设用户 {username} 的密码，其已登录的会话全部失效。")
                    if role:
                        users.set_role(username, role)
                        access_log.record(None, "user_role", actor_name=cli_actor(), obj=username,
                                          detail=f"用户 {username} 的角色改为{ROLES[role]}")
                        messages.append(f"用户 {username} 的角色改为{ROLES[role]}。")
                    if name:
                        messages.append(_set_name(username, name))
                else:
                    role = role or APPROVER
                    users.create_user(username, password, name=name, role=role)
                    access_log.record(None, "user_create", actor_name=cli_actor(), obj=username,
                                      detail=f"添加县级用户 {username}（{ROLES[role]}）")
                    messages.append(f"已创建县级用户 {username}（{ROLES[role]}）。")
            for message in messages:
                click.echo(message)
        except HubError as exc:
            _fail(exc.message)


def _set_name(username: str, name: str) -> str:
    users.set_name(username, name)
    name = name.strip()
    access_log.record(None, "user_name", actor_name=cli_actor(), obj=username, detail=f"用户 {username} 的姓名改为{name}")
    return f"用户 {username} 的姓名改为{name}，此后的决定、整改和回访以此姓名显示。"


@cli.command("set-name", help="设置县级用户的真实姓名（显示为决定人），密码和登录不变。")
@click.argument("username")
@click.argument("name")
def set_name_command(username: str, name: str) -> None:
    """Set a county user's real name (shown as who decided), leaving the password and sessions alone."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            with db.atomic():
                message = _set_name(username, name)
            click.echo(message)
        except HubError as exc:
            _fail(exc.message)


def _read_csv_text(csv_file: str, refused: str) -> str:
    """The CSV's text, or a Chinese refusal: Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK,
    which showed the county's clerk a UnicodeDecodeError traceback."""
    try:
        return Path(csv_file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _fail(f"{refused}：{Path(csv_file).name} 不是 UTF-8 编码的文本文件。请在 Excel 中“另存为”，"
              "保存类型选“CSV UTF-8(逗号分隔)”，再用新文件执行本命令。")


@cli.command("import-licences", help="从 UTF-8 编码的 CSV 文件导入已有电子证照（全部导入或全不导入）。")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_licences_command(csv_file: str) -> None:
    """Import existing licences (电子证照) from a UTF-8 CSV into the licence register; all or nothing.

    Columns: kind, number, holder_id_number, holder_name, issuer, issued_on, valid_until (YYYY-MM-DD).
    """
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            added, known = licences.import_csv(_read_csv_text(csv_file, "未导入"))
        except licences.LookupRefused as exc:
            _fail(f"未导入：{exc}")
        access_log.record(None, "licence_import", actor_name=cli_actor(), obj=Path(csv_file).name,
                          detail=f"导入电子证照 {added} 条（已有 {known} 条）")
    click.echo(f"已导入电子证照 {added} 条；已在证照库中的 {known} 条未重复导入。")


@cli.command("publish-holidays", help="向各服务站发布一年的节假日安排（UTF-8 CSV：日期、放假/上班、名称），取代之前发布的。")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def publish_holidays_command(csv_file: str) -> None:
    """Publish one year's holidays to every station (the State Council's 放假安排), replacing an earlier one.

    A UTF-8 CSV, one line per day that differs from Monday–Friday: day (YYYY-MM-DD), kind (放假 or 上班),
    name (元旦, 春节, 春节调休上班 …). Stations count their 暂定 deadlines in that year again on their next sync.
    """
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            year, rows = holidays.parse_csv(holidays.decode_csv(Path(csv_file).read_bytes(), Path(csv_file).name))
            table = holidays.publish(year, rows, cli_actor())
        except ValidationError as exc:
            _fail(f"未发布：{exc.message}")
        access_log.record(None, "holiday_publish", actor_name=cli_actor(), obj=str(year),
                          detail=f"发布{year}年节假日安排（版本 {table.version}，{len(table.days)} 天）")
    click.echo(f"已发布{year}年节假日安排，版本 {table.version}，共 {len(table.days)} 天；各站点下次同步时收到。")


@cli.command("restored", help="从备份恢复县级平台的数据库后、再次启动前执行一次。")
def restored_command() -> None:
    """Run once after restoring the hub's database from a backup, before the hub serves again.

    Every station then checks what the hub still holds of it and sends again what the restore
    lost; the change ids jump past any cursor a station holds (docs/reliability.md).
    """
    app = _app()
    with app.app_context(), db.connection_context():
        payload = mark_restored()
    click.echo(f"已记录数据库恢复（恢复前最后一条更新 {payload['last_change_before']}）。"
               "各服务站下次同步时将核对并补发恢复中丢失的办件记录。")


@cli.command("rotate-key", help="启用新密钥并重新加密全部记录和文件，再删除旧密钥（须先停止所有工作进程）。")
def rotate_key_command() -> None:
    """Make a new key current and seal every record and file again under it; then drop the old keys.

    Stop the hub's workers first: a worker still running holds the old ring in memory and would
    keep sealing with a key this command retires. The new ring (old keys kept) is saved before
    anything is re-sealed, so an interrupted run leaves every record readable; run it again.
    """
    app = _app()
    try:  # held to the end: a worker started meanwhile waits for the rotation, not the other way round
        lock = hold_lock(Path(app.instance_path) / WORKER_LOCK)
    except LockHeld:  # a worker keeps the old ring in memory and would seal new records with a key this
        # command deletes; a second rotation would retire the first one's new key: unreadable either way
        _fail(f"本机的县级平台工作进程仍在运行，或另一个 {PROG} rotate-key 正在运行（{app.instance_path}）："
              "请先停止县级平台的所有工作进程，等另一个更换密钥完成，再执行本命令。没有做任何改动。")
    old = app.extensions["hub_key_ring"]
    ring = old.rotated()
    save_key_ring(ring)  # old keys kept: every record stays readable while the walk runs
    key_ring.initialize(ring)
    app.extensions["hub_key_ring"] = ring
    changed: dict[str, int] = {}
    with app.app_context(), db.connection_context():
        total = sum(resealing.counts().values())
        with click.progressbar(length=total, label="重新加密", show_pos=True) as bar:
            changed = resealing.reseal_everything(app.config["ATTACHMENT_DIR"], bar.update)
        for _ in range(3):  # a record written under the old key meanwhile is caught here
            if not any(resealing.reseal_everything(app.config["ATTACHMENT_DIR"]).values()):
                break
        else:
            _fail("仍有记录在用旧密钥写入：请先停止县级平台的所有工作进程，再运行本命令。")
    retired = ring.retired()
    save_key_ring(retired)
    key_ring.initialize(retired)
    app.extensions["hub_key_ring"] = retired
    click.echo(f"已启用新密钥 {retired.current}，旧密钥已删除。重新加密：站点密钥 {changed['stations']} 个，"
               f"办件 {changed['cases']} 件，事件 {changed['events']} 条，冲突副本 {changed['conflicts']} 份，"
               f"预约 {changed['appointments']} 个，上门服务 {changed['visits']} 次，附件 {changed['files']} 个。")
    click.echo(f"请备份新的密钥文件 {retired.path}（旧备份已无法打开新数据），然后启动县级平台的各工作进程"
               "（本命令须在它们全部停止时运行：仍在运行的进程用的是已删除的旧密钥）。")
    lock.close()
