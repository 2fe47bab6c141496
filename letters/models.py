"""Compliance letters as sent: the exact PDF, its SHA-256 and the disclosure each one is.

A letter is written once by ``letters.services.letter_create`` and never changes: a
reprint serves these bytes (their hash checked), not a new rendering, so what the court
holds and what the clinic keeps are the same file. On PostgreSQL the database refuses
UPDATE and DELETE on letters (migration 0002); the admin is read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from core.models import Site
from patients.models import Consent, ConsentSection, Patient
from privacy.models import Disclosure


class LetterBatch(models.Model):
    """One run of batch mode: a letter to one recipient for every patient of a counselor's
    caseload whose consent names that recipient, and who was skipped and why."""

    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.CharField(max_length=200)
    sections = models.JSONField(default=list)
    period_start = models.DateField()
    period_end = models.DateField()
    # [{"patient": id, "name": "Robin Owner", "reason": "no current consent naming ..."}]
    skipped = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "letter batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="letter_batch_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"Letters to {self.recipient} ({self.created_at:%Y-%m-%d})"


class Letter(models.Model):
    """One compliance letter to a recipient named in the patient's consent."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="letters")
    disclosure = models.OneToOneField(Disclosure, on_delete=models.PROTECT, related_name="letter")
    # The letterhead it was printed on (the site's name and address may change later; the
    # stored PDF keeps what was sent).
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        LetterBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    recipient = models.CharField(max_length=200)
    sections = models.JSONField(default=list)
    period_start = models.DateField()
    period_end = models.DateField()
    pdf = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="letter_period_order"
            ),
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64), name="letter_sha256_length"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="letter_not_empty"),
            models.CheckConstraint(condition=Q(size=Length("pdf")), name="letter_size_is_the_pdfs"),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="letter_patient_recent")]

    def __str__(self) -> str:
        return f"Letter to {self.recipient} about patient {self.patient_id}"

    @property
    def section_labels(self) -> list[str]:
        return [ConsentSection(s).label for s in self.sections if s in ConsentSection.values]

    @property
    def filename(self) -> str:
        return f"letter-{self.pk}-{self.created_at:%Y%m%d}.pdf"
