"""Slot arithmetic for the schedule table: cron read as wall-clock time in a zone (croniter, DST-safe)
and the missed-slot rule. Pure computation on datetimes; no database, no Redis.

A wall-clock time that does not exist (spring forward, 02:00 -> 03:00) runs at the same distance past
the gap's start, i.e. 02:00 runs at 03:00 local, once; one that exists twice (fall back) runs at its first
occurrence, once. Slots are aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from finjobs.schedule import Schedule

GRACE = timedelta(hours=6)  # a missed slot younger than this runs on start; older ones are `skipped`
MAX_LOOKBACK = timedelta(days=31)  # slots older than this are not even recorded as skipped
_DST_MARGIN = timedelta(hours=3)  # wall-clock window padding; covers any real DST shift


def wall_to_utc(naive: datetime, tz: tzinfo) -> datetime:
    """Wall-clock time in tz -> aware UTC. fold=0: a time in a spring gap moves forward by the gap,
    an ambiguous fall-back time is its first occurrence."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def slots_between(
    cron: str, tz: tzinfo, after: datetime, until: datetime, *, lookback: timedelta = MAX_LOOKBACK
) -> list[datetime]:
    """Every slot s with after < s <= until (aware UTC, ascending, distinct), at most `lookback` old."""
    from croniter import croniter

    lower = max(after, until - lookback)
    it = croniter(cron, _wall(lower, tz) - _DST_MARGIN)
    end = _wall(until, tz) + _DST_MARGIN
    found: set[datetime] = set()
    while True:
        naive = it.get_next(datetime)
        if naive > end:
            break
        instant = wall_to_utc(naive, tz)
        if lower < instant <= until:
            found.add(instant)
    return sorted(found)


def latest_slot(cron: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The most recent slot at or before now (None if the cron never fired within a year)."""
    from croniter import croniter

    it = croniter(cron, _wall(now, tz) + _DST_MARGIN)
    floor = _wall(now, tz) - timedelta(days=366)
    best: datetime | None = None
    while True:
        naive = it.get_prev(datetime)
        if naive < floor:
            return best
        instant = wall_to_utc(naive, tz)
        if instant <= now and (best is None or instant > best):
            best = instant
        # the UTC mapping is monotone except inside a DST gap, so one margin past a hit is enough
        if best is not None and naive < _wall(best, tz) - _DST_MARGIN:
            return best


def next_slots(cron: str, tz: tzinfo, now: datetime, count: int = 3) -> list[datetime]:
    """The next `count` slots strictly after now (aware UTC, ascending)."""
    from croniter import croniter

    it = croniter(cron, _wall(now, tz) - _DST_MARGIN)
    found: set[datetime] = set()
    last_naive: datetime | None = None
    for _ in range(100_000):
        naive = it.get_next(datetime)
        instant = wall_to_utc(naive, tz)
        if instant > now:
            found.add(instant)
        if len(found) >= count and last_naive is None:
            last_naive = naive + _DST_MARGIN  # keep going through a possible gap before stopping
        if last_naive is not None and naive > last_naive:
            break
    return sorted(found)[:count]


def describe(cron: str) -> str:
    """The cron in words (cron-descriptor), e.g. 'At 06:00'."""
    from cron_descriptor import ExpressionDescriptor

    return str(ExpressionDescriptor(cron, use_24hour_time_format=True).get_description())


# ---- the missed-slot rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    schedule: Schedule
    slot: datetime  # aware UTC
    action: str  # "run" | "skip"


def due_slots(
    table: Iterable[Schedule],
    last_seen: Mapping[str, datetime | None],
    now: datetime,
    *,
    tz: tzinfo,
    grace: timedelta = GRACE,
    settle: timedelta = timedelta(0),
) -> list[Due]:
    """The slots not yet in the ledger, oldest first: every slot after last_seen up to now - settle
    (with no history: only the latest one). Each runs when younger than grace, else is skipped."""
    until = now - settle
    out: list[Due] = []
    for sched in table:
        seen = last_seen.get(sched.name)
        if seen is None:
            latest = latest_slot(sched.cron, tz, until)
            slots = [latest] if latest is not None else []
        else:
            slots = slots_between(sched.cron, tz, seen, until)
        out.extend(Due(sched, s, "run" if now - s <= grace else "skip") for s in slots)
    out.sort(key=lambda d: (d.slot, d.schedule.name))
    return out
