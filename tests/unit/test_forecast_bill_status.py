"""fc.split_bills: a bill paid today is not expected again, an overdue one says so, one missed by more than
its tolerance is taken as stopped."""

from __future__ import annotations

from datetime import date

from finjobs.domain import forecasting as fc
from finjobs.domain.recurring import Txn


def _rent(months: int, *, last: date) -> list[Txn]:
    """Monthly rent on the 1st for `months` months ending at `last` (a 1st)."""
    out = []
    y, m = last.year, last.month
    for i in range(months):
        out.append(Txn(f"r{i}", date(y, m, 1), -150000, "ACME PROPERTIES RENT", None))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def _rent_rows(scheduled: list[fc.ScheduledPayment]) -> list[tuple[date, int, str, int]]:
    return [(p.day, p.amount, p.status, p.days_late) for p in scheduled if "acme" in p.payee]


def test_rent_due_on_the_1st_is_due_and_not_placed_today():
    history = _rent(6, last=date(2026, 11, 1))
    _points, scheduled, paid = fc.split_bills(history, today=date(2026, 11, 20), horizon=45)
    assert _rent_rows(scheduled) == [
        (date(2026, 12, 1), 150000, "due", 0),
        (date(2027, 1, 1), 150000, "due", 0),
    ]
    assert len(paid) == 6


def test_rent_posted_today_is_paid_today_and_next_month_is_due():
    today = date(2026, 12, 1)
    history = [*_rent(6, last=date(2026, 11, 1)), Txn("today", today, -150000, "ACME PROPERTIES RENT", None)]
    _points, scheduled, _paid = fc.split_bills(history, today=today, horizon=40)
    assert _rent_rows(scheduled) == [(today, 150000, "paid", 0), (date(2027, 1, 1), 150000, "due", 0)]


def test_rent_not_yet_posted_three_days_after_the_1st_is_overdue_on_today():
    today = date(2026, 12, 4)
    _points, scheduled, _paid = fc.split_bills(_rent(6, last=date(2026, 11, 1)), today=today, horizon=40)
    assert _rent_rows(scheduled) == [(today, 150000, "overdue", 3), (date(2027, 1, 1), 150000, "due", 0)]


def test_a_bill_missed_by_more_than_its_tolerance_is_taken_as_stopped_and_not_scheduled():
    # Four days after the 1st the monthly rent (tolerance 3 days) has been missed by its own schedule's
    # standard: a cancelled lease or a moved account, not a payment to put on today and every 1st.
    today = date(2026, 12, 5)
    points, scheduled, paid = fc.split_bills(_rent(6, last=date(2026, 11, 1)), today=today, horizon=40)
    assert _rent_rows(scheduled) == []
    assert len(paid) == 6 and points == []  # its past payments still stay out of the model
    # ... unless it posts today: then it is paid, late
    late = [*_rent(6, last=date(2026, 11, 1)), Txn("today", today, -150000, "ACME PROPERTIES RENT", None)]
    _points, scheduled, _paid = fc.split_bills(late, today=today, horizon=40)
    assert _rent_rows(scheduled) == [(today, 150000, "paid", 4), (date(2027, 1, 1), 150000, "due", 0)]


def test_bill_status_round_trips_through_the_payload():
    from finjobs.services.forecasts import result_from_payload

    today = date(2026, 12, 4)
    _points, scheduled, _paid = fc.split_bills(_rent(6, last=date(2026, 11, 1)), today=today, horizon=40)
    result = fc.ForecastResult(
        model=fc.MODEL_SEASONAL_NAIVE, today=today, currency="USD", scheduled=tuple(scheduled)
    )
    back = result_from_payload(result.to_dict())
    assert _rent_rows(list(back.scheduled)) == _rent_rows(scheduled)
