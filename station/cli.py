"""Operator commands: `python -m station init | create-user | run | demo | link | sync | rotate-key | purge |
backup | restore | package | bundle export | bundle import | bundle export-return`.

Operators script these; keep the names and flags stable. `--instance DIR` may come before or
after the command name.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from flask import Flask

from rules.privacy import mask_numbers_in
from station import create_app
from station.config import database_file
from station.extensions import db
from station.migrate import DatabaseNewer, UpgradeCopyFailed, UpgradeWhileServing
from station.packaging.build import build_package
from station.packaging.wheelhouse import PLATFORMS, WheelhouseError
from station.services import access_log, backups, protection, retention, shared_case_retention, usb_bundles
from station.services.backups import BackupError
from station.services.errors import ValidationFailed, cannot_write
from station.services.station_info import get_profile
from station.services.users import create_user
from station.serving import serve
from station.setup import initialise
from station.single_instance import AlreadyRunning, hold_instance_lock
from station.sync_hooks import station_hooks
from sync.errors import CredentialsRefused, LinkProblem
from sync.jobs import sync_round
from sync.ports import PortUnavailable
from sync.push import send_heartbeat
from sync.relay import mark_exported
from sync.transport import HubClient, HubLink
from sync.usb_bundle import BundleError
from websec.audit import cli_actor
from websec.command_line import ChineseGroup
from websec.environment import SettingInvalid, cannot_make, check_serving, not_a_folder
from websec.sealing import SealingError
from websec.urls import web_url_problem

log = logging.getLogger(__name__)

PROG = "python -m station"
PORT = click.IntRange(1, 65535)  # port 0 served on a port the operator could not know
INSTANCE_HELP = ("实例文件夹（数据库、密钥、扫描件）；默认为程序旁的 instance/（从源代码文件夹运行时为 ./instance），"
                 "或环境变量 STATION_INSTANCE")


def survive_any_code_page() -> None:
    """Print what the console cannot show as '?' instead of failing with UnicodeEncodeError.

    A Chinese Windows console or a redirected log uses GBK (code page 936), which lacks rare
    characters that occur in names and folder names (𠮷): an operator must still see the rest.
    """
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _remember_instance(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta["station.instance"] = os.path.abspath(value)


def instance_option(envvar: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--instance DIR`, accepted by the group and by every command (either position works)."""
    return click.option("--instance", metavar="DIR", help=INSTANCE_HELP, envvar=envvar, expose_value=False,
                        callback=_remember_instance, is_eager=True)


def _app(new_station: bool = False) -> Flask:
    """The station app for --instance, or one Chinese line and exit 1.

    Only `init` passes `new_station`: every other command refuses a folder without the station's
    database (refuse_a_missing_station) rather than make a new, empty station there.
    """
    if not new_station:
        refuse_a_missing_station(click.get_current_context().meta.get("station.instance"))
    try:
        return create_app(instance_path=click.get_current_context().meta.get("station.instance"))
    except (SealingError, BackupError, DatabaseNewer, UpgradeCopyFailed, UpgradeWhileServing, AlreadyRunning,
            SettingInvalid) as exc:  # no key, a
        # damaged or newer database, no room for the copy before an upgrade, a STATION_ variable of the wrong kind
        _fail(exc.message)
    except (FileExistsError, NotADirectoryError) as exc:  # a mistyped path naming a file: was makedirs' traceback
        _fail(not_a_folder(exc, "--instance（或 STATION_INSTANCE、设置 DATABASE、ATTACHMENT_DIR、KEY_FILE）"))
    except OSError as exc:  # the drive not there, read-only: was makedirs' traceback
        _fail(cannot_make(exc, "--instance（或 STATION_INSTANCE、设置 DATABASE、ATTACHMENT_DIR、KEY_FILE）"))


def _remove_partial(path: str) -> None:
    try:
        os.remove(path)
    except OSError:  # never written, or the stick is gone: nothing to tidy
        pass


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(1)


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@instance_option(envvar="STATION_INSTANCE")  # only the group reads the variable: a command's flag wins
def cli() -> None:
    """便民服务站"""
    survive_any_code_page()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a tick every few seconds is noise


INIT_OPTIONS = {"code": "--code", "name": "--name", "area_code": "--area-code", "level": "--level"}


