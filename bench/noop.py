"""The reminder benchmark's floor: a Celery task that does nothing but count itself (one
Redis INCR, so the benchmark knows when all have run). Loaded into the benchmark's worker
with ``-I bench.noop``; never part of the application."""

from __future__ import annotations

import redis
from celery import shared_task
from django.conf import settings

COUNTER = "stepwise:bench:noop"
_client = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return _client


@shared_task(name="bench.noop", ignore_result=True)
def noop(i: int) -> None:
    client().incr(COUNTER)
