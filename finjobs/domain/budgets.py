"""Budget rules: which alerts a budget raises today, and its status for the read API.

Pure: stdlib + decimal + dataclasses; values in, values out; `today` is always an argument.

Definitions (the boundaries are part of the contract and are tested):
- In force: is_active, deleted_at is None, start_date <= today <= end_date (both inclusive).
- alert_threshold is a Decimal FRACTION of the amount, 0 < t <= 1 (Decimal("0.80") = 80%).
- exceeded: spent > amount (spending exactly the budget is "on budget", not over).
- warning:  spent >= alert_threshold x amount, and not exceeded.
- days_left = (end_date - today).days: whole days after today; 0 on the last day. Today counts
  as elapsed: days_elapsed = (today - start_date).days + 1, total_days = (end - start).days + 1.
- projection: spent > 50% of amount, days_left < 10, not exceeded, and the straight-line
  projection spent / days_elapsed x total_days > amount. It may fire alongside a warning
  (it adds a forecast the warning does not carry) but never alongside exceeded.
Only the most severe of exceeded / warning fires. A budget of 0 raises only `budget_exceeded`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from finjobs.domain.insights import InsightDraft
from finjobs.domain.money import format_minor
from finjobs.errors import InputError

PROJECTION_MIN_FRACTION = Decimal("0.5")
PROJECTION_DAYS_LEFT_BELOW = 10


@dataclass(frozen=True)
class Budget:
    """A spending limit for one category (or all categories when category_id is None) and period."""

    id: int
    user_id: int
    category_id: int | None
    amount_minor: int
    currency: str
    start_date: date
    end_date: date
    alert_threshold: Decimal = Decimal("0.80")
    is_active: bool = True
    deleted_at: datetime | None = None

    def __post_init__(self) -> None:
        _check(self.amount_minor, self.start_date, self.end_date, self.alert_threshold)


_ZERO, _ONE = Decimal(0), Decimal(1)


def _check(amount_minor: int, start_date: date, end_date: date, alert_threshold: Decimal) -> None:
    if amount_minor < 0:
        raise InputError("budget amount must not be negative", source="amount")
    if end_date < start_date:
        raise InputError("budget ends before it starts", source="end_date")
    if not _ZERO < alert_threshold <= _ONE:
        raise InputError("alert_threshold is a fraction in (0, 1], e.g. 0.80", source="alert_threshold")


def active_budget(
    id: int,
    user_id: int,
    category_id: int | None,
    amount_minor: int,
    currency: str,
    start_date: date,
    end_date: date,
    alert_threshold: Decimal,
) -> Budget:
    """Budget(...) of an active, undeleted budget: the same object after the same checks, about 3x
    cheaper, because it skips the frozen dataclass's per-field setattr (budget evaluation builds up
    to 100,000 at once). tests/unit/test_budgets.py holds it equal to the constructor."""
    _check(amount_minor, start_date, end_date, alert_threshold)
    budget = object.__new__(Budget)
    budget.__dict__.update(
        id=id,
        user_id=user_id,
        category_id=category_id,
        amount_minor=amount_minor,
        currency=currency,
        start_date=start_date,
        end_date=end_date,
        alert_threshold=alert_threshold,
        is_active=True,
        deleted_at=None,
    )
    return budget


def in_force(budget: Budget, today: date) -> bool:
    """Active, not deleted, and today within the period (inclusive at both ends)."""
    return budget.is_active and budget.deleted_at is None and budget.start_date <= today <= budget.end_date


def _days(budget: Budget, today: date) -> tuple[int, int, int]:
    """(days_elapsed, days_left, total_days), clamped to the period for dates outside it."""
    total = (budget.end_date - budget.start_date).days + 1
    elapsed = min(total, max(0, (today - budget.start_date).days + 1))
    left = min(total, max(0, (budget.end_date - today).days))
    return elapsed, left, total


def _percent(spent_minor: int, amount_minor: int) -> Decimal | None:
    if amount_minor <= 0:
        return None
    return (Decimal(spent_minor) * 100 / Decimal(amount_minor)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_EVEN
    )


def _state(budget: Budget, spent_minor: int) -> str:
    if spent_minor > budget.amount_minor:
        return "exceeded"
    if budget.amount_minor > 0 and Decimal(spent_minor) >= budget.alert_threshold * budget.amount_minor:
        return "warning"
    return "ok"


def budget_status(budget: Budget, spent_minor: int, today: date) -> dict[str, Any]:
    """The status read: JSON primitives only, money as decimal strings."""
    elapsed, left, total = _days(budget, today)
    percent = _percent(spent_minor, budget.amount_minor)
    cur = budget.currency
    return {
        "budget_id": budget.id,
        "category_id": budget.category_id,
        "currency": cur,
        "amount": format_minor(budget.amount_minor, cur),
        "spent": format_minor(spent_minor, cur),
        "remaining": format_minor(budget.amount_minor - spent_minor, cur),
        "percent": None if percent is None else str(percent),
        "start_date": budget.start_date.isoformat(),
        "end_date": budget.end_date.isoformat(),
        "days_elapsed": elapsed,
        "days_left": left,
        "total_days": total,
        "in_force": in_force(budget, today),
        "state": _state(budget, spent_minor),
    }


def _draft(
    budget: Budget,
    kind: str,
    severity: str,
    title: str,
    message: str,
    extra: dict[str, Any],
    spent_minor: int,
    today: date,
) -> InsightDraft:
    payload = budget_status(budget, spent_minor, today) | extra
    return InsightDraft(
        type=kind,
        severity=severity,
        user_id=budget.user_id,
        title=title,
        message=message,
        payload=payload,
        dedup_key=f"budget:{budget.id}:{kind}:{budget.start_date.isoformat()}",
    )


def evaluate_budget(
    budget: Budget, spent_minor: int, today: date, category: str | None = None
) -> list[InsightDraft]:
    """Alerts for one budget today: [], [exceeded], [warning], [projection] or [warning, projection].
    `category` is the category's name, for the text (else the text says "category <id>")."""
    if not in_force(budget, today):
        return []
    cur = budget.currency
    amount, spent = budget.amount_minor, spent_minor
    scope = (
        "all spending"
        if budget.category_id is None
        else (category.strip() if category else f"category {budget.category_id}")
    )
    money = f"{format_minor(spent, cur)} of {format_minor(amount, cur)} {cur}"
    pct = _percent(spent, amount)
    elapsed, left, total = _days(budget, today)
    out: list[InsightDraft] = []
    state = _state(budget, spent)
    if state == "exceeded":
        over = format_minor(spent - amount, cur)
        out.append(
            _draft(
                budget,
                "budget_exceeded",
                "critical",
                "Budget exceeded",
                f"You have spent {money} on {scope}: {over} {cur} over budget"
                + (f" ({pct}%)" if pct is not None else "")
                + f", with {left} days left.",
                {"over": over},
                spent,
                today,
            )
        )
        return out
    if state == "warning":
        out.append(
            _draft(
                budget,
                "budget_warning",
                "warning",
                "Budget nearly spent",
                f"You have spent {money} on {scope} ({pct}%, alert at "
                f"{(budget.alert_threshold * 100).normalize():f}%), with {left} days left.",
                {"alert_threshold": str(budget.alert_threshold)},
                spent,
                today,
            )
        )
    if amount > 0 and Decimal(spent) > PROJECTION_MIN_FRACTION * amount and left < PROJECTION_DAYS_LEFT_BELOW:
        # Exact test (spent x total > amount x elapsed); the rounded figure is only for the text.
        projected = (Decimal(spent) * total / elapsed).to_integral_value(rounding=ROUND_HALF_EVEN)
        if spent * total > amount * elapsed:
            proj = format_minor(int(projected), cur)
            out.append(
                _draft(
                    budget,
                    "budget_projection",
                    "info",
                    "On track to overspend",
                    f"At this pace ({money} after {elapsed} of {total} days) you will spend about "
                    f"{proj} {cur} on {scope} by {budget.end_date.isoformat()}, "
                    f"{format_minor(int(projected) - amount, cur)} {cur} over budget.",
                    {"projected": proj},
                    spent,
                    today,
                )
            )
    return out