@cli.command("init", help="新建本站的数据库，或就地升级已有的数据库；可同时填写本站信息、导入事项目录。")
@instance_option()
@click.option("--code", default="", help="本站的站点编码（县级平台登记时给的，4–30位字母、数字或短横线）；不填则不改")
@click.option("--name", default="", help="本站名称，如 东关村便民服务站；不填则不改")
@click.option("--area-code", default="", help="本站的12位统计用区划代码（县6位＋乡镇3位＋村3位）；不填则不改")
@click.option("--level", default="", help="village（村/社区便民服务站）或 township（乡镇/街道便民服务中心）")
@click.option("--catalog", "catalog_path", metavar="FILE", help="要导入的事项目录文件（县级平台下发的 JSON）")
@click.option("--demo-catalog", is_flag=True, help="尚无事项目录时，导入随软件附带的演示目录")
@click.option("--change-level", is_flag=True,
              help="改变已有办件的服务站的层级（村站↔乡镇中心）；不加时 --level 与已有办件的本站层级不同则拒绝")
def init_command(code: str, name: str, area_code: str, level: str, catalog_path: str | None,
                 demo_catalog: bool, change_level: bool) -> None:
    """Create or upgrade the database in place."""
    app = _app(new_station=True)
    profile = {"code": code, "name": name, "area_code": area_code, "level": level}
    try:
        result = initialise(app, profile, catalog_path, demo_catalog, change_level=change_level)
    except ValidationFailed as exc:  # which option is wrong and how: the form's words, one a line
        _fail("初始化失败：\n" + "\n".join(f"  {INIT_OPTIONS.get(field, field)}：{words}"
                                        for field, words in exc.errors.items()))
    except Exception as exc:  # noqa: BLE001 - the operator needs the message, not a traceback
        _fail(f"初始化失败：{getattr(exc, 'message', exc)}")
    click.echo(f"数据库已就绪：{app.config['DATABASE']}（结构版本 {result['schema']}）")
    click.echo(f"节假日数据：{result['holidays']} 条")
    if result["catalog"]:
        click.echo(f"事项目录：{result['catalog']}")


@cli.command("create-user", help="添加工作人员账号（第一个站长账号也用它添加）。")
@instance_option()
@click.argument("username")
@click.option("--name", default="", help="工作人员姓名（默认为登录名）")
@click.option("--role", default="admin", type=click.Choice(["agent", "clerk", "admin"]), show_default=True,
              help="agent：代办员；clerk：窗口人员；admin：站长")
@click.option("--password", envvar="STATION_NEW_PASSWORD", help="不填则提示输入（也可设环境变量 STATION_NEW_PASSWORD）")
def create_user_command(username: str, name: str, role: str, password: str | None) -> None:
    """Create a staff account (the first admin)."""
    app = _app()
    if not password:
        password = click.prompt("密码", hide_input=True)
        if click.prompt("再次输入密码", hide_input=True) != password:
            _fail("两次输入的密码不一致。")
    with app.app_context(), db.connection_context():
        try:
            with db.atomic("IMMEDIATE"):  # the account and its access-log entry, or neither
                user = create_user(username, name or username, role, password)
                access_log.record("user_create", actor_name=cli_actor(), obj=user.username,
                                  detail=f"添加用户 {user.username}（{user.role_name}）")
        except ValidationFailed as exc:
            _fail("\n".join(exc.errors.values()))
    click.echo(f"已创建用户 {user.username}（{user.role_name}）")


@cli.command("run", help="启动服务站（waitress），在浏览器中使用。")
@instance_option()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听的地址；本机以外的电脑也要打开时用 0.0.0.0")
@click.option("--port", type=PORT, default=8080, show_default=True, help="端口（浏览器地址中的数字）")
def run_command(host: str, port: int) -> None:
    """Serve the station with waitress."""
    app = _app()  # refuses a folder without the station (refuse_a_missing_station)
    try:  # DEBUG or TESTING left on from development (websec.environment.check_serving)
        check_serving(app.config, app.instance_path)
    except SettingInvalid as exc:
        _fail(exc.message)
    try:
        serve(app, host, port, listening=lambda: click.echo(f"便民服务站已启动：http://{host}:{port}/"))
    except (AlreadyRunning, PortUnavailable) as exc:
        _fail(exc.message)


