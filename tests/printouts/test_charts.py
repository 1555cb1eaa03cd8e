"""Statistics charts as SVG text: one per table plus the trend, titled with the last day they show."""

from __future__ import annotations

import datetime as dt

from printouts.charts import statistics_charts
from rules.periods import Period
from rules.statistics import Counted, Statistics, trend_days


def test_a_running_month_titles_its_trend_with_the_last_day_counted_not_the_month_end():
    today = dt.date(2026, 11, 12)
    month = Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    stats = Statistics(month, total=3, tables=[Counted("item", "按事项", [("高龄津贴申领", 2), ("低保申请", 1)])],
                       trend=[(day, 1, 0) for day in trend_days(today)])
    charts = statistics_charts(stats)
    assert set(charts) == {"item", "trend"}
    assert "近30天收件与办结（至 2026-11-12）" in charts["trend"] and "2026-11-30" not in charts["trend"]
    assert charts["item"].startswith("<svg") and "按事项（件）" in charts["item"] and "高龄津贴申领" in charts["item"]
