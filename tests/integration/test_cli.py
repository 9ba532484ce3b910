"""The CLI through Typer's CliRunner and as a subprocess: JSON output, errors as one line + exit 1."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from typer.testing import CliRunner

from finjobs.cli.app import app
from finjobs.db.models import AiInsight, User, VoiceLog, utcnow
from finjobs.queue.worker import simple_worker
from tests.conftest import Stack, finjobs_cmd

runner = CliRunner()


def invoke_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_users_create_prints_a_token_and_stores_only_its_hash(stack: Stack) -> None:
    doc = invoke_json("users", "create", "Ana@Example.com", "--name", "Ana")
    assert doc["email"] == "ana@example.com" and doc["token"].startswith("fj_")
    with stack.session() as s:
        user = s.get(User, doc["id"])
        assert user is not None and user.token_hash and doc["token"] not in user.token_hash
    dup = runner.invoke(app, ["users", "create", "ana@example.com"])
    assert dup.exit_code == 1 and "already exists" in dup.stderr


def test_status_json_lists_every_queue(stack: Stack) -> None:
    doc = invoke_json("status")
    assert [q["name"] for q in doc["queues"]][:2] == ["csv-import", "ocr-processing"]
    assert all(
        set(q) >= {"waiting", "active", "scheduled", "failed", "finished", "workers"} for q in doc["queues"]
    )


def test_cleanup_job_end_to_end(stack: Stack) -> None:
    now = utcnow()
    with stack.session() as s:
        user = User(email="u@example.com")
        s.add(user)
        s.flush()
        s.add_all(
            [
                AiInsight(
                    user_id=user.id,
                    type="t",
                    severity="info",
                    dedup_key="old",
                    dismissed_at=now - dt.timedelta(days=31),
                ),
                AiInsight(
                    user_id=user.id,
                    type="t",
                    severity="info",
                    dedup_key="recent",
                    dismissed_at=now - dt.timedelta(days=29),
                ),
                AiInsight(  # dismissed long ago, but its rule's window is open: kept as the dedup key
                    user_id=user.id,
                    type="t",
                    severity="info",
                    dedup_key="dismissed-window-open",
                    dismissed_at=now - dt.timedelta(days=31),
                    expires_at=now + dt.timedelta(days=10),
                ),
                AiInsight(user_id=user.id, type="t", severity="info", dedup_key="live"),
                AiInsight(
                    user_id=user.id,
                    type="t",
                    severity="info",
                    dedup_key="expired",
                    expires_at=now - dt.timedelta(hours=1),
                ),
                VoiceLog(user_id=user.id, status="failed", created_at=now - dt.timedelta(days=91)),
                VoiceLog(user_id=user.id, status="failed", created_at=now - dt.timedelta(days=89)),
                VoiceLog(user_id=user.id, status="processed", created_at=now - dt.timedelta(days=200)),
            ]
        )
        user_id = user.id
    stack.redis.set(f"budget_status:{user_id}", "{}", ex=600)  # live cache of a real user: kept
    stack.redis.set("budget_status:424242", "{}", ex=600)  # user gone: stale
    stack.redis.set(f"forecast:{user_id}", "{}")  # a cache key with no TTL: stale
    doc = invoke_json("cleanup", "run")
    again = invoke_json("cleanup", "run")  # still queued: the same job, not a second one
    assert doc["job_id"] == again["job_id"] and stack.redis.llen("rq:queue:data-cleanup") == 1
    simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
    shown = invoke_json("jobs", "show", doc["job_id"])
    assert shown["status"] == "finished"
    assert shown["result"] == {
        "dismissed_insights": 1,
        "expired_insights": 1,
        "failed_voice_logs": 1,
        "redis_keys": 2,
    }
    with stack.session() as s:
        keys = sorted(k for (k,) in s.query(AiInsight.dedup_key).all())
        voice = s.query(VoiceLog).count()
    assert keys == ["dismissed-window-open", "live", "recent"]
    assert voice == 2
    assert stack.redis.exists(f"budget_status:{user_id}")
    assert not stack.redis.exists("budget_status:424242") and not stack.redis.exists(f"forecast:{user_id}")


@pytest.fixture
def cleanup_result(stack: Stack) -> dict:
    invoke_json("cleanup", "run")
    simple_worker(stack.redis, ["data-cleanup"]).work(burst=True)
    return invoke_json("jobs", "show", f"cleanup-{utcnow():%Y%m%d}")


def test_cleanup_reports_what_it_removed(cleanup_result: dict) -> None:
    assert cleanup_result["result"] == {
        "dismissed_insights": 0,
        "expired_insights": 0,
        "failed_voice_logs": 0,
        "redis_keys": 0,
    }


def test_jobs_failed_and_replay_by_queue(stack: Stack, tmp_path) -> None:
    from finjobs.queue.enqueue import enqueue

    marker = tmp_path / "m"
    job = enqueue(
        stack.redis, "notification", "tests.support.jobs.always_fails", str(marker), retry_intervals=[]
    )
    simple_worker(stack.redis, ["notification"]).work(burst=True)
    failed = invoke_json("jobs", "failed", "--queue", "notification")["failed"]
    assert [f["id"] for f in failed] == [job.id] and "deliberate failure" in failed[0]["error"]
    assert invoke_json("jobs", "replay", "--queue", "notification", "--all")["replayed"] == [job.id]
    assert invoke_json("jobs", "failed")["failed"] == []
    simple_worker(stack.redis, ["notification"]).work(burst=True)
    assert len(marker.read_text().split()) == 2
    bad = runner.invoke(app, ["jobs", "replay"])
    assert bad.exit_code == 1 and "give job ids" in bad.stderr
    missing = runner.invoke(app, ["jobs", "show", "nope"])
    assert missing.exit_code == 1 and "no job 'nope'" in missing.stderr


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL: cannot connect"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL scheme 'mysql' is not supported"),
        ({"DATABASE_URL": "postgres://u@h:port/db"}, "DATABASE_URL has an invalid port"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, "DATABASE_URL:"),
    ],
)
def test_bad_configuration_is_one_clear_line(stack: Stack, env: dict[str, str], fragment: str) -> None:
    cmd = ["users", "create", "x@example.com"] if "DATABASE_URL" in env else ["status"]
    out = subprocess.run(
        finjobs_cmd(*cmd), env={**stack.env, **env}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_worker_needs_a_known_queue(stack: Stack) -> None:
    result = runner.invoke(app, ["worker", "no-such-queue", "--burst"])
    assert result.exit_code == 1 and "unknown queue 'no-such-queue'" in result.stderr