def refuse_a_missing_station(instance: str | None) -> None:
    """Stop any command but `init` when the instance folder, or the station database in it, is not
    there; nothing is created.

    A mistyped --instance (or STATION_INSTANCE) made a new, empty station: `run` served one nobody
    could log in to, beside the real one; `backup` backed it up, `create-user` and `link` put an
    account or the county's secret into it. An existing folder without the database (made by hand,
    or the wrong one) did the same. A new station is made by `init` (the installer runs it first).
    """
    folder = instance or Flask("station").instance_path  # create_app's default, worked out creating nothing
    if os.path.exists(folder) and not os.path.isdir(folder):
        return  # a file: create_app says so (not_a_folder)
    ctx = click.get_current_context()
    command = ctx.command_path.removeprefix(ctx.find_root().command_path).strip()  # `backup`, `bundle export`
    who = "便民服务站未能启动" if command == "run" else f"未能执行 {PROG} {command}"
    new_station = f"新装的服务站请先执行 {PROG} --instance {shlex.quote(folder)} init 建立数据库。没有做任何改动。"
    try:  # a setting that cannot work is named first, wherever the folder is
        database = database_file(folder)
    except SettingInvalid as exc:
        _fail(exc.message)
    if os.path.isfile(database) and os.path.getsize(database) > 0:
        return  # the station is its database (STATION_DATABASE may name one outside the folder)
    if not os.path.isdir(folder):
        _fail(f"{who}：文件夹 {folder} 不存在。请检查 --instance 是否写错；{new_station}")
    _fail(f"{who}：文件夹 {folder} 中没有本站的数据库（{database}）。"
          f"请检查 --instance（或设置 DATABASE）是否写错；{new_station}")


@cli.command("demo", help="准备好可以试用的服务站和县级平台（演示账号、演示目录）。")
@click.option("--dir", "data_dir", default="demo-data", show_default=True, help="演示数据放在这个文件夹")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听的地址")
@click.option("--port", type=PORT, default=8080, show_default=True, help="演示服务站的端口")
@click.option("--hub-port", type=PORT, default=8090, show_default=True, help="演示县级平台的端口")
@click.option("--peer-hub-port", type=PORT, default=8091, show_default=True, help="邻县县级平台（跨域办演示）的端口")
@click.option("--no-serve", is_flag=True, help="只准备演示数据，不启动")
@click.option("--cases", type=click.IntRange(0, 20000), default=150, show_default=True,
              help="演示月份中的办件数（已有办件的演示站保留原有办件）")
def demo_command(data_dir: str, host: str, port: int, hub_port: int, peer_hub_port: int, no_serve: bool,
                 cases: int) -> None:
    """A ready-to-try station (and county hub) with demo users and catalog."""
    # Imported here, not at the top: it brings the whole county hub, which a station's own
    # start-up (`run`, `sync`) has no use for.
    from demo.station_and_hub import run_demo

    raise SystemExit(run_demo(data_dir, host, port, hub_port, no_serve, cases, peer_hub_port))


@cli.command("link", help="保存县级平台的连接设置（地址、站点编码、站点密钥），并向县级平台核对。")
@instance_option()
@click.option("--hub", "hub_url", required=True, metavar="URL", help="县级平台的地址（县里给的，https:// 开头）")
@click.option("--code", required=True, help="县级平台登记本站时给的站点编码")
@click.option("--secret", envvar="STATION_HUB_SECRET",
              help="不填则提示输入（也可设环境变量 STATION_HUB_SECRET），密钥不留在命令历史中")
@click.option("--device", type=click.IntRange(0, 99), default=0,
              help="县级平台登记本机时给的设备编号（本站的第二台设备，如上门服务用的笔记本）")
