"""Known bills on their dates and month ranges from joint sample paths, through real Prophet."""

from __future__ import annotations

import random
from datetime import date

from finjobs.adapters import prophet_model as pm
from finjobs.domain import forecasting as fc
from finjobs.domain.recurring import Txn
from tests.support.forecast_data import spending_history

TODAY = date(2026, 11, 20)


def _history(seed: int) -> list[Txn]:
    raw = spending_history(random.Random(seed), end=TODAY, days=400)
    return [
        Txn(i, t.date, t.amount_minor, t.description)
        for i, t in enumerate(raw)
        if t.status == "posted" and t.amount_minor < 0
    ]


def test_rent_on_the_first_is_forecast_on_the_next_first_not_smeared():
    txns = _history(3)
    rent = next(t for t in txns if t.description == "RENT")
    points, scheduled, paid = fc.split_bills(txns, today=TODAY, horizon=90)
    rents = [p for p in scheduled if p.payee == "rent"]
    assert [p.day for p in rents] == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert all(p.amount == -rent.amount_minor for p in rents)
    assert all(d.day != 1 or v != -rent.amount_minor for d, v in points)  # rent left the model's input

    result = pm.forecast_series(points, today=TODAY, scheduled=scheduled, bill_points=paid)
    by_day = {d.day: d for d in result.daily}
    first = by_day[date(2026, 12, 1)]
    others = [d.yhat for day, d in by_day.items() if day.month == 12 and day.day > 7]
    assert first.yhat >= -rent.amount_minor
    assert max(others) < -rent.amount_minor / 3  # not smeared: ordinary days stay ordinary
    payload = result.to_dict()
    want = {"payee": "rent", "date": "2026-12-01", "cadence": "monthly"}
    assert want.items() <= payload["scheduled"][0].items()
    dec = next(m for m in result.months if m.month == "2026-12")
    assert dec.scheduled >= -rent.amount_minor
    assert dec.lower <= dec.expected <= dec.upper
    assert payload["months"][1]["coverage"] == 0.8


def test_month_range_is_narrower_than_the_sum_of_daily_bands():
    txns = _history(5)
    points, scheduled, paid = fc.split_bills(txns, today=TODAY, horizon=90)
    result = pm.forecast_series(points, today=TODAY, scheduled=scheduled, bill_points=paid)
    for month in result.months[1:]:
        days = [d for d in result.daily if fc.month_key(d.day) == month.month]
        summed = sum(d.upper - d.lower for d in days)
        assert 0 < month.upper - month.lower < summed / 2, (month, summed)
        assert month.upper - month.lower < month.expected  # a range, not "0 to 5x"


def test_baseline_paths_keep_whole_weeks_and_are_seeded():
    series = [(date(2026, 1, 1 + i), (i % 7) * 100) for i in range(28)]
    paths = fc.baseline_paths(series, 10, n=20, seed=1)
    assert paths == fc.baseline_paths(series, 10, n=20, seed=1)
    for p in paths:  # every week drawn is a real weekday-aligned week of the history
        assert p[:7] == [float(((28 + k) % 7) * 100) for k in range(7)]
