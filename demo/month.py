"""A month of cases for the demo, taken through the real services (intake, sync, county decisions).

A newcomer's demo with no cases shows empty lists, ledgers and charts. This module plays a month
of a village station's work: residents come in on working days, agents take the applications
with `services.intake` (some 一次性告知, some 容缺, some 告知承诺), sync pushes them to the county
hub, a county clerk decides them with `sync.hub.services.decisions` (受理, 补正, 不予受理, 办结,
dated on the day the clerk would have acted), the station pulls the decisions back, 容缺 materials
arrive, results are handed over, and one last sync carries that up. Nothing is written as raw rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from stdnum.cn import ric

from station.extensions import db
from station.models import Case, CaseMaterial, ServiceItem, User
from station.samples import complete_form
from station.services import cases, evaluations, follow_up, intake, personal
from station.services.calendar import load_calendar
from station.services.catalog import current_items, materials_of
from station.services.errors import DomainError
from station.sync_hooks import station_hooks
from sync.hub.extensions import db as hub_db
from sync.hub.models import HubCase
from sync.hub.models import Remedy as HubRemedy
from sync.hub.services import county_settings
from sync.hub.services import decisions as hub_decisions
from sync.hub.services import remedies as hub_remedies
from sync.jobs import sync_round

log = logging.getLogger(__name__)

#: The demo station's township and the villages it serves (统计用区划代码, 东关镇 = 141081102).
VILLAGES = {
    "141081102201": "东关村",
    "141081102202": "西关村",
    "141081102203": "南街村",
    "141081102204": "北庄村",
    "141081102205": "柳树湾村",
    "141081102206": "杏花村",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = ("秀英", "桂英", "建国", "志强", "淑珍", "玉兰", "明", "军", "丽", "勇", "静", "海燕", "国华", "德胜",
         "翠花", "红梅", "振华", "春生", "凤英", "长顺", "永福", "金凤", "俊杰", "晓东")
PROXY_NAMES = ("王代办", "赵代办")
NOTES = ("申请人来电询问进度，已告知预计办结时间。", "已电话通知申请人补交户口簿复印件，申请人称下周一送来。",
         "材料原件已核验退回申请人。", "申请人行动不便，结果由代办员上门送达。")


@dataclass
class MonthSummary:
    """What the month left behind, for the demo's banner and the tests."""

    cases: int = 0
    cross_area: int = 0  # of them, 跨域办 cases forwarded to the neighbouring county
    by_status: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def _id_number(rng: random.Random, n: int) -> str:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 60 * 365))
    body = f"141081{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _working_days(today: dt.date, span: int) -> list[dt.date]:
    calendar = load_calendar()
    days = [today - dt.timedelta(days=k) for k in range(span, 0, -1)]
    return [d for d in days if calendar.is_workday(d)] or [today - dt.timedelta(days=1)]


