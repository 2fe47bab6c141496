"""The staff morning digest: one per active staff member a day, at the first site's
digest time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from core.models import User

from ..models import Kind, SiteNotificationSettings
from ..outbox import Planned, sync_object_reminders
from ..preferences import channels_for, preferences_for
from ..registry import ReminderSource, register

STAFF_USER = "core.User"
DEFAULT_DIGEST_AT = time(7, 30)


def plan_digests(*, now: datetime | None = None) -> int:
    now = clock.now(now)
    staff = list(
        User.objects.filter(is_active=True, staff_profile__isnull=False).prefetch_related(
            "staff_profile__sites"
        )
    )
    settings_by_site = {s.site_id: s for s in SiteNotificationSettings.objects.all()}
    prefs = preferences_for(staff)
    for user in staff:
        sites = sorted(user.staff_profile.sites.all(), key=lambda s: s.pk)
        if not sites:
            continue
        site = sites[0]
        at = settings_by_site.get(site.pk)
        digest_time = at.digest_at if at else DEFAULT_DIGEST_AT
        day = timezone.localdate(now, site.tz)
        due_at = local_datetime(day, digest_time, site.tz)
        planned: list[Planned] = []
        if due_at + timedelta(hours=2) > now:
            pref = prefs[user.pk]
            planned.append(
                Planned(
                    kind=Kind.STAFF_DIGEST,
                    recipient=user,
                    due_at=due_at,
                    payload={"day": day.isoformat()},
                    channels=channels_for(user, pref, None),
                    pref=pref,
                    tz=site.tz,
                )
            )
        sync_object_reminders(
            kind=Kind.STAFF_DIGEST,
            object_type=STAFF_USER,
            object_id=user.pk,
            planned=planned,
            now=now,
        )
    return len(staff)


SOURCE = register(
    ReminderSource(
        name="digests",
        kinds=frozenset({Kind.STAFF_DIGEST}),
        object_types=frozenset({STAFF_USER}),
        sweeps=(plan_digests,),
    )
)
