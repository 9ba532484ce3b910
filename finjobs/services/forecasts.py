"""Spending forecasts: load a user's posted expenses, forecast them (Prophet adapter), store the result in
forecast_results and the Redis cache forecast:{user_id}, read them back, and fan out the weekly run.
Touches the database (transactions, categories, forecast_results), Redis (that key, RQ enqueue).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from sqlalchemy import delete, distinct, event, func, select
from sqlalchemy.orm import Session

from finjobs.db.models import Category, Transaction, User, utcnow
from finjobs.db.models import ForecastResult as ForecastRow
from finjobs.domain import forecasting as fc
from finjobs.domain import recurring as rc
from finjobs.domain.money import to_minor
from finjobs.errors import InputError, NotFound
from finjobs.queue import keys
from finjobs.queue.catalogue import FORECAST_CATEGORY, FORECAST_SPENDING
from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import fetch_job

HORIZON_DAYS = 90
VALID_FOR = dt.timedelta(days=7)
TOP_CATEGORIES = 5
CATEGORY_WINDOW_DAYS = 90  # top categories rank spend over the 90 days before today
RECENT_ACTIVITY = dt.timedelta(days=7)  # the weekly run covers users with transactions created this week

KIND_SPENDING = "spending"
KIND_CATEGORY = "category"
KINDS = (KIND_SPENDING, KIND_CATEGORY)

JOB_SPENDING = FORECAST_SPENDING.path
JOB_CATEGORY = FORECAST_CATEGORY.path
QUEUE = FORECAST_SPENDING.queue

_LIVE = {"queued", "started", "scheduled", "deferred"}
_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class StoredForecast:
    """One forecast run as stored: the forecast_results row and the domain result it holds."""

    id: int
    user_id: int
    kind: str  # KIND_SPENDING | KIND_CATEGORY
    category: str | None
    valid_until: dt.datetime
    result: fc.ForecastResult

    def summary(self) -> dict[str, Any]:
        return {
            "forecast_id": self.id,
            "user_id": self.user_id,
            "kind": self.kind,
            "category": self.category,
            "model": self.result.model,
            "skip_reason": self.result.skip_reason,
            "valid_until": self.valid_until.isoformat(),
        }


@dataclass(frozen=True)
class QueuedForecast:
    """A forecast job put on forecast-compute."""

    job_id: str
    kind: str
    category: str | None
    priority: str
    rq_queue: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- loading -----------------------------------------------------------------------------------


def expense_points(
    session: Session, user_id: int, *, category: str | None = None, preferred_currency: str = "USD"
) -> tuple[list[fc.Point], str, int]:
    """expense_txns as (date, spend in minor units > 0) points."""
    txns, currency, left_out = expense_txns(
        session, user_id, category=category, preferred_currency=preferred_currency
    )
    return [(t.date, -t.amount_minor) for t in txns], currency, left_out


def expense_txns(
    session: Session, user_id: int, *, category: str | None = None, preferred_currency: str = "USD"
) -> tuple[list[rc.Txn], str, int]:
    """A user's posted expenses (amount < 0) as recurring.Txn values, optionally for one category
    (transactions.category_id).

    Returns (points, currency, left_out): amounts in different currencies cannot be added, so the series
    keeps the currency most of the user's expenses are in (ties: `preferred_currency`) and counts the
    transactions in other currencies it left out.
    """
    stmt = select(
        Transaction.id,
        Transaction.date,
        Transaction.amount_minor,
        Transaction.currency,
        Transaction.description,
    ).where(
        Transaction.user_id == user_id,
        Transaction.amount_minor < 0,
        Transaction.status == "posted",
    )
    if category is not None:
        stmt = stmt.join(Category, Category.id == Transaction.category_id).where(
            Category.user_id == user_id, Category.name == category
        )
    rows = session.execute(stmt).all()
    counts = Counter(row.currency for row in rows)
    if not counts:
        return [], preferred_currency, 0
    top = max(counts.values())
    currency = preferred_currency if counts.get(preferred_currency) == top else counts.most_common(1)[0][0]
    txns = [rc.Txn(r.id, r.date, r.amount_minor, r.description or "") for r in rows if r.currency == currency]
    return txns, currency, len(rows) - len(txns)


def top_categories(
    session: Session, user_ids: Iterable[int], *, today: dt.date, limit: int = TOP_CATEGORIES
) -> dict[int, list[tuple[int, str]]]:
    """Per user, the (category id, name) of the `limit` categories with the most posted spend in the
    CATEGORY_WINDOW_DAYS days before `today`; biggest first, ties by name."""
    ids = sorted(set(user_ids))
    spend: dict[int, list[tuple[int, str, int]]] = {uid: [] for uid in ids}
    total = func.sum(-Transaction.amount_minor)
    for chunk in _chunks(ids):
        stmt = (
            select(Transaction.user_id, Category.id, Category.name, total)
            .join(Category, Category.id == Transaction.category_id)
            .where(
                Transaction.user_id.in_(chunk),
                Category.user_id == Transaction.user_id,
                Transaction.amount_minor < 0,
                Transaction.status == "posted",
                Transaction.date >= today - dt.timedelta(days=CATEGORY_WINDOW_DAYS),
                Transaction.date < today,
            )
            .group_by(Transaction.user_id, Category.id, Category.name)
        )
        for uid, cid, name, amount in session.execute(stmt):
            spend[uid].append((-int(amount), name, cid))
    return {uid: [(cid, name) for _neg, name, cid in sorted(rows)[:limit]] for uid, rows in spend.items()}


def distinct_expense_dates(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Per user, how many distinct dates carry a posted expense (the 60-date rule counts these)."""
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(set(user_ids))):
        stmt = (
            select(Transaction.user_id, func.count(distinct(Transaction.date)))
            .where(
                Transaction.user_id.in_(chunk),
                Transaction.amount_minor < 0,
                Transaction.status == "posted",
            )
            .group_by(Transaction.user_id)
        )
        out.update({uid: int(n) for uid, n in session.execute(stmt)})
    return out


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _IN_CHUNK):
        yield ids[i : i + _IN_CHUNK]