def link_command(hub_url: str, code: str, secret: str | None, device: int) -> None:
    """Store the county hub link settings."""
    app = _app()
    if not hub_url.startswith(("http://", "https://")):
        _fail("县级平台地址须以 http:// 或 https:// 开头。")
    if problem := web_url_problem(hub_url):  # "http://a b" was requests' InvalidURL traceback
        _fail(f"县级平台地址 {hub_url} 有误：{problem}请核对县里给的地址。本站原有的连接设置没有改动。")
    if plain_http_off_machine(hub_url):
        click.secho(
            f"警告：县级平台地址 {hub_url} 使用未加密的 http://，且不是本机地址。"
            "居民的身份证号、电话、住址和扫描件将以明文经过网络，途中任何人都可能看到。"
            "请向县级平台索取 https:// 地址。", fg="red", bold=True, err=True)
    # from the environment or a prompt, so the secret stays out of the shell history
    secret = secret or click.prompt("县级平台下发的站点密钥", hide_input=True)
    if len(secret.strip()) < 16:
        _fail("站点密钥不完整，请核对县级平台打印的密钥。")
    with app.app_context(), db.connection_context():
        own = (get_profile().code or "").strip()
        if own and own != code.strip():  # batch numbers and the county's checks would disagree
            _fail(f"站点编码 {code} 与本站信息中的编码 {own} 不一致，未连接。流转单批次号等都用本站信息中的编码，"
                  "两者不同，县级平台会把本站的材料批次当作别的站点的。请核对县里给的纸：若本站信息填错了，"
                  f"先执行 {PROG} init --code 正确编码 改正，再连接。")
        link = HubLink(hub_url.rstrip("/"), code.strip(), secret.strip(), device)  # as save() stores it
        # tried before it is stored: a mistyped secret or code was saved and said "已连接", and
        # came to light only as the next sync's refusal
        unconfirmed = ""
        try:
            send_heartbeat(HubClient(link, timeout=LINK_CHECK_TIMEOUT), station_hooks(app))
        except CredentialsRefused as exc:
            _fail(f"未连接：{exc.message}本站原有的连接设置没有改动。")
        except LinkProblem as exc:  # no network yet: a station may link first and take cases offline
            unconfirmed = exc.message
        link.save()
    who = f"本站编码 {code}" + (f"，本机为第 {device} 号设备" if device else "")
    if unconfirmed:
        click.echo(f"已保存县级平台连接设置 {hub_url}（{who}），但暂时无法确认：{unconfirmed}"
                   "可以先办件，联网后自动同步；也可稍后执行 sync --once 检查。")
    else:
        click.echo(f"已连接县级平台 {hub_url}（{who}），县级平台已确认本站的站点密钥。")


@cli.command("sync", help="与县级平台同步一次（上传并接收更新）；成功时退出码为 0。")
@instance_option()
@click.option("--once", is_flag=True, required=True, help="同步一次（唯一的方式，必须加上）")
@click.option("--json", "as_json", is_flag=True, help="以一行 JSON 输出同步结果")
def sync_command(once: bool, as_json: bool) -> None:
    """Push and pull once; exit 0 only on success."""
    if not once:
        raise click.UsageError("请加上 --once：本命令只同步一次。")
    app = _app()
    summary = sync_round(app, station_hooks(app))
    if summary is None:
        instance = click.get_current_context().meta.get("station.instance")
        where = f" --instance {shlex.quote(instance)}" if instance else ""
        # no --secret in the hint: the command asks for it, so the secret stays out of the history
        click.echo(f"本站尚未连接县级平台：请先执行 {PROG}{where} link --hub URL --code CODE（随后按提示输入站点密钥）",
                   err=True)
        raise SystemExit(2)
    # a set-aside reason may quote the number the county found wrong: masked like every list, since
    # this output goes to a console and, run by the scheduler, to a log file
    summary.details = [mask_numbers_in(line) for line in summary.details]
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        click.echo(f"上传 {summary.pushed}，县级确认 {summary.acknowledged}（其中重复 {summary.duplicates}），"
                   f"退回 {summary.rejected + summary.conflicts}，接收更新 {summary.pulled}，待同步 {summary.queue_left}")
        for line in summary.details:  # what needs a person: set-aside events, the villages' bundles relayed
            click.echo(f"  {line}")
        if summary.error:
            click.echo(f"同步未完成：{summary.error}", err=True)
    raise SystemExit(1 if summary.error else 0)



