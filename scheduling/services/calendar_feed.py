"""A patient's personal calendar feed URL: issue a new one, revoke the old."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core import audit, clock
from patients.models import Patient

from ..models import CalendarFeed


@transaction.atomic
def calendar_feed_issue(*, patient: Patient, now: datetime | None = None) -> CalendarFeed:
    """A new personal feed URL; any earlier one stops working at once."""
    now = clock.now(now)
    CalendarFeed.objects.select_for_update().filter(
        patient=patient, revoked_at__isnull=True
    ).update(revoked_at=now)
    feed = CalendarFeed.objects.create(patient=patient, created_at=now)
    audit.record(
        action="calendar_feed.issued",
        actor=patient.user,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=feed,
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, patient: Patient, now: datetime | None = None) -> int:
    now = clock.now(now)
    count = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if count:
        audit.record(
            action="calendar_feed.revoked",
            actor=patient.user,
            patient_id=patient.pk,
            site_id=patient.site_id,
        )
    return count
