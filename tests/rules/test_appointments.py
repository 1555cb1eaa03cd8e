"""The county's booking offer as the station and the hub store it (rules/appointments.py)."""

from __future__ import annotations

from rules.appointments import normalise_offer


def test_an_offer_keeps_its_real_days_in_order_and_drops_what_is_not_a_date():
    """A garbled day (a month 13, a 30 February, words) would be offered to residents as a day to book: dropped."""
    offer = normalise_offer({"times": [{"start": "09:00", "end": "10:00", "capacity": 3}],
                             "dates": ["2026-12-03", "2026-13-01", "2026-02-30", "明天", None, "2026-12-01",
                                       "2026-12-03"]})
    assert offer["dates"] == ["2026-12-01", "2026-12-03"]
