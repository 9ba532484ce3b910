"""The schedule machinery against real PostgreSQL/SQLite and Redis: DST-correct slots, the ledger's
exactly-once claim under two scheduler processes and a restart (simulated clock), the missed-slot
grace rule, rq-scheduler registration idempotency, and a real trigger job fired through rq-scheduler."""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from finjobs.cli import schedule as schedule_cli
from finjobs.db.models import ScheduleRun
from finjobs.queue.registry import fetch_job
from finjobs.queue.worker import simple_worker
from finjobs.schedule import SCHEDULES, Schedule
from finjobs.services.scheduling import (
    SchedulerLoop,
    clear,
    due_slots,
    latest_slot,
    next_slots,
    register,
    registered,
    rq_scheduler,
    slots_between,
    tick,
)
from tests.conftest import Stack
from tests.support import schedule as support

AMS = ZoneInfo("Europe/Amsterdam")
Z = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def ledger(stack_or_url: Stack | str) -> list[ScheduleRun]:
    from finjobs.db.engine import session_scope

    url = stack_or_url if isinstance(stack_or_url, str) else stack_or_url.db_url
    with session_scope(url) as s:
        return list(s.scalars(select(ScheduleRun).order_by(ScheduleRun.slot, ScheduleRun.schedule)))


def recorded(redis, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [x.decode() for x in redis.lrange(f"fanout:{name}", 0, -1)]


# ---- slot maths across DST -------------------------------------------------------------------------


def test_spring_forward_02_00_runs_once_at_03_00_local() -> None:
    # 2026-03-29: Amsterdam jumps from 02:00 CET to 03:00 CEST; 02:00 local does not exist that day
    slots = slots_between("0 2 * * *", AMS, utc(2026, 3, 27, 12), utc(2026, 3, 30, 12))
    assert slots == [utc(2026, 3, 28, 1), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0)]
    assert slots[1].astimezone(AMS).strftime("%H:%M %Z") == "03:00 CEST"
    # a cron at 02:00 and 03:00 both land on 03:00 CEST that day: one slot, not two
    both = slots_between("0 2,3 * * *", AMS, utc(2026, 3, 28, 22), utc(2026, 3, 29, 22))
    assert both == [utc(2026, 3, 29, 1)]
    # the weekly forecast (Sunday 02:00) in the spring-forward week
    assert slots_between("0 2 * * 0", AMS, utc(2026, 3, 23), utc(2026, 3, 30)) == [utc(2026, 3, 29, 1)]


def test_fall_back_02_00_runs_once_at_its_first_occurrence() -> None:
    # 2026-10-25: Amsterdam goes 03:00 CEST -> 02:00 CET; 02:00-02:59 local happen twice
    slots = slots_between("0 2 * * *", AMS, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert slots == [utc(2026, 10, 25, 0), utc(2026, 10, 26, 1)]
    assert slots[0].astimezone(AMS).strftime("%H:%M %Z") == "02:00 CEST"
    half_hourly = slots_between("*/30 2 * * *", AMS, utc(2026, 10, 24, 22), utc(2026, 10, 25, 3))
    assert half_hourly == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)]
    assert latest_slot("0 2 * * *", AMS, utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 0)
    assert next_slots("0 2 * * *", AMS, utc(2026, 10, 24, 23), 2) == [
        utc(2026, 10, 25, 0),
        utc(2026, 10, 26, 1),
    ]
    assert next_slots("0 2 * * *", AMS, utc(2026, 3, 28, 23), 2) == [utc(2026, 3, 29, 1), utc(2026, 3, 30, 0)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), [utc(2026, 3, 29, 1)]),  # spring forward
        (utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), [utc(2026, 10, 25, 0)]),  # fall back
    ],
)
def test_a_clock_walking_through_a_dst_night_runs_02_00_once(
    db_url: str, redis, start: datetime, end: datetime, expected: list[datetime]
) -> None:
    table = (Schedule("every", "0 2 * * *", "tests.support.schedule.every_fanout"),)
    tick(db_url, redis, start, tz=AMS, table=table)  # first start: the previous slot is old -> skipped
    now = start
    while now <= end:
        tick(db_url, redis, now, tz=AMS, table=table)
        now += timedelta(minutes=10)
    done = [r.slot for r in ledger(db_url) if r.status == "done"]
    assert done == expected
    assert recorded(redis, "every") == [s.isoformat() for s in expected]


# ---- exactly once per slot: two scheduler processes, a restart, a simulated week -----------------