def _form(rng: random.Random, item: Any, n: int, day: dt.date, fate: str) -> dict[str, str]:
    """The intake form for one resident; `fate` picks which materials are missing, deferred or promised."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    village = rng.choice(list(VILLAGES))
    data = complete_form([item], _id_number(rng, n), name, applicant_area_code=village,
                         applicant_address=f"示范县东关镇{VILLAGES[village]}{rng.randint(1, 9)}组{rng.randint(1, 60)}号",
                         applicant_phone=f"139{rng.randint(10000000, 99999999)}")
    if item.proxy_allowed and rng.random() < 0.35:
        proxy = _id_number(rng, n + 500)
        data.update(mode="proxy", proxy_name=rng.choice(PROXY_NAMES), proxy_id_number=proxy,
                    proxy_phone="13800000001", proxy_relation="村代办员", authorization="signed")
    materials = materials_of(item)
    if fate == "not_collected":
        essential = [m for m in materials if m.essential]
        data[f"mat__{rng.choice(essential).key}__status"] = "missing"
    elif fate == "deferred":
        m = next(m for m in materials if m.deferrable)
        limit = intake.deferral_limit([item], day, load_calendar())
        data[f"mat__{m.key}__status"] = "deferred"
        data[f"mat__{m.key}__due"] = min(limit, day + dt.timedelta(days=5)).isoformat() if limit else ""
    elif fate == "commitment":
        m = next(m for m in materials if m.commitment)
        data[f"mat__{m.key}__status"] = "commitment"
    return data


def take_applications(app: Flask, count: int, today: dt.date, rng: random.Random) -> list[str]:
    """`count` applications over the last month's working days, oldest first; return the case ids."""
    with app.app_context(), db.connection_context():
        agents = list(User.select().where(User.role == "agent").order_by(User.id))
        # this county's own items: a neighbouring county's (跨域办) are taken apart, take_cross_area
        items = [i for i in current_items() if materials_of(i) and not i.handling_area]
        days = _working_days(today, 30)
        stamps = sorted(dt.datetime.combine(rng.choice(days), dt.time(8, 30))
                        + dt.timedelta(minutes=rng.randrange(0, 8 * 60)) for _ in range(count))
        ids = []
        for n, at in enumerate(stamps):
            roll = rng.random()
            item = rng.choice(items)
            mats = materials_of(item)
            deferrable = item.kind == "committed" and any(m.deferrable for m in mats)
            if roll < 0.08:
                fate = "not_collected"
            elif roll < 0.30 and deferrable:
                fate = "deferred"
            elif roll < 0.36 and any(m.commitment for m in mats):
                fate = "commitment"
            else:
                fate = "complete"
            data = _form(rng, item, n, at.date(), fate)
            try:
                draft = intake.check_input([item], data, at.date())
                [case] = intake.create_cases([item], draft, rng.choice(agents), allow_duplicate=True, received_at=at)
            except DomainError as exc:  # a catalog quirk: skip that resident rather than stop the demo
                log.info("demo intake skipped: %s", exc.message)
                continue
            ids.append(case.id)
    return ids


def take_cross_area(app: Flask, item_name: str, count: int, today: dt.date, rng: random.Random) -> list[str]:
    """`count` complete applications for the 跨域办 item ``item_name`` over the last few working days."""
    with app.app_context(), db.connection_context():
        agent = User.select().where(User.role == "agent").order_by(User.id).first()
        [item] = [i for i in current_items() if i.name == item_name]
        ids = []
        for n, day in enumerate(sorted(rng.choice(_working_days(today, 5)) for _ in range(count))):
            at = dt.datetime.combine(day, dt.time(9, 0)) + dt.timedelta(minutes=rng.randrange(0, 7 * 60))
            draft = intake.check_input([item], _form(rng, item, 900 + n, day, "complete"), day)
            [case] = intake.create_cases([item], draft, agent, allow_duplicate=True, received_at=at)
            ids.append(case.id)
    return ids


def sync_once(app: Flask) -> None:
    """One real sync round (push, then pull the county's decisions)."""
    with app.app_context(), db.connection_context():
        summary = sync_round(app, station_hooks(app))
    if summary is not None and summary.error:
        raise RuntimeError(f"demo sync failed: {summary.error}")


def forward_to_peers(hub_app: Flask) -> None:
    """One round with the neighbouring county: the 跨域办 events received so far go on to it."""
    for report in hub_app.extensions["peer_rounds"].run_once():
        if report.error:
            raise RuntimeError(f"demo forward to the neighbouring county failed: {report.error}")


