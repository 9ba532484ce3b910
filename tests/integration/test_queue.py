"""The queue registry and policy on a real Redis: JSON only, retry policy, dedup ids, trimming."""

from __future__ import annotations

import json
import pickle
import time
import zlib
from pathlib import Path

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from finjobs.queue.enqueue import enqueue
from finjobs.queue.registry import FAILURE_TTL, QUEUES, fetch_job, get_queue
from finjobs.queue.worker import simple_worker


def test_registry_names_the_seven_queues() -> None:
    assert {n: q.concurrency for n, q in QUEUES.items()} == {
        "csv-import": 3,
        "ocr-processing": 2,
        "forecast-compute": 1,
        "budget-evaluation": 5,
        "insight-generation": 3,
        "notification": 2,
        "data-cleanup": 1,
    }


def test_job_hash_holds_json_not_pickle(redis: Redis) -> None:
    job = enqueue(redis, "data-cleanup", "tests.support.jobs.echo", "hello", job_id="json-check")
    raw = redis.hget(f"rq:job:{job.id}", "data")
    assert raw is not None
    decoded = json.loads(zlib.decompress(raw))  # RQ compresses the payload; inside is plain JSON
    assert decoded[0] == "tests.support.jobs.echo" and decoded[2] == ["hello"]
    assert not zlib.decompress(raw).startswith(b"\x80")  # no pickle protocol header


class _Exploit:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path("/tmp/finjobs-pwned").touch, ())


def test_a_pickle_written_to_redis_is_never_loaded(redis: Redis, tmp_path: Path) -> None:
    job = enqueue(redis, "data-cleanup", "tests.support.jobs.echo", "x", job_id="victim", retry_intervals=[])
    Path("/tmp/finjobs-pwned").unlink(missing_ok=True)
    redis.hset(f"rq:job:{job.id}", "data", zlib.compress(pickle.dumps(("os.getcwd", None, [_Exploit()], {}))))
    worker = simple_worker(redis, ["data-cleanup"])
    worker.work(burst=True)
    assert not Path("/tmp/finjobs-pwned").exists()
    assert fetch_job(redis, "victim").get_status() == "failed"  # type: ignore[union-attr]


def test_default_policy_is_three_retries_at_5_15_45_and_7_day_failures(redis: Redis, tmp_path: Path) -> None:
    marker = tmp_path / "attempts"
    job = enqueue(redis, "data-cleanup", "tests.support.jobs.always_fails", str(marker))
    assert job.retries_left == 3 and job.retry_intervals == [5, 15, 45]
    assert job.failure_ttl == FAILURE_TTL == 7 * 24 * 3600
    before = time.time()
    simple_worker(redis, ["data-cleanup"]).work(burst=True)
    registry = ScheduledJobRegistry(queue=get_queue(redis, "data-cleanup"))
    assert registry.get_job_ids() == [job.id]
    when = redis.zscore(registry.key, job.id)
    assert when is not None and before + 4 <= when <= time.time() + 6
    assert fetch_job(redis, job.id).retries_left == 2  # type: ignore[union-attr]


def test_enqueue_with_an_id_is_idempotent_while_live(redis: Redis) -> None:
    first = enqueue(redis, "data-cleanup", "tests.support.jobs.echo", "a", job_id="same-id")
    second = enqueue(redis, "data-cleanup", "tests.support.jobs.echo", "b", job_id="same-id")
    assert second.id == first.id and second.args == ["a"]
    assert get_queue(redis, "data-cleanup").count == 1


def test_job_ids_must_be_safe(redis: Redis) -> None:
    with pytest.raises(ValueError, match="must match"):
        enqueue(redis, "data-cleanup", "tests.support.jobs.echo", "a", job_id="user:1")


def test_the_101st_finished_job_trims_the_oldest(redis: Redis) -> None:
    ids = [
        enqueue(redis, "notification", "tests.support.jobs.echo", str(i), job_id=f"j{i:03d}").id
        for i in range(101)
    ]
    simple_worker(redis, ["notification"]).work(burst=True)
    registry = FinishedJobRegistry(queue=get_queue(redis, "notification"))
    kept = set(registry.get_job_ids())
    assert len(kept) == 100
    assert ids[0] not in kept and set(ids[1:]) == kept
    assert not redis.exists(f"rq:job:{ids[0]}")  # the trimmed job's hash is gone too
    assert fetch_job(redis, ids[100]).return_value() == "100"  # type: ignore[union-attr]


def test_failed_job_lands_in_failed_registry_after_retries_exhausted(redis: Redis, tmp_path: Path) -> None:
    marker = tmp_path / "attempts"
    job = enqueue(redis, "data-cleanup", "tests.support.jobs.always_fails", str(marker), retry_intervals=[])
    simple_worker(redis, ["data-cleanup"]).work(burst=True)
    assert job.id in FailedJobRegistry(queue=get_queue(redis, "data-cleanup")).get_job_ids()


def test_higher_priority_runs_first_whatever_the_enqueue_order(redis: Redis) -> None:
    from finjobs.queue.worker import simple_worker as make

    order = []
    for i in range(3):
        order.append(
            enqueue(redis, "forecast-compute", "tests.support.jobs.echo", f"low{i}", priority="low").id
        )
    order.append(
        enqueue(redis, "forecast-compute", "tests.support.jobs.echo", "normal", priority="normal").id
    )
    order.append(enqueue(redis, "forecast-compute", "tests.support.jobs.echo", "high", priority="high").id)
    make(redis, ["forecast-compute"]).work(burst=True)
    finished = [fetch_job(redis, i) for i in order]
    ends = sorted(finished, key=lambda j: j.ended_at)  # type: ignore[union-attr,return-value]
    assert [j.return_value() for j in ends] == ["high", "normal", "low0", "low1", "low2"]  # type: ignore[union-attr]


def test_single_level_queues_are_one_rq_queue() -> None:
    assert [q for q, s in QUEUES.items() if len(s.rq_names) > 1] == ["forecast-compute"]
    assert QUEUES["forecast-compute"].rq_names == [
        "forecast-compute-high",
        "forecast-compute",
        "forecast-compute-low",
    ]