# --- computing and storing -----------------------------------------------------------------------


def forecast_user(
    session: Session,
    redis: Redis,
    user_id: int,
    *,
    today: dt.date,
    kind: str = KIND_SPENDING,
    category: str | None = None,
    now: dt.datetime | None = None,
    horizon: int = HORIZON_DAYS,
) -> StoredForecast:
    """Forecast a user's daily spend (kind "spending") or one category's (kind "category") for `horizon`
    days from `today`; store it and refresh the cache.

    The row replaces the user's previous row of the same (kind, category), so forecast_results holds the
    latest run of each series. With fewer than 60 distinct expense dates the row still gets written, with
    model "none" and the skip reason, so "why is there no forecast?" has an answer. A spending run also
    drops category rows for categories no longer in the user's top 5. The cache forecast:{user_id} is
    rebuilt from the table and written after the session commits (never a forecast the table lacks).
    """
    from finjobs.adapters.prophet_model import forecast_series

    if kind not in KINDS:
        raise InputError(f"forecast kind must be spending or category (got {kind!r})", source="kind")
    if (kind == KIND_CATEGORY) != (category is not None):
        raise InputError("a category forecast needs a category, a spending forecast takes none")
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if category is not None:
        exists = session.scalar(
            select(Category.id).where(Category.user_id == user_id, Category.name == category)
        )
        if exists is None:
            raise NotFound(f"user {user_id} has no category {category!r}")

    txns, currency, left_out = expense_txns(
        session, user_id, category=category, preferred_currency=user.currency
    )
    points, scheduled, paid = fc.split_bills(txns, today=today, horizon=horizon)
    result = forecast_series(
        points, today=today, horizon=horizon, currency=currency, scheduled=scheduled, bill_points=paid
    )
    if left_out:
        note = f"{left_out} transactions in other currencies than {currency} are left out"
        result = dataclasses.replace(result, reason=f"{result.reason}; {note}" if result.reason else note)

    match = ForecastRow.category.is_(None) if category is None else ForecastRow.category == category
    session.execute(
        delete(ForecastRow).where(ForecastRow.user_id == user_id, ForecastRow.forecast_type == kind, match)
    )
    if kind == KIND_SPENDING:
        current = [name for _cid, name in top_categories(session, [user_id], today=today)[user_id]]
        session.execute(
            delete(ForecastRow).where(
                ForecastRow.user_id == user_id,
                ForecastRow.forecast_type == KIND_CATEGORY,
                ForecastRow.category.not_in(current),
            )
        )
    row = ForecastRow(
        user_id=user_id,
        forecast_type=kind,
        category=category,
        model=result.model,
        payload=result.to_dict(),
        valid_until=now + VALID_FOR,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _cache_after_commit(session, redis, user_id, _table_doc(session, user_id))
    return StoredForecast(row.id, user_id, kind, category, row.valid_until, result)


def run_forecast_job(
    session: Session,
    redis: Redis,
    user_id: int,
    *,
    tz: ZoneInfo,
    kind: str = KIND_SPENDING,
    category: str | None = None,
) -> dict[str, Any]:
    """What a forecast job does: forecast for today in `tz`; returns a JSON-ready summary.

    A request that cannot succeed (user or category gone, bad kind) is recorded as the job's result with
    status "rejected" and no retry, as the house rule for InputError says.
    """
    started = time.perf_counter()
    now = utcnow()
    try:
        stored = forecast_user(
            session, redis, user_id, today=now.astimezone(tz).date(), kind=kind, category=category, now=now
        )
    except (InputError, NotFound) as exc:
        return {
            "status": "rejected",
            "user_id": user_id,
            "kind": kind,
            "category": category,
            "error": str(exc),
        }
    return {"status": "done", **stored.summary(), "seconds": round(time.perf_counter() - started, 3)}


# --- the cache and reading -------------------------------------------------------------------------


def _entry(row: ForecastRow) -> dict[str, Any]:
    return {
        **row.payload,
        "kind": row.forecast_type,
        "category": row.category,
        "computed_at": row.created_at.isoformat(),
        "valid_until": row.valid_until.isoformat(),
    }


def _spend_key(entry: dict[str, Any]) -> tuple[Decimal, str]:
    # Categories list biggest predicted spend first (no forecast counts as 0), then by name.
    total = sum((Decimal(d["yhat"]) for d in entry.get("daily") or ()), Decimal(0))
    return (-total, str(entry.get("category") or ""))


def _table_doc(session: Session, user_id: int) -> dict[str, Any]:
    """The cache document, built from forecast_results: the latest row per (kind, category)."""
    rows = session.scalars(
        select(ForecastRow)
        .where(ForecastRow.user_id == user_id)
        .order_by(ForecastRow.created_at.desc(), ForecastRow.id.desc())
    ).all()
    latest: dict[tuple[str, str | None], ForecastRow] = {}
    for row in rows:
        latest.setdefault((row.forecast_type, row.category), row)
    spending = latest.get((KIND_SPENDING, None))
    categories = [_entry(r) for (kind, _c), r in latest.items() if kind == KIND_CATEGORY]
    return {
        "user_id": user_id,
        "spending": _entry(spending) if spending is not None else None,
        "categories": sorted(categories, key=_spend_key),
    }


def _cache_after_commit(session: Session, redis: Redis, user_id: int, doc: dict[str, Any]) -> None:
    """One SET of the whole document once the transaction commits: a reader gets the old document or
    the new one, never a mix, and never a forecast a rolled-back transaction took back."""
    data = json.dumps(doc, separators=(",", ":"))

    def write(_session: Session) -> None:
        redis.set(keys.forecast(user_id), data, ex=keys.FORECAST_TTL)

    event.listen(session, "after_commit", write, once=True)


def invalidate_forecast_cache(redis: Redis, user_id: int) -> None:
    """Drop the cached forecasts (after an import commits): reads fall back to forecast_results until the
    next run. forecast:{user_id} is the only key forecasts use."""
    redis.delete(keys.forecast(user_id))


def read_forecasts(
    session: Session, redis: Redis, user_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The user's spending forecast and category forecasts: from the cache, else from forecast_results.

    From the table each series is its latest row, whether or not still valid. Every entry carries
    `stale` (valid_until has passed), and the document says where it came from (`source`: "cache" or
    "table"). `spending` is None and `categories` empty before the first run.
    """
    now = now or utcnow()
    doc: dict[str, Any] | None = None
    raw = redis.get(keys.forecast(user_id))
    if raw is not None:
        try:
            loaded = json.loads(raw)
        except ValueError:
            loaded = None  # not ours to trust: rebuild from the table
        if isinstance(loaded, dict) and loaded.get("user_id") == user_id:
            doc, source = loaded, "cache"
    if doc is None:
        doc, source = _table_doc(session, user_id), "table"

    def mark(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "stale": dt.datetime.fromisoformat(entry["valid_until"]) <= now}

    spending = doc.get("spending")
    return {
        "user_id": user_id,
        "source": source,
        "spending": mark(spending) if spending else None,
        "categories": [mark(c) for c in doc.get("categories") or ()],
    }


def result_from_payload(payload: dict[str, Any]) -> fc.ForecastResult:
    """A stored payload (ForecastResult.to_dict()) back into the domain value, e.g. to plot it."""
    cur = str(payload.get("currency") or "USD")

    def minor(s: str) -> int:
        return to_minor(s, cur)

    m = payload.get("metrics")
    metrics = (
        fc.Metrics(
            mae=float(minor(m["mae"])),
            mase=m["mase"],
            baseline_mae=float(minor(m["baseline_mae"])),
            baseline_mase=m["baseline_mase"],
            backtest_days=int(m["backtest_days"]),
        )
        if m
        else None
    )
    return fc.ForecastResult(
        model=payload["model"],
        today=dt.date.fromisoformat(payload["today"]),
        currency=cur,
        skip_reason=payload.get("skip_reason"),
        reason=payload.get("reason") or "",
        metrics=metrics,
        daily=tuple(
            fc.DailyPrediction(
                dt.date.fromisoformat(d["date"]), minor(d["yhat"]), minor(d["lower"]), minor(d["upper"])
            )
            for d in payload.get("daily") or ()
        ),
        months=tuple(
            fc.MonthRollup(
                month=r["month"],
                expected=minor(r["expected"]),
                lower=minor(r["lower"]),
                upper=minor(r["upper"]),
                actual_to_date=minor(r["actual_to_date"]),
                predicted_days=int(r["predicted_days"]),
                scheduled=minor(r.get("scheduled") or "0"),
                coverage=float(r.get("coverage") or fc.INTERVAL_WIDTH),
            )
            for r in payload.get("months") or ()
        ),
        scheduled=tuple(
            fc.ScheduledPayment(
                p["payee"],
                dt.date.fromisoformat(p["date"]),
                minor(p["amount"]),
                p["cadence"],
                p.get("status") or "due",
                int(p.get("days_late") or 0),
            )
            for p in payload.get("scheduled") or ()
        ),
        history_days=int(payload.get("history_days") or 0),
        distinct_dates=int(payload.get("distinct_dates") or 0),
    )


# --- enqueueing --------------------------------------------------------------------------------


def _enqueue_fresh(
    redis: Redis, func_path: str, *args: Any, job_id: str, priority: str, description: str
) -> QueuedForecast:
    # A finished or failed job under the same id is deleted first: re-saving over it would leave it in
    # its old registry, where the finished-jobs trim could delete the new run.
    old = fetch_job(redis, job_id)
    if old is not None and str(old.get_status(refresh=True).value) not in _LIVE:
        old.delete()
    job = enqueue(redis, QUEUE, func_path, *args, job_id=job_id, priority=priority, description=description)
    kind = KIND_SPENDING if func_path == JOB_SPENDING else KIND_CATEGORY
    category = str(args[1]) if kind == KIND_CATEGORY else None
    return QueuedForecast(job.id, kind, category, priority, job.origin)


def enqueue_user_forecasts(
    session: Session,
    redis: Redis,
    user_id: int,
    *,
    today: dt.date,
    tag: str,
    priority: str = "high",
    category_priority: str = "high",
) -> list[QueuedForecast]:
    """Queue the user's spending forecast, then one per top-5 category; ids forecast-{user}-{tag}[-c{cat}]
    (idempotent while queued or running). Raises NotFound for an unknown user."""
    if session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}")
    jobs = [
        _enqueue_fresh(
            redis,
            JOB_SPENDING,
            user_id,
            job_id=f"forecast-{user_id}-{tag}",
            priority=priority,
            description=f"spending forecast for user {user_id}",
        )
    ]
    for cid, name in top_categories(session, [user_id], today=today)[user_id]:
        jobs.append(
            _enqueue_fresh(
                redis,
                JOB_CATEGORY,
                user_id,
                name,
                job_id=f"forecast-{user_id}-{tag}-c{cid}",
                priority=category_priority,
                description=f"{name} forecast for user {user_id}",
            )
        )
    return jobs


def enqueue_weekly_forecasts(session: Session, redis: Redis, *, slot: dt.datetime) -> dict[str, int]:
    """The weekly fan-out: users with transactions created in the 7 days before `slot` get a spending
    forecast job (priority normal) and, after all of those, one job per top-5 category (priority low).

    Skipped: users with fewer than 60 distinct expense dates, and users whose latest spending forecast is
    still valid at `slot` (a model "none" row never counts as valid: its user may have imported history
    since). Job ids forecast-{user}-{slot:%Y%m%d}[-c{category id}] make a rerun of the slot a no-op while
    its jobs are live.
    """
    active = sorted(
        session.scalars(
            select(Transaction.user_id)
            .distinct()
            .where(Transaction.created_at >= slot - RECENT_ACTIVITY, Transaction.created_at < slot)
        )
    )
    dates = distinct_expense_dates(session, active)
    enough = [uid for uid in active if dates.get(uid, 0) >= fc.MIN_DISTINCT_DATES]
    valid: set[int] = set()
    for chunk in _chunks(enough):
        valid.update(
            session.scalars(
                select(ForecastRow.user_id)
                .distinct()
                .where(
                    ForecastRow.user_id.in_(chunk),
                    ForecastRow.forecast_type == KIND_SPENDING,
                    ForecastRow.model != fc.MODEL_NONE,
                    ForecastRow.valid_until > slot,
                )
            )
        )
    due = [uid for uid in enough if uid not in valid]
    tag = f"{slot:%Y%m%d}"
    for uid in due:
        _enqueue_fresh(
            redis,
            JOB_SPENDING,
            uid,
            job_id=f"forecast-{uid}-{tag}",
            priority="normal",
            description=f"weekly spending forecast for user {uid}",
        )
    category_jobs = 0
    for uid, cats in top_categories(session, due, today=slot.date()).items():
        for cid, name in cats:
            _enqueue_fresh(
                redis,
                JOB_CATEGORY,
                uid,
                name,
                job_id=f"forecast-{uid}-{tag}-c{cid}",
                priority="low",
                description=f"weekly {name} forecast for user {uid}",
            )
            category_jobs += 1
    return {
        "users": len(due),
        "category_jobs": category_jobs,
        "skipped_short_history": len(active) - len(enough),
        "skipped_still_valid": len(enough) - len(due),
    }
