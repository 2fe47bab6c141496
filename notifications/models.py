"""Reminders as an outbox: every message is a row planned ahead with the time it is due.

Reliability rests on the database, never on the broker:
- a row is unique by ``dedupe_key`` (kind, object, recipient, channel, due time), so
  planning the same reminder twice (a re-plan, two events, two beats) is a no-op;
- the beat tick claims due rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and sends
  only their ids over the broker;
- the send task claims a row with a conditional UPDATE (``pending`` to ``sending``),
  sends, then marks it ``sent``; a reconciler re-queues rows whose message was lost.

History is never edited: a staff "resend" creates a new row pointing at the old one.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import limits
from patients.models import Patient


class Kind(models.TextChoices):
    SESSION_REMINDER = "session_reminder", _("Session reminder")
    SESSION_CANCELLED = "session_cancelled", _("Session cancelled")
    DRUG_TEST_NOTICE = "drug_test_notice", _("Check-in notice (random selection)")
    TEST_DEADLINE = "test_deadline", _("Check-in deadline reminder")
    HOMEWORK_DUE = "homework_due", _("Assignment due")
    HOMEWORK_OVERDUE = "homework_overdue", _("Assignment overdue")
    MEETING_SHORTFALL = "meeting_shortfall", _("Weekly meeting shortfall")
    INJECTION_DUE = "injection_due", _("Injection due")
    CHECKIN_DUE = "checkin_due", _("Short check-in to complete")
    STAFF_DIGEST = "staff_digest", _("Staff morning digest")
    STAFF_ALERT = "staff_alert", _("Staff alert")


# Kinds a patient may switch off in the portal (the check-in notice is not optional:
# a missed random test counts as positive, so the patient must always be told). A
# cancellation is informational: it also shows in the portal schedule and the calendar
# feed, so switching its message off loses nothing a patient is held to.
PATIENT_OPTIONAL_KINDS = (
    Kind.SESSION_REMINDER,
    Kind.SESSION_CANCELLED,
    Kind.TEST_DEADLINE,
    Kind.HOMEWORK_DUE,
    Kind.HOMEWORK_OVERDUE,
    Kind.MEETING_SHORTFALL,
    Kind.INJECTION_DUE,
    Kind.CHECKIN_DUE,
)
MANDATORY_KINDS = frozenset({Kind.DRUG_TEST_NOTICE, Kind.STAFF_ALERT})
# Kinds whose text or email waits for the recipient's quiet hours to end instead of
# being dropped: the check-in notice (a missed test counts), and a cancellation (told
# late at night, dropping it would send the patient to a closed door next morning).
WAITS_OUT_QUIET_HOURS = frozenset({Kind.DRUG_TEST_NOTICE, Kind.SESSION_CANCELLED})


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    IN_APP = "in_app", _("Portal only")


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"


OPEN_STATUSES = (Status.PENDING, Status.SENDING)


class Notification(models.Model):
    kind = models.CharField(max_length=24, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # What the reminder is about (a plain label + id: the source may live in any app).
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # The planned instant (part of the key) and the earliest instant it may go out
    # (later than ``due_at`` when quiet hours or a retry back-off defer it).
    due_at = models.DateTimeField()
    deliver_after = models.DateTimeField()
    dedupe_key = models.CharField(max_length=255, unique=True)
    # Non-PHI facts the templates need (dates, ids), fixed at planning time.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set when the dispatcher put the id on the broker; a row queued long ago and still
    # pending lost its message (the reconciler clears this so the next tick re-queues it).
    queued_at = models.DateTimeField(null=True, blank=True)
    # The task (message) id that claimed the row: a redelivery of the same message may
    # take over its own claim after a worker crash; another copy of the id may not.
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # What went out, kept as the record of the message (texts are PHI-free by design).
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, max_length=limits.MESSAGE)
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_type", "object_id", "recipient", "channel", "due_at"],
                condition=Q(resend_of__isnull=True),
                name="notification_once_per_key",
            ),
            models.CheckConstraint(
                condition=Q(deliver_after__gte=models.F("due_at")),
                name="notification_not_before_due",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
            limits.length_constraint("body", limits.MESSAGE),
        ]
        indexes = [
            # The dispatcher's query: pending rows due now, not yet on the broker.
            models.Index(
                fields=["deliver_after"],
                condition=Q(status="pending"),
                name="notif_pending_due",
            ),
            models.Index(fields=["object_type", "object_id", "kind"], name="notif_object"),
            models.Index(fields=["recipient", "channel", "-sent_at"], name="notif_inbox"),
            models.Index(fields=["patient", "-due_at"], name="notif_patient"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} to {self.recipient_id} by {self.channel} at {self.due_at}"
        )

    @property
    def is_unread(self) -> bool:
        return self.channel == Channel.IN_APP and self.read_at is None


class NotificationPreference(models.Model):
    """How one person wants to be reminded. Quiet hours are wall-clock times in the
    time zone of the patient's site (or the staff member's first site)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notification_preference"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.IN_APP)
    # Kinds switched off by the user (mandatory kinds are sent whatever this says).
    disabled_kinds = models.JSONField(default=list, blank=True)
    quiet_start = models.TimeField(null=True, blank=True, default=time(21, 0))
    quiet_end = models.TimeField(null=True, blank=True, default=time(8, 0))
    # TCPA: texts only with the patient's recorded consent; STOP withdraws it.
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    @property
    def sms_allowed(self) -> bool:
        return self.sms_consent_at is not None and self.sms_opted_out_at is None

    def wants(self, kind: str) -> bool:
        return kind in MANDATORY_KINDS or kind not in (self.disabled_kinds or [])


class InboundSms(models.Model):
    """Every text received on the webhook (STOP/START/HELP and anything else)."""

    class Action(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out (STOP)"
        OPT_IN = "opt_in", "Opted back in (START)"
        HELP = "help", "Help requested"
        NONE = "none", "No action"

    received_at = models.DateTimeField()
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32, blank=True)
    # Only the keyword is kept: free text a patient sends could hold anything.
    keyword = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.NONE)
    matched_users = models.PositiveIntegerField(default=0)
    provider_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "inbound text message"

    def __str__(self) -> str:
        return f"{self.keyword or '(text)'} from ...{self.from_number[-4:]}"


def default_session_offsets() -> list[int]:
    return [24, 2]


class SiteNotificationSettings(models.Model):
    """Per-site reminder timing. A site without a row uses the defaults."""

    site = models.OneToOneField(
        "core.Site", on_delete=models.PROTECT, related_name="notification_settings"
    )
    # Hours before a session that a reminder goes out, e.g. [24, 2].
    session_reminder_hours = models.JSONField(default=default_session_offsets)
    # Site-local time of the staff morning digest.
    digest_at = models.TimeField(default=time(7, 30))

    class Meta:
        verbose_name = "site reminder settings"
        verbose_name_plural = "site reminder settings"

    def __str__(self) -> str:
        return f"Reminder settings of {self.site}"

    @property
    def offsets(self) -> list[int]:
        hours = [int(h) for h in (self.session_reminder_hours or []) if 0 < int(h) <= 24 * 7]
        return sorted(set(hours), reverse=True)
