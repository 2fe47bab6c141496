"""Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from core.models import Site

from .services.materialization import materialize_all, sessions_materialize
from .services.site_holidays import holidays_top_up_all


@shared_task(name="scheduling.tasks.materialize_site", acks_late=True)
def materialize_site(site_id: int) -> int:
    # Safe to run twice (acks_late redelivery): (series, occurrence_date) is unique and
    # the service inserts with ignore_conflicts.
    site = Site.objects.filter(pk=site_id, is_active=True).first()
    if site is None:
        return 0
    with transaction.atomic(durable=True):  # a task is always the outermost unit
        return sessions_materialize(site=site)


@shared_task(name="scheduling.tasks.materialize_all_sites", acks_late=True)
def materialize_all_sites() -> int:
    """Hourly (beat): keep every site's sessions materialized its rolling weeks ahead.

    Hourly rather than nightly so each site, in its own time zone, rolls its window
    forward soon after its local midnight; extra runs create nothing.
    """
    return materialize_all()


@shared_task(name="scheduling.tasks.top_up_holidays", acks_late=True)
def top_up_holidays() -> int:
    """Daily (beat): every site's public holidays for its current year and the next two.

    Only days a site has no row for are added, so a day the director removed stays
    open, and a redelivered or repeated run adds nothing.
    """
    return holidays_top_up_all()
