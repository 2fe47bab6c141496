"""A recipient's preferences, channels, addresses and time zone; and the preference write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core import audit, clock
from core.phones import phone_can_text

from .models import PATIENT_OPTIONAL_KINDS, Channel, NotificationPreference
from .signals import preferences_updated

if TYPE_CHECKING:
    from core.models import User
    from patients.models import Patient


SMS_NEEDS_MOBILE = (
    "We have no mobile number on file that can receive texts: "
    "ask the front desk to add one, or choose another way."
)


def preference_for_default(user: User) -> NotificationPreference:
    return NotificationPreference(user=user, updated_at=timezone.now())


def preference_for(user: User) -> NotificationPreference:
    """The saved preferences, or the defaults (unsaved) when there are none."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or preference_for_default(user)


def preferences_for(users: Iterable[User]) -> dict[int, NotificationPreference]:
    """``preference_for`` for many users in one query, by user id."""
    users = list(users)
    found = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in={u.pk for u in users})
    }
    for user in users:
        found.setdefault(user.pk, preference_for_default(user))
    return found


def recipient_tz(user: User, patient: Patient | None = None) -> ZoneInfo:
    if patient is not None:
        tz: ZoneInfo = patient.site.tz
        return tz
    staff = getattr(user, "staff", None)
    if staff is not None:
        site = staff.sites.order_by("pk").first() or staff.organization.sites.order_by("pk").first()
        if site is not None:
            staff_tz: ZoneInfo = site.tz
            return staff_tz
    return ZoneInfo(settings.DEFAULT_SITE_TIME_ZONE)


def address_for(channel: str, user: User, patient: Patient | None = None) -> str:
    # A staff alert is *about* a patient but goes to the staff member's own address.
    own = patient if patient is not None and patient.user_id == user.pk else None
    if channel == Channel.EMAIL:
        return (own.email if own is not None else "") or user.email
    if channel == Channel.SMS:
        if own is not None:
            return own.phone
        staff = getattr(user, "staff", None)
        return staff.phone if staff is not None else ""
    return ""


def channels_for(
    user: User, pref: NotificationPreference, patient: Patient | None = None
) -> list[str]:
    """Every reminder goes to the portal list; plus the person's chosen outside channel."""
    chosen: list[str] = [Channel.IN_APP]
    if pref.channel == Channel.EMAIL and address_for(Channel.EMAIL, user, patient):
        chosen.append(Channel.EMAIL)
    elif (
        pref.channel == Channel.SMS and pref.sms_allowed and address_for(Channel.SMS, user, patient)
    ):
        chosen.append(Channel.SMS)
    return chosen


@transaction.atomic
def preference_update(
    *,
    actor: User,
    user: User,
    channel: str,
    disabled_kinds: Iterable[str],
    quiet_start: time | None,
    quiet_end: time | None,
    sms_consent: bool,
    now: datetime | None = None,
) -> NotificationPreference:
    now = clock.now(now)
    if channel not in Channel.values:
        raise ValidationError({"channel": gettext("Choose how you want to be reminded.")})
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError(
            {"quiet_end": gettext("Give both the start and the end of quiet hours.")}
        )
    disabled = sorted({k for k in disabled_kinds if k in PATIENT_OPTIONAL_KINDS})
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"updated_at": now}
    )
    if channel == Channel.SMS and not sms_consent:
        raise ValidationError({"sms_consent": gettext("Text messages need your consent.")})
    if channel == Channel.SMS and not phone_can_text(
        address_for(Channel.SMS, user, getattr(user, "patient_record", None))
    ):
        raise ValidationError({"channel": SMS_NEEDS_MOBILE})
    changed = []
    if sms_consent and not pref.sms_allowed:
        # A new consent (also after a STOP): recorded with its date.
        pref.sms_consent_at, pref.sms_opted_out_at = now, None
        changed.append("sms_consent")
    elif not sms_consent and pref.sms_consent_at is not None and pref.sms_opted_out_at is None:
        pref.sms_opted_out_at = now
        changed.append("sms_withdrawn")
    pref.channel = channel
    pref.disabled_kinds = disabled
    pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
    pref.updated_at = now
    pref.save()
    patient = getattr(user, "patient_record", None)
    audit.record(
        action="notifications.preferences_updated",
        actor=actor,
        patient_id=patient.pk if patient else None,
        site_id=patient.site_id if patient else None,
        obj=pref,
        detail={"channel": channel, "disabled_kinds": disabled, "changes": changed},
    )
    if patient is not None:
        # A new channel or switched-off kind changes the planned rows: the re-plan
        # lives above this module (receivers.py), hence a signal.
        preferences_updated.send(sender=NotificationPreference, patient_id=patient.pk)
    return pref