def test_simulated_week_two_schedulers_and_a_restart_run_each_slot_once(stack: Stack) -> None:
    week_start, week_end = datetime(2026, 3, 1, tzinfo=AMS), datetime(2026, 3, 8, tzinfo=AMS)  # Sunday-Sunday

    def process(name: str) -> SchedulerLoop:
        return SchedulerLoop(
            stack.db_url,
            stack.redis,
            tz=AMS,
            table=support.TABLE,
            name=name,
            settle=timedelta(0),
            table_ref="tests.support.schedule.TABLE",
        )

    a, b = process("sched-a"), process("sched-b")
    now = week_start.astimezone(UTC)
    a.start(now)
    b.start(now)
    down_from, back_at = datetime(2026, 3, 4, 1, tzinfo=AMS), datetime(2026, 3, 4, 8, 30, tzinfo=AMS)
    step = timedelta(minutes=20)
    flip = False
    while now < week_end:
        now += step
        if down_from <= now < back_at:
            continue  # both schedulers are down (deploy gone wrong)
        if now - step < back_at <= now:
            a, b = process("sched-a2"), process("sched-b2")  # restarted processes, new rq-scheduler names
            (b if flip else a).start(now)
        pair = (b, a) if flip else (a, b)
        flip = not flip
        for proc in pair:
            proc.tick(now)

    rows = ledger(stack)
    in_week = [r for r in rows if week_start <= r.slot < week_end]
    done = Counter(r.schedule for r in in_week if r.status == "done")
    assert done == {"daily-budget-check": 7, "daily-insights": 7, "weekly-forecast": 1, "weekly-cleanup": 1}
    assert all(r.status == "done" for r in in_week)
    # every fan-out call is recorded: one per slot, no slot twice
    for name, count in [("daily-budget-check", 7), ("daily-insights", 7), ("weekly-forecast", 1)]:
        calls = recorded(stack.redis, name)
        assert len(calls) == len(set(calls)) == count
        assert sorted(calls) == sorted(r.slot.isoformat() for r in in_week if r.schedule == name)
    assert (
        fetch_job(stack.redis, f"cleanup-{datetime.now(UTC):%Y%m%d}") is not None
    )  # the real cleanup fan-out
    # the first start found only old slots (before the week, older than 6 h): recorded, not run
    before = {r.schedule: r.status for r in rows if r.slot < week_start}
    assert before == dict.fromkeys(support._TEST_FANOUTS.keys() | {"weekly-cleanup"}, "skipped")
    # the slots missed while both were down (Wed 03:00 insights, 5.5 h; Wed 06:00 budget) ran on restart
    missed = {r.schedule: r for r in in_week if down_from <= r.slot < back_at}
    assert set(missed) == {"daily-insights", "daily-budget-check"}
    assert all(r.claimed_by in {"scheduler:sched-a2", "scheduler:sched-b2"} for r in missed.values())
    assert missed["daily-insights"].claimed_at >= back_at


def test_missed_slots_run_inside_the_grace_window_and_are_skipped_outside_it(db_url: str, redis) -> None:
    table = support.TABLE[1:3]  # daily-budget-check 06:00, daily-insights 03:00 (UTC here)
    tick(db_url, redis, utc(2026, 5, 4, 7), tz=UTC, table=table)  # Monday 07:00: both Monday slots run
    assert [r.status for r in ledger(db_url)] == ["done", "done"]
    # down until Tuesday 11:00: insights 03:00 is 8 h old (skipped), budget 06:00 is 5 h old (runs)
    runs = tick(db_url, redis, utc(2026, 5, 5, 11), tz=UTC, table=table)
    assert {(r.schedule, r.status) for r in runs} == {
        ("daily-insights", "skipped"),
        ("daily-budget-check", "done"),
    }
    assert recorded(redis, "daily-insights") == [utc(2026, 5, 4, 3).isoformat()]
    assert recorded(redis, "daily-budget-check") == [
        utc(2026, 5, 4, 6).isoformat(),
        utc(2026, 5, 5, 6).isoformat(),
    ]
    # exactly at the edge (6 h) still runs; a second tick changes nothing
    due = due_slots(table, {"daily-budget-check": utc(2026, 5, 5, 6)}, utc(2026, 5, 6, 12), tz=UTC)
    assert [(d.schedule.name, d.action) for d in due] == [
        ("daily-insights", "skip"),  # no history: only its latest slot, 9 h old
        ("daily-budget-check", "run"),
    ]
    assert tick(db_url, redis, utc(2026, 5, 5, 11), tz=UTC, table=table) == []


