"""Per-queue pause: a Redis set of paused finjobs queue names, honoured by FinjobsWorker's dequeue.

RQ itself only has a global suspend; a paused queue keeps accepting jobs, its workers take none.
"""

from __future__ import annotations

from redis import Redis

from finjobs.queue.keys import STATE_PREFIX
from finjobs.queue.registry import spec

PAUSED_KEY = STATE_PREFIX + "queues:paused"


def paused_queues(redis: Redis) -> set[str]:
    return {m.decode() if isinstance(m, bytes) else str(m) for m in redis.smembers(PAUSED_KEY)}


def set_paused(redis: Redis, name: str, paused: bool) -> bool:
    """Pause or resume a finjobs queue; True when that changed anything."""
    queue = spec(name).name
    changed = redis.sadd(PAUSED_KEY, queue) if paused else redis.srem(PAUSED_KEY, queue)
    return bool(changed)
