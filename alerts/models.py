"""The alert queue's rows: one per cause (its ``key``), raised and resolved by
``services.alerts_reconcile`` from the rules in ``core.alerts``.

A row is never deleted: a resolved alert keeps who set it aside and why, and the same
cause coming back re-opens its row rather than raising a second one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# The reason typed when an alert is acknowledged or snoozed.
REASON_MAX = 500
SNOOZE_MAX_DAYS = 30


class Severity(models.TextChoices):
    DANGER = "danger", "Urgent"
    WARNING = "warning", "Action needed"
    INFO = "info", "Note"


SEVERITY_RANK = {Severity.DANGER: 0, Severity.WARNING: 1, Severity.INFO: 2}


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED)


class Alert(models.Model):
    # The registered rule's name (core.alerts.RULES), which picks a role's queue.
    rule = models.CharField(max_length=60)
    kind = models.CharField(max_length=60)
    # One row per cause: the rule's key names it (a note, a test finding, a week).
    key = models.CharField(max_length=200, unique=True)
    # The cause within the rule (the key without the rule's prefix).
    subject = models.CharField(max_length=200)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    can_set_aside = models.BooleanField(default=True)
    message = models.CharField(max_length=500)
    action_url = models.CharField(max_length=300)
    action_label = models.CharField(max_length=80)
    raised_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    due = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=AlertState.choices, default=AlertState.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=REASON_MAX, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=AlertState.SNOOZED) | Q(snoozed_until__isnull=False),
                name="alert_snoozed_has_until",
            ),
            models.CheckConstraint(
                condition=Q(state=AlertState.RESOLVED, resolved_at__isnull=False)
                | (~Q(state=AlertState.RESOLVED) & Q(resolved_at__isnull=True)),
                name="alert_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[AlertState.ACKNOWLEDGED, AlertState.SNOOZED])
                | (Q(acted_by__isnull=False, acted_at__isnull=False) & ~Q(reason="")),
                name="alert_set_aside_has_reason",
            ),
            # A safety follow-up stays in the queue until the follow-up is recorded.
            models.CheckConstraint(
                condition=Q(can_set_aside=True)
                | ~Q(state__in=[AlertState.ACKNOWLEDGED, AlertState.SNOOZED]),
                name="alert_kept_when_not_set_aside",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in AlertState]), name="alert_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=[s.value for s in Severity]),
                name="alert_severity_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "state"], name="alert_patient_state"),
            models.Index(fields=["owner", "state"], name="alert_owner_state"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def patient_name(self) -> str:
        return str(self.patient.display_name)

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[Severity(self.severity)]
