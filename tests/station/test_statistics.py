"""Every figure on the station's statistics page, checked against a count made here over the raw rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import chinese_calendar

from rules.periods import Period
from rules.privacy import mask_name
from station.extensions import db
from station.services import statistics
from tests.fixtures.month import MonthCopy
from tests.fixtures.station import StationClient

TODAY = dt.date.today()
PERIOD = Period("range", TODAY - dt.timedelta(days=40), TODAY)
OPEN = {"collected", "deferred", "accepted", "supplement"}
CLOSED = {"completed", "rejected", "delivered"}
STATUS_WORDS = {"not_collected": "未收件（一次性告知）", "collected": "已收件", "deferred": "容缺收件",
                "accepted": "已受理", "supplement": "待补正", "rejected": "不予受理", "completed": "已办结",
                "delivered": "已送达"}


def _raw(month: MonthCopy) -> tuple[list[dict], list[dict], dict]:
    with sqlite3.connect(Path(month.station.config["DATABASE"])) as conn:
        conn.row_factory = sqlite3.Row
        cases = [dict(r) for r in conn.execute(
            'SELECT c.*, i.name AS item_name, i.item_code AS code, u.name AS agent_name FROM "case" c '
            "JOIN service_item i ON i.id = c.item_id JOIN user u ON u.id = c.agent_id")]
        materials = [dict(r) for r in conn.execute("SELECT * FROM case_material")]
        settings = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM setting")}
    start, stop = PERIOD.start.isoformat(), (PERIOD.end + dt.timedelta(days=1)).isoformat()
    cases = [c for c in cases if start <= c["received_at"] < stop]
    return cases, materials, settings


def _plus_working_days(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def _compute(month: MonthCopy) -> statistics.Statistics:
    with month.station.app_context(), db.connection_context():
        return statistics.compute(PERIOD, TODAY)


def test_counts_by_item_village_agent_status_mode_and_decision_match_the_rows(month: MonthCopy) -> None:
    import json

    stats = _compute(month)
    cases, materials, settings = _raw(month)
    villages = json.loads(settings["hub.area_names"])  # sent down by the county
    promised = {m["case_id"] for m in materials if m["status"] == "commitment"}

    def decision(c: dict) -> str:
        if c["decision"] == "not_collected":
            return "一次性告知"
        if c["decision"] == "deferred":
            return "容缺"
        return "承诺" if c["id"] in promised else "收件"

    assert stats.total == len(cases) >= 100
    expected = {
        "item": Counter(c["item_name"] for c in cases),
        "village": Counter(villages.get(c["applicant_area_code"], c["applicant_area_code"]) for c in cases),
        "agent": Counter(c["agent_name"] for c in cases),
        "status": Counter(STATUS_WORDS[c["status"]] for c in cases),
        "mode": Counter({"assisted": "帮办", "proxy": "代办"}[c["mode"]] for c in cases),
        "decision": Counter(decision(c) for c in cases),
    }
    for key, counted in expected.items():
        assert dict(stats.table(key).rows) == dict(counted), key
    assert len(expected["village"]) >= 5 and "东关村" in expected["village"]
    assert set(expected["decision"]) == {"一次性告知", "容缺", "承诺", "收件"}


def test_on_time_rates_per_line_match_the_rows(month: MonthCopy) -> None:
    import json

    stats = _compute(month)
    cases, _materials, settings = _raw(month)
    assessed = json.loads(settings["hub.assessed_days"])
    tallies = {line: Counter() for line in ("statutory", "committed", "assessed")}
    for c in cases:
        if c["status"] == "not_collected":
            continue
        received = dt.date.fromisoformat(c["received_at"][:10])
        dues = {"statutory": c["statutory_due"], "committed": c["committed_due"],
                "assessed": _plus_working_days(received, assessed[c["code"]]).isoformat()
                if c["code"] in assessed else None}
        for line, due in dues.items():
            if not due:
                continue
            if c["status"] in CLOSED:
                tallies[line]["on_time" if c["closed_at"][:10] <= due else "late"] += 1
            elif TODAY.isoformat() > due and not (c["status"] == "supplement" and not c["supplemented_at"]):
                tallies[line]["overdue"] += 1  # one waiting for its 补正 materials is paused (DOMAIN.md A.7)
    for figure in stats.on_time:
        t = tallies[figure.line]
        assert (figure.on_time, figure.late, figure.open_overdue) == (t["on_time"], t["late"], t["overdue"]), figure
        assert figure.rate == (t["on_time"] / (t["on_time"] + t["late"]) if t["on_time"] + t["late"] else None)
    assert all(t["on_time"] and t["late"] for t in tallies.values())  # the month has both kinds on every line


def test_deferred_materials_brought_on_time_match_the_rows(month: MonthCopy) -> None:
    stats = _compute(month)
    cases, materials, _settings = _raw(month)
    deferred_cases = {c["id"] for c in cases if c["decision"] == "deferred"}
    rows = [m for m in materials if m["case_id"] in deferred_cases and m["due_date"]]
    on_time = sum(1 for m in rows if m["status"] != "deferred" and m["received_at"] and m["received_at"][:10] <= m["due_date"])
    outstanding = [m for m in rows if m["status"] == "deferred"]
    d = stats.deferred
    assert (d.total, d.on_time, d.late, d.outstanding) == (len(rows), on_time, len(rows) - on_time - len(outstanding),
                                                            len(outstanding))
    assert d.outstanding_overdue == sum(1 for m in outstanding if TODAY.isoformat() > m["due_date"])
    assert d.total and d.on_time


def test_the_30_day_trend_matches_the_rows(month: MonthCopy) -> None:
    stats = _compute(month)
    with sqlite3.connect(Path(month.station.config["DATABASE"])) as conn:
        rows = conn.execute('SELECT received_at, closed_at, status FROM "case"').fetchall()
    received = Counter(r[0][:10] for r in rows)
    closed = Counter(r[1][:10] for r in rows if r[1] and r[2] in CLOSED)
    assert len(stats.trend) == 30 and stats.trend[-1][0] == TODAY
    for day, n_received, n_closed in stats.trend:
        assert (n_received, n_closed) == (received[day.isoformat()], closed[day.isoformat()]), day
    assert sum(n for _d, n, _c in stats.trend) > 50


def test_the_statistics_page_draws_each_chart_with_its_table(month: MonthCopy) -> None:
    clerk = StationClient(month.station.test_client()).login("clerk")
    query = f"period=range&start={PERIOD.start.isoformat()}&end={PERIOD.end.isoformat()}"
    page = clerk.get(f"/reports/?{query}").get_data(as_text=True)
    stats = _compute(month)
    for key in ("trend", "item", "village", "agent", "status", "mode", "decision"):
        box = page.split(f'id="chart-{key}"', 1)[1].split("</div>", 1)[0]
        assert "<svg" in box and f'id="table-{key}"' in box, key
    assert "东关村" in page and "<script src=\"http" not in page
    assert f"共 {stats.total} 件" in page
    assert 'id="table-on-time"' in page and "考核时限" in page


def test_a_bad_period_on_the_statistics_page_says_why(month: MonthCopy) -> None:
    clerk = StationClient(month.station.test_client()).login("clerk")
    page = clerk.get("/reports/?period=range&start=2026-12-01&end=2026-11-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in page


def test_the_warning_list_shows_open_cases_overdue_or_due_soon(month: MonthCopy) -> None:
    clerk = StationClient(month.station.test_client()).login("clerk")
    page = clerk.get("/reports/warnings?days=3").get_data(as_text=True)
    cases, _m, _s = _raw(month)
    overdue = [c for c in cases if c["status"] in OPEN and c["committed_due"] and c["committed_due"] < TODAY.isoformat()]
    assert overdue
    for c in overdue:
        assert c["case_no"] in page
        row = page.split(c["case_no"], 1)[1].split("</tr>", 1)[0]
        assert mask_name(c["applicant_name"]) in row and c["applicant_name"] not in row  # named as every list does
    closed = [c for c in cases if c["status"] in CLOSED]
    assert not any(c["case_no"] in page for c in closed)
    assert "已超期" in page
    bad = clerk.get("/reports/warnings?days=abc", follow_redirects=True).get_data(as_text=True)
    assert "预警天数应为 0 到 30 之间的整数" in bad


def _working_days_between(start: dt.date, end: dt.date) -> int:
    return sum(chinese_calendar.is_workday(start + dt.timedelta(days=k)) for k in range(1, (end - start).days + 1))


def test_each_case_shows_its_four_lines_and_the_working_days_used(month: MonthCopy) -> None:
    import json

    cases, _materials, settings = _raw(month)
    assessed = json.loads(settings["hub.assessed_days"])
    # an item with all four lines (some items have no 承诺时限; which case comes first depends on the day)
    closed = next(c for c in cases if c["status"] in CLOSED and c["code"] in assessed and c["committed_due"])
    clerk = StationClient(month.station.test_client()).login("clerk")
    page = clerk.get(f"/cases/{closed['id']}").get_data(as_text=True)
    lines = page.split('id="four-lines"', 1)[1].split("</dd>", 1)[0]
    received = dt.date.fromisoformat(closed["received_at"][:10])
    used = _working_days_between(received, dt.date.fromisoformat(closed["closed_at"][:10]))
    assert f"实际用时 {used} 个工作日" in lines
    assessed_due = _plus_working_days(received, assessed[closed["code"]])
    assert f"考核时限 {assessed_due.isoformat()}" in lines
    assert f"承诺时限 {closed['committed_due']}" in lines


RATINGS = [("very_satisfied", "", ""), ("satisfied", "kind", ""), ("basically_satisfied", "slow", ""),
           ("dissatisfied", "slow", "等了两个小时"), ("dissatisfied", "attitude", "态度不好"),
           ("very_dissatisfied", "slow", "超过承诺时限仍未办结"), ("satisfied", "", "")]


def test_satisfaction_and_bad_reasons_match_the_ratings(month: MonthCopy) -> None:
    from station.models import Case, User
    from station.services import evaluations

    def in_period() -> list[tuple[str, str, str]]:
        with sqlite3.connect(Path(month.station.config["DATABASE"])) as conn:
            return [r for r in conn.execute("SELECT level, reason_tag, created_at FROM evaluation")
                    if PERIOD.start.isoformat() <= r[2][:10] <= PERIOD.end.isoformat()]

    seeded = len(in_period())  # the demo month's own hall-tablet ratings
    with month.station.app_context(), db.connection_context():
        clerk = User.get(User.username == "clerk")
        cases = [case for case in Case.select().where(Case.status != "not_collected").order_by(Case.id)
                 if not evaluations.rated(case, evaluations.current_visit(case))][:len(RATINGS) + 1]
        for case, (level, tag, text) in zip(cases, RATINGS, strict=False):  # at the hall tablet, now
            token = evaluations.open_kiosk(case, clerk, month.station.secret_key)
            evaluations.rate_at_kiosk(evaluations.read_kiosk(token, month.station.secret_key, 600), level, tag, text)
        long_ago = dt.datetime.combine(PERIOD.start - dt.timedelta(days=3), dt.time(10)).astimezone()
        evaluations.apply_hub_rating(cases[-1].id, {  # on the county's public page, before the period
            "evaluation_id": "01M8SATISFACTION000000000X", "visit": "case", "level": "very_dissatisfied",
            "reason_tag": "fees", "reason_text": "收费", "rated_at": long_ago.isoformat()})
    rows = in_period()
    assert len(rows) == seeded + len(RATINGS)
    words = {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
             "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
    reasons = {("dissatisfied", "slow"): "办理时间长", ("dissatisfied", "attitude"): "服务态度差",
               ("dissatisfied", "unclear"): "材料告知不清、多次跑",  # the demo month's own 差评
               ("very_dissatisfied", "slow"): "超期未办结"}
    bad = [r for r in rows if r[0] in ("dissatisfied", "very_dissatisfied")]
    sat = _compute(month).satisfaction
    assert (sat.total, sat.good, sat.bad) == (len(rows), len(rows) - len(bad), len(bad))
    assert sat.rate == (len(rows) - len(bad)) / len(rows)
    assert dict(sat.levels) == {w: sum(1 for r in rows if r[0] == k) for k, w in words.items()}
    assert dict(sat.bad_reasons) == dict(Counter(reasons[(r[0], r[1])] for r in bad))
    page = StationClient(month.station.test_client()).login("clerk").get(
        f"/reports/?period=range&start={PERIOD.start.isoformat()}&end={PERIOD.end.isoformat()}").get_data(as_text=True)
    for key in ("satisfaction", "bad_reasons"):
        box = page.split(f'id="chart-{key}"', 1)[1].split("</div>", 1)[0]
        assert "<svg" in box and f'id="table-{key}"' in box, key
    assert "<td>服务态度差</td><td>1</td>" in page and f"<td>{(len(rows) - len(bad)) / len(rows):.1%}</td>" in page.split('id="table-satisfaction-summary"')[1]