LINK_CHECK_TIMEOUT = (3.0, 15.0)  # connect, read: `link` waits at most this long for the county

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def plain_http_off_machine(url: str) -> bool:
    """A plain http:// address to another machine: residents' data would cross the network in clear."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "http" and host not in LOOPBACK_HOSTS and not host.startswith("127.")


@cli.command("rotate-key", help="换用新密钥重新加密全部居民信息（须先关闭服务站）；中断后再执行一次即可继续。")
@instance_option()
def rotate_key_command() -> None:
    """Seal every record again under a new key; run again to finish an interrupted rotation."""
    app = _app()
    try:  # held to the end: a station started meanwhile waits for the rotation, not the other way round
        lock = hold_instance_lock(app.instance_path)
    except AlreadyRunning:  # its process keeps the old ring in memory and would seal new cases with a
        # key this command deletes: unreadable after its next start
        _fail(f"本站正在运行（{app.instance_path}）：请先关闭服务站窗口（BianminStation），再执行密钥轮换。"
              "运行中的服务站仍用旧密钥加密新录入的信息，轮换后这些信息将无法读取。没有做任何改动。")
    with app.app_context(), db.connection_context():
        work = protection.count_work(app.config["ATTACHMENT_DIR"])
        resuming = len(app.extensions["key_ring"].keys) > 1
        click.echo("继续上次未完成的密钥轮换……" if resuming else "正在生成新密钥并重新加密全部居民信息……")
        with click.progressbar(length=work.total, label="重新加密", file=sys.stderr) as bar:
            protection.rotate_key(app.config["ATTACHMENT_DIR"], bar.update)
    lock.close()
    click.echo(f"密钥轮换完成：办件 {work.cases} 件、同步记录 {work.events} 条、扫描件 {work.blobs} 份已使用新密钥。"
               f"请立即备份新的密钥文件 {app.config['KEY_FILE']}（与数据库分开保存），旧的密钥备份已不再需要。")


@cli.command("purge", help="删除超过保存期限（RETENTION_MONTHS）的办件扫描件和完整个人信息，以及上门服务、预约中的居民信息。")
@instance_option()
@click.option("--dry-run", is_flag=True, help="只列出将删除的内容，不做改动")
def purge_command(dry_run: bool) -> None:
    """Remove scans and full personal numbers of cases (and home visits' and bookings' residents) older than RETENTION_MONTHS."""
    app = _app()
    months = int(app.config["RETENTION_MONTHS"] or 0)
    if months <= 0:
        _fail("未设置保存期限（RETENTION_MONTHS），不删除任何信息。")
    with app.app_context(), db.connection_context():
        if dry_run:
            found = retention.candidates(months)
            visits = retention.visit_candidates(months)
            bookings = retention.booking_candidates(months)
            copies = shared_case_retention.candidates(months)
        else:
            found = retention.purge(months, app.config["ATTACHMENT_DIR"], actor=cli_actor())
            visits = retention.purge_visits(months, actor=cli_actor())
            bookings = retention.purge_bookings(months, actor=cli_actor())  # after the visits: a booking waits for its visit
            copies = shared_case_retention.purge(months, actor=cli_actor())
        library = retention.purge_library(app.config["ATTACHMENT_DIR"], dry_run=dry_run, actor=cli_actor())
    for c in found:
        click.echo(f"{c.case_no}\t{c.item_name}\t{c.status_name}\t办结于 {c.closed_at:%Y-%m-%d}\t{c.masked_id}"
                   f"\t扫描件 {c.scans} 份")
    for v in visits:
        click.echo(f"上门服务记录\t{v.visited_on:%Y-%m-%d}\t{v.staff}\t{v.masked_name}\t{v.outcome_name}"
                   f"\t所收办件 {v.cases} 件")
    for b in bookings:
        click.echo(f"预约\t{b.slot_date:%Y-%m-%d} {b.slot_start}\t{b.code}\t{b.item_name}\t{b.masked_name}\t{b.status_name}")
    for s in copies:
        click.echo(f"其他设备办件副本\t{s.case_no}\t{s.item_name}\t{s.masked_id}")
    verb = "将删除" if dry_run else "已删除"
    click.echo(f"保存期 {months} 个月：{verb} {len(found)} 件办件的扫描件和完整个人信息（只含县级平台已确认接收的已办结办件）。")
    click.echo(f"上门服务记录：{verb} {len(visits)} 条的服务对象姓名、电话和地址"
               "（只含县级平台已确认接收、所收办件均已办结的上门服务）。")
    click.echo(f"预约：{verb} {len(bookings)} 个的预约人姓名、电话、住址和备注"
               "（只含县级平台已确认接收、已取消、未到、所转办件已办结或一直未登记到否的预约）。")
    click.echo(f"其他设备办件副本：{verb} {len(copies)} 件的完整个人信息和文字说明（只含县级平台已办结的办件）。")
    click.echo(f"居民材料库：{verb}过期的已核验材料 {library.kept} 份（含扫描件）、"
               f"{retention.LICENCE_CHECK_DAYS} 天前的电子证照查询结果 {library.checks} 条。")


@cli.command("package", help="制作离线安装包文件夹 OUT（Windows x64、Linux x86_64/aarch64 的组件和安装脚本）。")
@click.argument("out", metavar="OUT", type=click.Path(file_okay=False))
@click.option("--platform", "platforms", multiple=True, type=click.Choice(sorted(PLATFORMS)),
              help="只打包这几种电脑（默认三种都打包）")
@click.option("--cache", metavar="DIR", type=click.Path(file_okay=False),
              help="下载过的组件存放在这里，下次打包不再下载（齐全时不用联网）")
@click.option("--python-installer", metavar="FILE", type=click.Path(dir_okay=False, exists=True),
              help="放进安装包的 Python 3.11 安装程序（Windows 用 python-3.11.x-amd64.exe）")
def package_command(out: str, platforms: tuple[str, ...], cache: str | None, python_installer: str | None) -> None:
    """Build the offline installer folder OUT: wheelhouse for Windows x64 and Linux x86_64/aarch64, scripts."""
    try:
        report = build_package(Path(out), list(platforms) or None, cache=Path(cache) if cache else None,
                               python_installer=Path(python_installer) if python_installer else None)
    except WheelhouseError as exc:
        _fail(f"打包失败：{exc.message}")
    except OSError as exc:  # OUT under a file, a full or write-protected stick: was a traceback
        _fail(f"打包失败：{cannot_write(out, exc)}")
    click.echo(f"安装包已生成：{out}（安装包文件夹 {report.wheelhouse_bytes / 1e6:.1f} MB，本软件 {report.project_wheel}）")
    for result in report.platforms:
        note = f"；无安装包、改用纯 Python：{'、'.join(result.pure_python_path)}" if result.pure_python_path else ""
        click.echo(f"  {result.platform.label} · Python {result.python_version}：齐全{note}")
    click.echo("Windows 运行 install.bat，Linux 运行 sh install.sh（见 docs/install.md）。")


@cli.command("backup", help="备份数据库（服务站运行时也可以）、扫描件和密钥文件，保留最新的 BACKUP_KEEP 份。")
@instance_option()
@click.option("--to", "target", metavar="DIR", help="备份文件夹（默认为设置 BACKUP_DIR 或本站设置中的备份文件夹）")
def backup_command(target: str | None) -> None:
    """Copy the database (consistent while the station runs), scans and key file; keep the newest BACKUP_KEEP."""
    app = _app()
    try:
        made = backups.backup_station(app, target)
    except BackupError as exc:
        _fail(f"备份失败：{exc.message}")
    click.echo(f"已备份数据库：{made.database}")
    click.echo(f"扫描件：{made.attachments}")
    click.secho(f"密钥文件：{made.key_file}\n请把密钥文件另存到与数据库备份不同的地方（另一个U盘或上锁的柜子）："
                "没有它，备份中的居民信息无法读取；与数据库放在一起，拿到备份的人就能读取。", fg="yellow", err=True)
    if made.removed:
        click.echo(f"已删除较早的备份 {len(made.removed)} 份（保留最新 {app.config['BACKUP_KEEP']} 份）")


@cli.command("restore", help="把备份恢复到一个新的空文件夹（--instance 新文件夹），不覆盖现有数据库。")
@instance_option()
@click.argument("backup_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--key", "key_file", metavar="FILE", help="备份的密钥文件（另外保存时指明；默认在备份文件旁边）")
def restore_command(backup_file: str, key_file: str | None) -> None:
    """Restore a backup into a new, empty instance folder (--instance NEWDIR)."""
    instance = click.get_current_context().meta.get("station.instance")
    if not instance:
        _fail("请用 --instance 新文件夹 指明恢复到哪里：恢复不会覆盖现有的数据库。")
    try:
        restored = backups.restore(backup_file, instance, key_file)
    except BackupError as exc:
        _fail(f"恢复失败：{exc.message}")
    click.echo(f"已恢复到 {restored}。启动本站（{PROG} --instance {shlex.quote(instance)} run）后，"
               "须先与县级平台同步一次，才能受理新的办件。")


@cli.group("bundle", help="U盘离线包：没有网络的村站经乡镇中心转交县级平台。")
@instance_option()  # `bundle --instance DIR export FILE` too: the flag goes anywhere before or after a name
def bundle_group() -> None:
    """USB bundles (离线包) for a village without a link, relayed by its township."""


@bundle_group.command("export", help="把本站待同步的办件和扫描件加密写入离线包文件 FILE。")
@instance_option()
@click.argument("target", metavar="FILE", type=click.Path(dir_okay=False))
def bundle_export_command(target: str) -> None:
    """Write this station's queued events and scans into FILE, sealed for the county."""
    app = _app()
    partial = target + ".part"
    with app.app_context(), db.connection_context(), click.progressbar(length=100, label="正在导出离线包") as bar:
        def progress(done: int, total: int) -> None:
            bar.update(int(done * 100 / max(total, 1)) - bar.pos)

        try:
            with open(partial, "wb") as out:
                made = usb_bundles.export(out, station_hooks(app), progress,
                                          max_bytes=int(app.config["USB_BUNDLE_MAX_BYTES"]))
            os.replace(partial, target)  # a half-written file never carries the bundle's name
        except BundleError as exc:
            _remove_partial(partial)
            _fail(f"未导出：{exc.message}")
        except OSError as exc:  # no stick, a full or write-protected one: nothing was marked sent
            _remove_partial(partial)
            _fail(f"未导出：{cannot_write(target, exc)}办件仍在待同步队列中，可以再次导出。")
        access_log.record("usb_export", actor_name=cli_actor(), obj=os.path.basename(target),
                          detail=f"第 {made.seq} 号离线包：{made.cases} 件办件、{made.events} 条事件、{made.files} 个扫描件")
    click.echo(f"已导出第 {made.seq} 号离线包到 {target}：{made.cases} 件办件、{made.events} 条事件、"
               f"{made.files} 个扫描件，共 {made.bytes / 1024 / 1024:.1f} MB")
    if made.held_back:
        click.echo(f"有 {len(made.held_back)} 件办件的扫描件在本机缺失，未放入离线包，请重新扫描。", err=True)
    if made.left_for_next:
        click.echo(made.size_message(), err=True)