def test_two_threads_ticking_at_once_claim_each_slot_once(db_url: str, redis) -> None:
    table = support.TABLE
    tick(db_url, redis, utc(2026, 6, 1), tz=UTC, table=table)  # history: the old slots are skipped
    barrier = threading.Barrier(2)
    results: list[list[str]] = [[], []]

    def run(i: int) -> None:
        for hour in range(0, 48, 3):
            barrier.wait()
            runs = tick(
                db_url, redis, utc(2026, 6, 1) + timedelta(hours=hour), tz=UTC, table=table, owner=f"t{i}"
            )
            results[i].extend(f"{r.schedule}@{r.slot.isoformat()}" for r in runs if r.status == "done")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = results[0] + results[1]
    assert len(everything) == len(set(everything)) == 4  # Mon+Tue x budget, insights
    assert len(recorded(redis, "daily-budget-check")) == 2 and len(recorded(redis, "daily-insights")) == 2


def test_a_failed_fan_out_is_retried_by_the_next_tick(db_url: str, redis) -> None:
    table = (Schedule("flaky", "0 6 * * *", "tests.support.schedule.flaky_fanout"),)
    first = tick(db_url, redis, utc(2026, 7, 1, 6, 1), tz=UTC, table=table)
    assert [r.status for r in first] == ["failed"]
    assert "deliberate fan-out failure" in first[0].detail["error"]
    second = tick(db_url, redis, utc(2026, 7, 1, 6, 2), tz=UTC, table=table)
    assert [(r.status, r.detail["attempts"]) for r in second] == [("done", 2)]
    assert recorded(redis, "flaky") == [utc(2026, 7, 1, 6).isoformat()]
    assert tick(db_url, redis, utc(2026, 7, 1, 6, 3), tz=UTC, table=table) == []


# ---- rq-scheduler underneath -----------------------------------------------------------------------


def _data(redis, job_id: str) -> object:  # type: ignore[no-untyped-def]
    raw = redis.hget(f"rq:job:{job_id}", "data")
    return json.loads(zlib.decompress(raw))


def test_register_is_idempotent_and_reconciles_the_table(redis) -> None:
    now = utc(2026, 3, 25, 12)
    first = register(redis, tz=AMS, now=now)
    assert sorted(first.added) == sorted(s.job_id for s in SCHEDULES)
    second = register(redis, tz=AMS, now=now)
    assert second.added == second.updated == second.removed == []
    assert len(second.unchanged) == 4
    entries = registered(redis)
    assert sorted(entries) == [
        "schedule-daily-budget-check",
        "schedule-daily-insights",
        "schedule-weekly-cleanup",
        "schedule-weekly-forecast",
    ]
    assert redis.zcard(rq_scheduler(redis).scheduled_jobs_key) == 4
    job, when = entries["schedule-weekly-forecast"]
    assert when == utc(2026, 3, 29, 1)  # Sunday 02:00 Amsterdam on the spring-forward day = 03:00 CEST
    assert job.func_name == "finjobs.jobs.schedule.fire" and job.args == ["weekly-forecast"]
    assert job.origin == "data-cleanup"
    # stored as JSON, not pickle: the payload decodes with json
    assert _data(redis, "schedule-weekly-forecast")[0] == "finjobs.jobs.schedule.fire"  # type: ignore[index]

    changed = (Schedule("daily-insights", "30 3 * * *", SCHEDULES[2].fanout), *SCHEDULES[:2])
    third = register(redis, tz=AMS, table=changed, now=now)
    assert third.updated == ["schedule-daily-insights"]
    assert third.removed == ["schedule-weekly-cleanup"]
    assert len(registered(redis)) == 3
    assert len(clear(redis)) == 3
    assert registered(redis) == {} and redis.zcard(rq_scheduler(redis).scheduled_jobs_key) == 0


