"""The county's ledger on paper: its due dates say which are provisional, as the station's do."""

from __future__ import annotations

import datetime as dt

from printouts.data import StationInfo
from printouts.sheets import ledger
from rules.periods import Period
from sync.hub.services import ledger as county_ledger
from tests.fixtures.hub import case_snapshot
from tests.fixtures.pdf import flat, pdftotext


def test_the_countys_ledger_marks_a_due_date_counted_through_a_year_without_holidays(hub_app, station_a, make_event):
    """A 法定 date in January 2027, counted Monday to Friday (元旦 a working day), printed as firm as any other
    beside the ledger's own footnote: 期限后带“*”的为暂定期限."""
    event = make_event(payload=case_snapshot(received_at="2026-12-21T09:30:00+08:00", statutory_due="2027-01-19",
                                             committed_due="2026-12-28"))
    assert station_a.results([event])[0]["status"] == "accepted"
    with hub_app.app_context():
        [row] = county_ledger.rows(Period("day", dt.date(2026, 12, 21), dt.date(2026, 12, 21)))
        text = flat(pdftotext(ledger(StationInfo(name="县级政务服务平台（全县）", code="COUNTY"), dt.date(2026, 12, 21), [row])))
    assert "2027-01-19*" in text and "2026-12-28*" not in text and "2026-12-28" in text
