"""Deliver warning and critical insights by email (SMTP) and signed webhook, each at most once per
(insight, channel): the `notifications` row is claimed and locked before sending, marked after.

Touches the database session, the SMTP server and the webhook URL from settings, and Redis (enqueue).

Webhook signing (what a receiver must check):
    X-Finjobs-Timestamp: <unix seconds when sent>
    X-Finjobs-Signature: sha256=<hex HMAC-SHA256(webhook_secret, "<timestamp>." + raw body)>
The timestamp is inside the signed material, so a captured request cannot be replayed later with a
fresh timestamp: receivers recompute the HMAC over the exact raw body, compare it in constant time,
and reject timestamps more than 5 minutes from their clock (verify_signature does all three).
X-Finjobs-Delivery (`<insight id>-webhook`, stable across retries) lets a receiver drop a duplicate
in the one window no sender can close: the POST succeeded but recording it did not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from finjobs.config import Settings
from finjobs.db.models import AiInsight, Notification, User, utcnow
from finjobs.queue.catalogue import NOTIFY
from finjobs.services.insights import NewInsight, dialect_insert

NOTIFY_SEVERITIES = frozenset({"warning", "critical"})
CHANNELS = ("email", "webhook")
SIGNATURE_TOLERANCE = 300  # seconds a receiver accepts between X-Finjobs-Timestamp and its clock
SEND_TIMEOUT = 20  # seconds for one SMTP conversation or HTTP POST


class DeliveryFailed(RuntimeError):
    """The channel refused or was unreachable: the job fails and RQ retries it with backoff."""


@dataclass(frozen=True)
class Delivery:
    insight_id: int
    channel: str
    status: str  # delivered | already_delivered | skipped | gone | failed
    attempts: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def configured_channels(settings: Settings) -> list[str]:
    """Channels with enough configuration to send. A webhook without a secret is not sent: an
    unsigned webhook cannot be told apart from a forged one."""
    out = []
    if settings.smtp_url:
        out.append("email")
    if settings.webhook_url and settings.webhook_secret:
        out.append("webhook")
    return out


def notification_job_id(insight_id: int, channel: str) -> str:
    return NOTIFY.job_id(insight_id=insight_id, channel=channel)


def enqueue_notifications(redis: Redis, settings: Settings, insights: Sequence[NewInsight]) -> list[str]:
    """One notification job per (new warning/critical insight, configured channel). Call it after the
    transaction that created the insights has committed, so the job can always read its insight."""
    from finjobs.queue.enqueue import enqueue_job

    channels = configured_channels(settings)
    ids = []
    for ins in insights:
        if ins.severity not in NOTIFY_SEVERITIES:
            continue
        for channel in channels:
            job = enqueue_job(
                redis,
                NOTIFY,
                ins.id,
                channel,
                job_id=notification_job_id(ins.id, channel),
                description=f"{channel} for insight {ins.id}",
            )
            ids.append(job.id)
    return ids


# --- claim, send, record -------------------------------------------------------------------------


def deliver_notification(
    session: Session, settings: Settings, insight_id: int, channel: str, *, now: dt.datetime | None = None
) -> Delivery:
    """Claim (insight, channel), send once, record the outcome in the caller's transaction.

    The row is inserted `pending` if missing (ON CONFLICT DO NOTHING) and then locked: FOR UPDATE on
    PostgreSQL; on SQLite the attempts UPDATE takes the database write lock. A concurrent delivery of
    the same pair waits for the lock and then sees `delivered`. A failure is recorded (status failed,
    attempts, last_error) and returned with error set: the caller commits, then raises DeliveryFailed.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    insight = session.get(AiInsight, insight_id)
    if insight is None:
        return Delivery(insight_id, channel, "gone")  # deleted by cleanup or its user: nothing to send
    if channel not in configured_channels(settings):
        return Delivery(insight_id, channel, "skipped", error=f"{channel} is not configured")
    stmt = dialect_insert(session, Notification).values(
        insight_id=insight_id, channel=channel, status="pending", attempts=0, created_at=now or utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["insight_id", "channel"]))
    where = (Notification.insight_id == insight_id, Notification.channel == channel)
    session.execute(
        update(Notification)
        .where(*where, Notification.status != "delivered")
        .values(attempts=Notification.attempts + 1)
    )
    row = session.scalars(
        select(Notification).where(*where).with_for_update().execution_options(populate_existing=True)
    ).one()
    if row.status == "delivered":
        return Delivery(insight_id, channel, "already_delivered", row.attempts)
    user = session.get(User, insight.user_id)
    try:
        if channel == "email":
            send_email(settings, to=user.email if user else "", insight=insight)
        else:
            send_webhook(settings, insight=insight, user=user)
    except Exception as exc:  # any refusal or network error is a failed attempt, retried by the queue
        row.status = "failed"
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        session.flush()
        return Delivery(insight_id, channel, "failed", row.attempts, row.last_error)
    row.status = "delivered"
    row.delivered_at = now or utcnow()
    row.last_error = None
    session.flush()
    return Delivery(insight_id, channel, "delivered", row.attempts)


def insight_document(insight: AiInsight, user: User | None) -> dict[str, Any]:
    return {
        "event": "insight.created",
        "insight": {
            "id": insight.id,
            "user_id": insight.user_id,
            "user_email": user.email if user else None,
            "type": insight.type,
            "severity": insight.severity,
            "title": insight.title,
            "message": insight.message,
            "payload": insight.payload,
            "created_at": insight.created_at.isoformat() if insight.created_at else None,
        },
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Finjobs-Signature value for a body sent at `timestamp` (unix seconds, as a string)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None
) -> bool:
    """What a receiver runs: right HMAC over the raw body, and a timestamp within 5 minutes."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > SIGNATURE_TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def send_webhook(settings: Settings, *, insight: AiInsight, user: User | None) -> None:
    """POST the insight as JSON, signed. Any non-2xx answer raises (urllib's HTTPError)."""
    import urllib.request

    assert settings.webhook_url and settings.webhook_secret
    body = json.dumps(insight_document(insight, user), sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        settings.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "finjobs-webhook/1",
            "X-Finjobs-Timestamp": timestamp,
            "X-Finjobs-Signature": sign(settings.webhook_secret, timestamp, body),
            "X-Finjobs-Delivery": f"{insight.id}-webhook",
        },
    )
    with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as resp:
        if not 200 <= resp.status < 300:
            raise DeliveryFailed(f"webhook answered {resp.status}")


def send_email(settings: Settings, *, to: str, insight: AiInsight) -> None:
    """One plain-text message through SMTP (smtp:// with STARTTLS when offered, smtps:// for TLS)."""
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate

    if not to:
        raise DeliveryFailed(f"insight {insight.id}: its user has no email address")
    assert settings.smtp_url
    url = urlsplit(settings.smtp_url)
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = f"[finjobs] {insight.title}"
    msg["Date"] = formatdate(localtime=False)
    # Stable per insight: a mail system that sees a second copy can tell it is the same message.
    msg["Message-ID"] = f"<insight-{insight.id}@finjobs>"
    msg["X-Finjobs-Severity"] = insight.severity
    msg.set_content(f"{insight.message}\n\n({insight.severity} {insight.type}, insight {insight.id})\n")
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(url.hostname or "", url.port or 465, timeout=SEND_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(url.hostname or "", url.port or 25, timeout=SEND_TIMEOUT)
    with smtp:
        smtp.ehlo()
        if url.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(msg)
