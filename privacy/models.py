from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core import limits
from patients.models import Consent, Patient


class BreakGlassGrant(models.Model):
    """Time-limited access to a chart outside the user's care team, given a reason.

    Every grant is audited and shown to the director; it is never edited or deleted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.TextField(max_length=limits.REASON)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")), name="break_glass_expires_after_grant"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason"),
            limits.length_constraint("reason", limits.REASON),
        ]
        indexes = [models.Index(fields=["user", "expires_at"], name="break_glass_user_exp")]

    def __str__(self) -> str:
        return f"{self.user} → patient {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class Disclosure(models.Model):
    """One disclosure of a patient's records: to a third party under a Part 2 consent, or
    to the patient themself (their own record, which needs no consent: 42 CFR 2.23).

    The list of these per patient is the accounting of disclosures (42 CFR 2.24).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    to_patient = models.BooleanField(
        default=False, help_text="The patient's own record, given to the patient."
    )
    recipient = models.CharField(max_length=200)
    purpose = models.CharField(max_length=200)
    information_disclosed = models.TextField(max_length=limits.NOTE)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField()

    class Meta:
        ordering = ["-disclosed_at"]
        constraints = [
            limits.length_constraint("information_disclosed", limits.NOTE),
            # A third party only ever receives records under a consent.
            models.CheckConstraint(
                condition=Q(to_patient=True) | Q(consent__isnull=False),
                name="disclosure_needs_consent_or_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient} on {self.disclosed_at:%Y-%m-%d}"


class UserSession(models.Model):
    """Which server-side sessions belong to whom, so deactivation can end them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of {self.user_id}"
