"""The demo's second county: a neighbouring county's platform, so 跨域办 can be tried from start to end.

A resident of the demo village whose household is registered in the next county applies there for
that county's 高龄津贴 (异地代收代办). The station takes the case as any other; the demo county
(county A, 141081) forwards it to the neighbouring county's platform (county B, 141082), whose
clerk decides it; the decision comes back through county A to the station. Without a second
county nothing of that could be seen outside the test suite.

County B runs as its own process (``python -m sync.hub run``), as a real neighbouring county does:
two hubs cannot share one interpreter (the hub's database proxy is process-wide). It is prepared by
this module run in a process of its own (``python -m demo.peer_county DIR``), which registers
county A there as a peer and creates B's users and catalog.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.catalog_data import load_demo_catalog

A_AREA, B_AREA = "141081", "141082"
A_NAME, B_NAME = "示范县县级平台", "示范市邻县县级平台"
PEER_CODE = "HUB141081"  # county A, registered as a peer "station" at county B
ITEM_NAME = "高龄津贴申领（户籍在邻县）"
B_DEPARTMENT = "示范市邻县民政局"
B_CLERK = "countyb"
CROSS_AREA_CASES = 4  # taken in the demo month; they wait at county B for the user to decide them


def demo_catalog() -> dict[str, Any]:
    """The demo catalog with one item county B handles (户籍在邻县的高龄津贴): station, A and B publish the same."""
    data = load_demo_catalog()
    base = next(i for i in data["items"] if i["name"] == "高龄津贴申领")
    data["items"].append({
        **base, "name": ITEM_NAME, "short_name": "高龄津贴（邻县户籍）", "item_code": "000113005001",
        "impl_code": base["impl_code"][:-1] + "1", "cross_area": True, "handling_area": B_AREA,
        "handling_area_name": B_DEPARTMENT, "department": B_DEPARTMENT,
        "keywords": [*base.get("keywords", []), "邻县", "异地", "跨域"]})
    data["catalog_version"] = f"{data['catalog_version']}-kuayu"
    return data


def write_area_code(instance: Path, area_code: str) -> None:
    """Give a demo hub its county's code in its instance config, so every later start agrees."""
    instance.mkdir(parents=True, exist_ok=True)
    config = instance / "config.py"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if "AREA_CODE" not in text:
        config.write_text(text + f'AREA_CODE = "{area_code}"\n', encoding="utf-8")


def prepare(instance: Path, clerk_password: str) -> dict[str, str]:
    """County B's platform, made ready (run in its own process): A as its peer, a clerk, the catalog.

    Returns county A's credentials at B (the secret is rotated on every run, as ``add-station``
    does for a station known already).
    """
    from demo.loopback import register_station
    from sync.hub import create_app
    from sync.hub.config import Config
    from sync.hub.extensions import db
    from sync.hub.models import HubUser, Station
    from sync.hub.services import catalog as hub_catalog
    from sync.hub.services.users import create_user

    write_area_code(instance, B_AREA)
    app = create_app(Config, instance)
    secret = register_station(app, PEER_CODE, A_NAME)
    with app.app_context(), db.connection_context():
        Station.update(is_peer=True).where(Station.code == PEER_CODE).execute()  # `add-station --peer`
        if HubUser.get_or_none(HubUser.username == B_CLERK) is None:
            create_user(B_CLERK, clerk_password, name="邻县审批员", role="approver")
        if hub_catalog.current() is None:
            hub_catalog.publish(demo_catalog(), clerk="demo")
    app.extensions["hub_db"].close_all()
    return {"code": PEER_CODE, "secret": secret}


@dataclass
class PeerCounty:
    """County B's platform, served by its own process."""

    url: str
    clerk_user: str
    clerk_password: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_peer_county(base: Path, host: str, port: int, hub_a_app: Any, clerk_password: str) -> PeerCounty:
    """Prepare and start county B on ``port`` (0: a free one) and link county A to it (``add-peer``)."""
    from demo.loopback import free_port, wait_for_port
    from sync.hub.extensions import db
    from sync.hub.services import peers

    instance = (base / "hub-b").resolve()
    env = {**os.environ, "HUB_INSTANCE_PATH": str(instance), "DEMO_PEER_PASSWORD": clerk_password}
    prepared = subprocess.run([sys.executable, "-m", "demo.peer_county", str(instance)], env=env,
                              capture_output=True, text=True, timeout=120)
    if prepared.returncode != 0:
        raise RuntimeError(f"邻县县级平台（演示）未能准备：{prepared.stderr[-2000:]}")
    credentials = json.loads(prepared.stdout.strip().splitlines()[-1])
    port = port or free_port()
    log = base / "hub-b.log"
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "sync.hub", "run", "--host", host, "--port", str(port)],
                                   env={k: v for k, v in env.items() if k != "DEMO_PEER_PASSWORD"},
                                   stdout=out, stderr=subprocess.STDOUT)
    county = PeerCounty(f"http://{host}:{port}", B_CLERK, clerk_password, process, log)
    try:
        wait_for_port(port, 60, process, host)
    except (RuntimeError, TimeoutError):
        county.stop()
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise RuntimeError(f"邻县县级平台（演示）未能在 {host}:{port} 启动：\n{tail}") from None
    with hub_a_app.app_context(), db.connection_context():
        peers.add_peer(B_AREA, B_NAME, county.url, credentials["code"], credentials["secret"])
    return county


def main(argv: list[str]) -> int:
    """``python -m demo.peer_county DIR``: prepare county B in DIR; print A's credentials there as JSON."""
    print(json.dumps(prepare(Path(argv[0]), os.environ["DEMO_PEER_PASSWORD"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