def county_decides(hub_app: Flask, today: dt.date, rng: random.Random) -> None:
    """The county clerk works through the month: most cases accepted and completed, some 补正 or refused.

    Each decision is dated a few working days after the case came in (never after today), so the
    actual time used and the on-time rates look like a real month, late cases included.
    """
    with hub_app.app_context(), hub_db.connection_context():
        cases = list(HubCase.select().where(HubCase.status == "submitted").order_by(HubCase.id))
        for case in cases:
            snapshot = case.snapshot or {}
            received = dt.datetime.fromisoformat(str(case.received_at or "")[:19])
            age = (today - received.date()).days
            if age < 2 or (case.station_decision == "deferred" and rng.random() < 0.5):
                continue  # the last two days' cases, and some 容缺 ones, still wait for the county
            if hub_decisions.decided_elsewhere(case):
                continue  # 跨域办: the neighbouring county decides it
            def on(days: int, received: dt.datetime = received, age: int = age) -> dt.datetime:
                moment = received + dt.timedelta(days=min(days, age), hours=rng.randint(0, 3))
                while moment.weekday() >= 5 and moment.date() < today:  # the county works on weekdays
                    moment += dt.timedelta(days=1)
                return moment.astimezone(dt.UTC).replace(tzinfo=None)
            roll = rng.random()
            if roll < 0.06:
                hub_decisions.decide(case.case_id, hub_decisions.DecisionInput(
                    kind=hub_decisions.REJECT, reason="不符合申请条件：申请人户籍不在本县"), clerk="county", at=on(2))
                continue
            if roll < 0.16:
                keys = [m.get("key") for m in snapshot.get("materials") or [] if isinstance(m, dict) and m.get("key")]
                hub_decisions.decide(case.case_id, hub_decisions.DecisionInput(
                    kind=hub_decisions.SUPPLEMENT, supplement_keys=tuple(keys[:1]), reason="复印件不清晰，请补正"),
                    clerk="county", at=on(1))
                continue
            hub_decisions.decide(case.case_id, hub_decisions.DecisionInput(kind=hub_decisions.ACCEPT),
                                 clerk="county", at=on(1))
            committed = case.committed_due
            limit = (committed - received.date()).days if committed else 10
            finish = rng.choice((max(1, limit // 3), max(1, limit // 2), limit, limit + 4))  # a few late
            if finish <= age and rng.random() < 0.8:
                approved = rng.random() < 0.92
                hub_decisions.decide(case.case_id, hub_decisions.DecisionInput(
                    kind=hub_decisions.COMPLETE, result="approved" if approved else "denied",
                    result_text="" if approved else "经审核不符合补贴条件",
                    certificate_no=f"ZS{case.id:06d}" if approved else None), clerk="county", at=on(finish))


def station_follows_up(app: Flask, today: dt.date, rng: random.Random) -> None:
    """容缺 materials arrive (mostly on time) and most results are handed over."""
    with app.app_context(), db.connection_context():
        clerk = User.get(User.username == "clerk")
        for material in (CaseMaterial.select().join(Case)
                         .where((CaseMaterial.status == "deferred") & (Case.status.in_(("deferred", "accepted",
                                                                                          "collected"))))):
            if rng.random() < 0.7:
                case = material.case
                late = rng.random() < 0.2
                day = material.due_date + dt.timedelta(days=2) if late else case.received_at.date() + dt.timedelta(days=1)
                if day >= today:
                    continue
                at = dt.datetime.combine(day, dt.time(10, 0))
                follow_up.record_arrival(case, clerk, material.id, "original_seen", at=at)
        for case in Case.select().where(Case.status.in_(("accepted", "supplement"))):
            if rng.random() < 0.15:
                cases.add_note(case, clerk, rng.choice(NOTES))
        for case in Case.select().where(Case.status == "completed"):
            if rng.random() < 0.75:
                follow_up.record_handover(case, clerk, follow_up.HandoverInput(
                    method="window", collector_kind="applicant", collector_id_number=personal.applicant_id_number(case)),
                    today=today)


#: 好评 at the kiosk: level, chance, the reason tags a resident sometimes ticks.
GOOD_RATINGS = (("very_satisfied", 0.66, ("fast", "kind", "clear")), ("satisfied", 0.27, ("fast", "kind")),
                ("basically_satisfied", 0.07, ("slow", "unclear")))
#: The month's two 差评 (不满意): the tag and the resident's own words.
BAD_RATINGS = (("slow", "上午排队等了一个多小时才轮到，窗口只有一个人在办。"),
               ("unclear", "第一次来没告诉要带户口簿原件，又跑了一趟。"))


def residents_rate(app: Flask, rng: random.Random) -> int:
    """Most residents rate the intake on the hall tablet as they leave, a few do not; two are unhappy.

    Each rating is dated a few minutes after the case came in; the two 差评 are among the last
    few days' cases, so their 整改 (opened when they reach the county) is still within its deadlines.
    """
    with app.app_context(), db.connection_context():
        rows = list(Case.select(Case.id, Case.received_at, User.username).join(User)
                    .order_by(Case.received_at, Case.id).tuples())
        bad = set(rng.sample([case_id for case_id, *_ in rows[-12:]], k=min(len(BAD_RATINGS), len(rows))))
        bad_words = iter(BAD_RATINGS)
        rated = 0
        for case_id, received, agent in rows:
            if case_id not in bad and rng.random() < 0.25:
                continue  # not everyone stays to rate
            at = received + dt.timedelta(minutes=rng.randint(8, 25))
            if case_id in bad:
                level, (tag, words) = "dissatisfied", next(bad_words)
            else:
                level, tags = rng.choices([(lv, t) for lv, _w, t in GOOD_RATINGS],
                                          weights=[w for _lv, w, _t in GOOD_RATINGS])[0]
                tag, words = (rng.choice(tags) if rng.random() < 0.4 else ""), ""
            kiosk = evaluations.KioskPass(case_id=case_id, visit="intake", agent=agent)
            evaluations.rate_at_kiosk(kiosk, level, tag, words, at=at)
            rated += 1
    return rated


def county_remedies(hub_app: Flask) -> None:
    """The county follows up its 差评: the older one called back, put right and closed; the newer one
    assigned and called back, the fix still to come (整改中)."""
    with hub_app.app_context(), hub_db.connection_context():
        opened = list(HubRemedy.select().order_by(HubRemedy.opened_at, HubRemedy.id))
        for n, remedy in enumerate(opened):
            hub_remedies.assign(remedy.id, "county", by="county")
            hub_remedies.add_contact(remedy.id, "phone", "已电话联系群众致歉，听取具体情况，承诺三个工作日内答复。",
                                     by="county")
            if n == 0:
                hub_remedies.record_fix(remedy.id, "窗口高峰时段增派一名代办员，收件时按一次性告知单逐项讲清所需材料。",
                                        by="county")
                hub_remedies.record_answer(remedy.id, "群众表示认可，下次再来办事没有再排长队。", by="county")
                hub_remedies.close(remedy.id, "已回访，群众满意，整改办结。", by="county")


def county_settings_for_demo(app: Flask, hub_app: Flask) -> None:
    """The county names the villages and sets an assessed limit per item (a few days inside the
    committed one); both reach the station on its next pull, as county settings do."""
    with app.app_context(), db.connection_context():
        limits = {i.item_code: max(1, i.committed_value - 3) if i.committed_value > 3 else i.committed_value
                  for i in current_items() if i.committed_unit == "working_days"}
    with hub_app.app_context(), hub_db.connection_context():
        county_settings.set_area_names(VILLAGES, clerk="county")
        county_settings.set_assessed_days(limits, clerk="county")


def seed_month(app: Flask, hub_app: Flask, count: int = 150, *, today: dt.date | None = None,
               seed: int = 13, cross_area: tuple[str, int] | None = None) -> MonthSummary:
    """Play a month at the station and the county; a station that already has cases is left alone.

    ``cross_area`` (item name, count): that many 跨域办 applications, forwarded by the county to the
    neighbouring county that handles them (demo/peer_county.py), where they wait for its clerk.
    """
    started = time.perf_counter()
    summary = MonthSummary()
    today = today or dt.date.today()
    with app.app_context(), db.connection_context():
        if Case.select().exists():  # a demo run again: its banner still tells what the month left
            summary.by_status = Counter(c.status for c in Case.select(Case.status))
            summary.cases = sum(summary.by_status.values())
            if cross_area:
                summary.cross_area = (Case.select().join(ServiceItem)
                                      .where(ServiceItem.name == cross_area[0]).count())
            return summary
    rng = random.Random(seed)
    county_settings_for_demo(app, hub_app)
    take_applications(app, count, today, rng)
    if cross_area:
        summary.cross_area = len(take_cross_area(app, *cross_area, today, rng))
    sync_once(app)
    if cross_area:
        forward_to_peers(hub_app)  # the county forwards them now
    county_decides(hub_app, today, rng)
    sync_once(app)
    station_follows_up(app, today, rng)
    residents_rate(app, rng)
    sync_once(app)
    county_remedies(hub_app)
    sync_once(app)  # the station shows the county's 整改 of its 差评
    if cross_area:
        forward_to_peers(hub_app)  # their ratings too: nothing left waiting at the county
    with app.app_context(), db.connection_context():
        summary.by_status = Counter(c.status for c in Case.select(Case.status))
    summary.cases = sum(summary.by_status.values())
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["VILLAGES", "MonthSummary", "seed_month"]