def test_a_registered_entry_fires_a_trigger_job_that_runs_its_slot_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINJOBS_TIMEZONE", "Europe/Amsterdam")
    now = datetime.now(UTC)
    wall = now.astimezone(AMS)
    table = support.one_entry_table(f"{wall.minute} {wall.hour} * * *")  # latest slot: this minute
    loop = SchedulerLoop(stack.db_url, stack.redis, tz=AMS, table=table, table_ref=None, name="fire-test")
    # the trigger imports the table by path: register it as the test module's table
    monkeypatch.setattr(support, "FIRE_TABLE", table, raising=False)
    register(stack.redis, tz=AMS, table=table, table_ref="tests.support.schedule.FIRE_TABLE", now=now)
    sched = rq_scheduler(stack.redis)
    slot = latest_slot(table[0].cron, AMS, now)
    assert slot is not None
    for _ in range(2):  # the same entry fires twice (lock expiry, two schedulers): one run
        job = next(iter(registered(stack.redis).values()))[0]
        sched.change_execution_time(job, datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1))
        assert loop.fire_due() == 1
        trigger = fetch_job(stack.redis, "schedule-every")
        assert trigger is not None and trigger.get_status() == "queued"
        simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
        assert fetch_job(stack.redis, "schedule-every").get_status() == "finished"  # type: ignore[union-attr]
        # re-armed for the next slot in the schedule's zone, still one entry
        (_, when), *rest = registered(stack.redis).values()
        assert rest == [] and when == next_slots(table[0].cron, AMS, datetime.now(UTC), 1)[0]
    rows = ledger(stack)
    assert [(r.schedule, r.slot, r.status) for r in rows] == [("every", slot, "done")]
    assert rows[0].claimed_by.startswith("job:schedule-every")
    assert recorded(stack.redis, "every") == [slot.isoformat()]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_scheduler_loop_fires_an_every_minute_entry_in_real_time(stack: Stack) -> None:
    """Real time, real rq-scheduler loop and a worker: up to ~65 s (waits for the next minute)."""
    loop = SchedulerLoop(
        stack.db_url,
        stack.redis,
        tz=UTC,
        table=support.EVERY_MINUTE,
        table_ref="tests.support.schedule.EVERY_MINUTE",
        name="real-time",
        interval=1,
        settle=timedelta(hours=1),  # the safety-net tick stays out of the way: rq-scheduler must fire
    )
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    started = datetime.now(UTC)
    thread.start()
    try:
        deadline = time.monotonic() + 70
        fired: list[ScheduleRun] = []
        while time.monotonic() < deadline and not fired:
            simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
            fired = [r for r in ledger(stack) if r.status == "done" and r.claimed_by.startswith("job:")]
            time.sleep(0.5)
    finally:
        stop.set()
        thread.join(10)
    assert fired, "rq-scheduler did not fire the every-minute entry within 70 s"
    assert fired[0].slot > started and fired[0].slot.second == 0
    assert recorded(stack.redis, "every").count(fired[0].slot.isoformat()) == 1


# ---- CLI -------------------------------------------------------------------------------------------


def test_cli_list_register_and_run(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINJOBS_TIMEZONE", "Europe/Amsterdam")
    from finjobs.cli import context

    context.reset()
    runner = CliRunner()
    first = runner.invoke(schedule_cli.app, ["register", "--json"])
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.stdout)["added"]) == 4
    again = json.loads(runner.invoke(schedule_cli.app, ["register", "--json"]).stdout)
    assert again["added"] == [] and len(again["unchanged"]) == 4

    out = runner.invoke(schedule_cli.app, ["list", "--json", "--next", "2"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["timezone"] == "Europe/Amsterdam"
    rows = {r["name"]: r for r in doc["schedules"]}
    assert rows["daily-budget-check"]["when"] == "At 06:00"
    assert rows["weekly-forecast"]["when"] == "At 02:00, only on Sunday"
    nxt = [datetime.fromisoformat(t) for t in rows["daily-budget-check"]["next"]]
    assert len(nxt) == 2 and all(t.hour == 6 and t.minute == 0 for t in nxt) and nxt[0] > datetime.now(UTC)
    assert rows["weekly-cleanup"]["registered"] is True
    assert rows["weekly-cleanup"]["registered_next"] == rows["weekly-cleanup"]["next"][0]

    ran = runner.invoke(schedule_cli.app, ["run", "weekly-cleanup", "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "done"
    assert fetch_job(stack.redis, f"cleanup-{datetime.now(UTC):%Y%m%d}") is not None
    (row,) = ledger(stack)
    assert row.schedule == "weekly-cleanup" and row.claimed_by.startswith("manual:")
    # a manual run is its own slot: it does not hide the cron slots (last_seen ignores it)
    listed = json.loads(runner.invoke(schedule_cli.app, ["list", "--json"]).stdout)
    assert {r["name"]: r["last"]["status"] for r in listed["schedules"] if r["last"]} == {
        "weekly-cleanup": "done"
    }
    bad = runner.invoke(schedule_cli.app, ["run", "nope"])
    assert bad.exit_code != 0