@bundle_group.command("import", help="乡镇中心：收下村站的离线包待转发；村站：导入县级回执包。")
@instance_option()
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False, exists=True))
def bundle_import_command(source: str) -> None:
    """Township: hold a village's bundle for forwarding. Village: apply the county's return bundle."""
    app = _app()
    with open(source, "rb") as fh, app.app_context(), db.connection_context():  # read in chunks, never whole
        try:
            done = usb_bundles.import_file(fh, station_hooks(app))
        except BundleError as exc:
            _fail(f"未导入：{exc.message}")
        access_log.record("usb_import", actor_name=cli_actor(), obj=os.path.basename(source), detail=done.message())
    click.echo(done.message())


@bundle_group.command("export-return", help="乡镇中心：把县级给某村站（或其设备）的最新回执包写入 FILE。")
@instance_option()
@click.argument("village", metavar="STATION_CODE")
@click.argument("target", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--device", type=click.IntRange(0, 99), default=0, help="村站第二台设备（笔记本）的编号")
def bundle_export_return_command(village: str, target: str, device: int) -> None:
    """Township: write the county's newest return bundle for a village (or its laptop) into FILE."""
    app = _app()
    with app.app_context(), db.connection_context():
        try:
            bundle = usb_bundles.return_bundle(village, device)
        except BundleError as exc:
            _fail(f"未导出：{exc.message}")
        try:
            with open(target + ".part", "wb") as out:
                out.write(bytes(bundle.data))
            os.replace(target + ".part", target)
        except OSError as exc:
            _remove_partial(target + ".part")
            _fail(f"未导出：{cannot_write(target, exc)}回执包仍保存在本中心，可以再次导出。")
        mark_exported(bundle)
        access_log.record("usb_return_export", actor_name=cli_actor(), obj=village,
                          detail=f"{bundle.source} 第 {bundle.seq} 号离线包的回执包")
    click.echo(f"已导出 {bundle.source} 的回执包（答复第 {bundle.seq} 号离线包）到 {target}")
