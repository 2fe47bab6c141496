"""Demo: reminder preferences for some portal patients and a little sent history, then
the real planners (so the outbox and the portal lists are not empty)."""

from __future__ import annotations

from datetime import time, timedelta

from core.demo import DEMO_STEPS, DemoContext

from . import planning, sending
from .models import Channel, Notification, NotificationPreference, Status


@DEMO_STEPS.register("history", order=50)
def seed(ctx: DemoContext) -> None:
    patients = [p for p in ctx.patients if p.user_id]
    existing = set(
        NotificationPreference.objects.filter(
            user_id__in=[p.user_id for p in patients]
        ).values_list("user_id", flat=True)
    )
    prefs = []
    for i, patient in enumerate(patients):
        if patient.user_id in existing:
            continue
        channel = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)[i % 3]
        prefs.append(
            NotificationPreference(
                user_id=patient.user_id,
                channel=channel,
                quiet_start=time(21, 0),
                quiet_end=time(8, 0),
                sms_consent_at=ctx.now - timedelta(days=20) if channel == Channel.SMS else None,
                updated_at=ctx.now,
            )
        )
    NotificationPreference.objects.bulk_create(prefs)
    if not Notification.objects.exists():
        planning.replan_all(now=ctx.now)
        # Portal copies already due are delivered now, so the lists are not empty; the
        # email/SMS copies wait for the worker (console/file backends in development).
        due = Notification.objects.filter(
            channel=Channel.IN_APP, status=Status.PENDING, deliver_after__lte=ctx.now
        ).values_list("pk", flat=True)
        for pk in list(due):
            sending.notification_send(notification_id=pk, claim_token=f"demo-{pk}", now=ctx.now)
    ctx.log.append(
        f"notifications: {len(prefs)} preferences, {Notification.objects.count()} planned"
    )
