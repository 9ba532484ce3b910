"""Notifications end to end on real servers: email through a local SMTP server (aiosmtpd), a signed
webhook through a local HTTP server, retry and replay after a failing webhook, and the whole daily
pipeline (budgets + insights + notifications) run twice with nothing new the second time."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
import json
import time

import pytest
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, select

from finjobs.config import Settings
from finjobs.db.models import AiInsight, Notification
from finjobs.queue.registry import fetch_job, get_queue
from finjobs.queue.worker import simple_worker
from finjobs.services.budgets import enqueue_daily_budget_checks
from finjobs.services.insights import NewInsight, enqueue_daily_insights, store_insights
from finjobs.services.notifications import (
    configured_channels,
    enqueue_notifications,
    verify_signature,
)
from finjobs.services.queues import replay
from tests.conftest import Stack
from tests.support.finance import add_budget, add_txn, add_user, smtp_server, user_email, webhook_server

SECRET = "s3cret-for-tests"


def _configure(stack: Stack, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Set notification env vars for this test's jobs (workers read Settings.from_env())."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
        stack.env[key] = value
    return Settings.from_env(stack.env)


def _insight(stack: Stack, severity: str = "warning") -> NewInsight:
    from finjobs.domain.insights import InsightDraft

    with stack.session() as s:
        uid = add_user(s)
        draft = InsightDraft(
            type="duplicate_charge",
            severity=severity,
            user_id=uid,
            title="Possible duplicate charge at Acme",
            message="Acme charged 45.00 USD twice.",
            payload={"amount": "45.00"},
            dedup_key=f"duplicate_charge:test:{severity}",
        )
        (new,) = store_insights(s, [draft], now=dt.datetime.now(dt.UTC))
    return new


def _rows(stack: Stack) -> list[tuple[int, str, str, int]]:
    with stack.session() as s:
        return [
            (n.insight_id, n.channel, n.status, n.attempts)
            for n in s.scalars(select(Notification).order_by(Notification.insight_id, Notification.channel))
        ]


def _expected_signature(timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def test_only_configured_channels_and_notifiable_severities_are_enqueued(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = stack.settings
    assert configured_channels(bare) == []
    unsigned = _configure(stack, monkeypatch, FINJOBS_WEBHOOK_URL="http://127.0.0.1:9/hook")
    assert configured_channels(unsigned) == []  # a webhook without a secret is never sent
    both = _configure(
        stack, monkeypatch, FINJOBS_WEBHOOK_SECRET=SECRET, FINJOBS_SMTP_URL="smtp://127.0.0.1:9"
    )
    info = NewInsight(1, 1, "recurring_new", "info", "k1")
    warn = NewInsight(2, 1, "duplicate_charge", "warning", "k2")
    crit = NewInsight(3, 1, "budget_exceeded", "critical", "k3")
    assert enqueue_notifications(stack.redis, bare, [warn]) == []
    ids = enqueue_notifications(stack.redis, both, [info, warn, crit])
    assert ids == ["notify-2-email", "notify-2-webhook", "notify-3-email", "notify-3-webhook"]
    assert enqueue_notifications(stack.redis, both, [warn])[0] == "notify-2-email"
    assert get_queue(stack.redis, "notification").count == 4  # the live job was not duplicated


def test_email_arrives_at_a_real_smtp_server_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as box:
        settings = _configure(
            stack, monkeypatch, FINJOBS_SMTP_URL=box.url, FINJOBS_MAIL_FROM="alerts@finjobs.test"
        )
        new = _insight(stack, "critical")
        with stack.session() as s:
            to = user_email(s, new.user_id)
        assert enqueue_notifications(stack.redis, settings, [new]) == [f"notify-{new.id}-email"]
        simple_worker(stack.redis, ["notification"]).work(burst=True)
        assert len(box.messages) == 1
        msg = email.message_from_bytes(box.messages[0]["data"])
        assert box.messages[0]["to"] == [to] and box.messages[0]["from"] == "alerts@finjobs.test"
        assert msg["Subject"] == "[finjobs] Possible duplicate charge at Acme"
        assert msg["Message-ID"] == f"<insight-{new.id}@finjobs>"
        assert "Acme charged 45.00 USD twice." in msg.get_payload()
        assert _rows(stack) == [(new.id, "email", "delivered", 1)]
        # enqueued again (the first job finished): the row says delivered, nothing is sent
        enqueue_notifications(stack.redis, settings, [new])
        simple_worker(stack.redis, ["notification"]).work(burst=True)
        assert len(box.messages) == 1
        assert (
            fetch_job(stack.redis, f"notify-{new.id}-email").return_value()["status"] == "already_delivered"
        )  # type: ignore[union-attr]


def test_webhook_is_signed_with_hmac_over_timestamp_and_body(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_server() as hook:
        settings = _configure(stack, monkeypatch, FINJOBS_WEBHOOK_URL=hook.url, FINJOBS_WEBHOOK_SECRET=SECRET)
        new = _insight(stack)
        before = int(time.time())
        enqueue_notifications(stack.redis, settings, [new])
        simple_worker(stack.redis, ["notification"]).work(burst=True)
        assert len(hook.requests) == 1
        req = hook.requests[0]
        headers, body = req["headers"], req["body"]
        stamp = headers["X-Finjobs-Timestamp"]
        assert before <= int(stamp) <= time.time()
        assert headers["X-Finjobs-Signature"] == _expected_signature(stamp, body)
        assert headers["X-Finjobs-Delivery"] == f"{new.id}-webhook"
        assert headers["Content-Type"] == "application/json"
        doc = json.loads(body)
        assert doc["event"] == "insight.created"
        assert (doc["insight"]["id"], doc["insight"]["severity"]) == (new.id, "warning")
        # the receiver-side check: right body and fresh timestamp pass; tampering or replay later fails
        sig = headers["X-Finjobs-Signature"]
        assert verify_signature(SECRET, body, stamp, sig)
        assert not verify_signature(SECRET, body + b" ", stamp, sig)
        assert not verify_signature(SECRET, body, str(int(stamp) + 1), sig)
        assert not verify_signature(SECRET, body, stamp, sig, now=int(stamp) + 301)
        assert not verify_signature("wrong", body, stamp, sig)
        assert _rows(stack) == [(new.id, "webhook", "delivered", 1)]


def test_failing_webhook_retries_then_a_replay_delivers_exactly_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_server() as hook:
        hook.status = 500
        settings = _configure(stack, monkeypatch, FINJOBS_WEBHOOK_URL=hook.url, FINJOBS_WEBHOOK_SECRET=SECRET)
        new = _insight(stack, "critical")
        (job_id,) = enqueue_notifications(stack.redis, settings, [new])
        queue = get_queue(stack.redis, "notification")
        scheduled = ScheduledJobRegistry(queue=queue)
        worker = simple_worker(stack.redis, ["notification"])
        worker.work(burst=True)
        assert scheduled.get_job_ids() == [job_id]  # retry 1 due in 5 s
        assert fetch_job(stack.redis, job_id).retries_left == 2  # type: ignore[union-attr]
        (row,) = _rows(stack)
        assert row == (new.id, "webhook", "failed", 1)
        with stack.session() as s:
            assert "500" in (s.scalar(select(Notification.last_error)) or "")
        # the retries come due (moved now instead of waiting 5 + 15 + 45 s) and fail too
        for _ in range(3):
            scheduled.requeue(job_id)
            worker.work(burst=True)
        assert job_id in FailedJobRegistry(queue=queue)
        assert _rows(stack) == [(new.id, "webhook", "failed", 4)]
        assert [r["answered"] for r in hook.requests] == [500, 500, 500, 500]

        hook.status = 200  # the receiver recovers
        assert replay(stack.redis, [job_id]) == [job_id]
        worker.work(burst=True)
        assert _rows(stack) == [(new.id, "webhook", "delivered", 5)]
        enqueue_notifications(stack.redis, settings, [new])  # a late duplicate request
        worker.work(burst=True)
        delivered = [r for r in hook.requests if r["answered"] == 200]
        assert len(delivered) == 1
        stamp = delivered[0]["headers"]["X-Finjobs-Timestamp"]
        assert delivered[0]["headers"]["X-Finjobs-Signature"] == _expected_signature(
            stamp, delivered[0]["body"]
        )


def test_daily_pipeline_twice_creates_nothing_new_the_second_time(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = dt.date(2026, 3, 15)
    slot = dt.datetime(2026, 3, 15, 6, 0, tzinfo=dt.UTC)
    with smtp_server() as box, webhook_server() as hook:
        _configure(
            stack,
            monkeypatch,
            FINJOBS_SMTP_URL=box.url,
            FINJOBS_WEBHOOK_URL=hook.url,
            FINJOBS_WEBHOOK_SECRET=SECRET,
        )
        with stack.session() as s:
            for _ in range(3):
                uid = add_user(s)
                add_budget(s, uid, 10_000, dt.date(2026, 3, 1), dt.date(2026, 3, 31))  # exceeded: critical
                add_txn(s, uid, dt.date(2026, 3, 13), -5_500, description="ACME STORE")  # duplicate: warning
                add_txn(s, uid, dt.date(2026, 3, 14), -5_500, description="ACME STORE")
                for day in (dt.date(2026, 1, 15), dt.date(2026, 2, 15), today):  # recurring_new: info
                    add_txn(s, uid, day, -1_599, description="NETFLIX.COM")

        def pipeline() -> tuple[int, int, int, int]:
            with stack.session() as s:
                enqueue_daily_budget_checks(s, stack.redis, slot=slot)
                enqueue_daily_insights(s, stack.redis, slot=slot)
            simple_worker(stack.redis, ["budget-evaluation", "insight-generation", "notification"]).work(
                burst=True
            )
            with stack.session() as s:
                insights = s.scalar(select(func.count()).select_from(AiInsight)) or 0
                sent = s.scalar(select(func.count()).where(Notification.status == "delivered")) or 0
                total = s.scalar(select(func.count()).select_from(Notification)) or 0
            assert sent == total
            return insights, sent, len(box.messages), len(hook.requests)

        first = pipeline()
        second = pipeline()
    # 3 users x (budget_exceeded + duplicate_charge + recurring_new); 2 notifiable x 2 channels each
    assert first == (9, 12, 6, 6)
    assert second == first
    failed = FailedJobRegistry(queue=get_queue(stack.redis, "notification"))
    assert failed.count == 0
