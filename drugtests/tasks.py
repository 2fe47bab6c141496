"""Beat jobs. Both are idempotent: the draw by its (site, date) key, the deadline job by
a conditional UPDATE on the status, so a rerun or an overlapping run changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime, time

from celery import shared_task
from django.utils import timezone

from core.models import Site

from .models import Draw, SiteTestingSettings, TestingPolicy
from .services.random_draw import draw_run
from .services.results import selections_mark_missed

logger = logging.getLogger(__name__)
DEFAULT_DRAW_TIME = time(6, 0)


def sites_due(now: datetime) -> list[Site]:
    """Sites whose local time has passed their draw time and that have no draw for today
    (or, made after hours, for a later day)."""
    settings_by_site = {s.site_id: s for s in SiteTestingSettings.objects.all()}
    with_policy = set(
        TestingPolicy.objects.filter(is_active=True).values_list("site_id", flat=True)
    )
    due = []
    for site in Site.objects.filter(is_active=True, pk__in=with_policy).order_by("pk"):
        conf = settings_by_site.get(site.pk)
        if conf is not None and not conf.draws_enabled:
            continue
        local = timezone.localtime(now, site.tz)
        if local.time() < (conf.draw_time if conf else DEFAULT_DRAW_TIME):
            continue
        # A draw made after hours is dated the next clinic day: it stands for today's too.
        if not Draw.objects.filter(site=site, date__gte=local.date()).exists():
            due.append(site)
    return due


@shared_task
def run_due_draws(now_iso: str | None = None) -> int:
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    made = 0
    for site in sites_due(now):
        try:
            result = draw_run(site=site, now=now, trigger=Draw.Trigger.BEAT)
        except Exception:
            # One site's failure must not keep the other sites from drawing.
            logger.exception("draw failed for site %s", site.pk)
            continue
        made += int(result.created)
    return made


@shared_task
def mark_missed_after_deadline(now_iso: str | None = None) -> int:
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    return selections_mark_missed(now=now)
