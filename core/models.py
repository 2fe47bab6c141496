from __future__ import annotations

import re
from datetime import date, time
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.functional import cached_property

from . import limits
from .phones import PhoneField

if TYPE_CHECKING:
    from patients.models import Patient


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/New_York).")


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Prefix for generated medical record numbers (MRNs are unique per organisation).
    mrn_prefix = models.CharField(max_length=8, default="SW")
    # Last MRN number issued; incremented under a row lock by ``patient_admit``.
    mrn_counter = models.PositiveIntegerField(default=0)
    # The number reminder texts are sent from: a reply to it (STOP, START) applies to this
    # organisation's patients only. Blank: the sites' numbers, or SMS_FROM when the
    # deployment serves one organisation (notifications.inbound).
    sms_number = PhoneField(
        verbose_name="text message number",
        help_text="The number reminder texts come from (SMS_FROM), e.g. +15185550100.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sms_number"],
                condition=~models.Q(sms_number=""),
                name="org_sms_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Words that tell a reader of an envelope or a letterhead what the clinic treats. A letter
# goes to a court clerk or an employer's mailroom; the site's own name ("Riverside Recovery
# Center") often says it, so letters carry a name of the site's choosing, neutral unless the
# site states that it may name its services.
TREATMENT_WORDS = (
    "addiction",
    "alcohol",
    "chemical dependency",
    "detox",
    "drug",
    "narcotic",
    "opioid",
    "recovery",
    "rehab",
    "sober",
    "sobriety",
    "substance",
    "treatment",
)
NEUTRAL_LETTERHEAD = "Health Services"


def letterhead_reveals_treatment(name: str) -> list[str]:
    """The words of ``TREATMENT_WORDS`` that ``name`` contains (whole words, any case)."""
    folded = " ".join(re.findall(r"[a-z]+", name.casefold()))
    return [w for w in TREATMENT_WORDS if re.search(rf"\b{w}", folded)]


class Site(models.Model):
    """A clinic location. Every schedule at a site is computed in its own time zone."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=20, help_text="Short code used on the command line.")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    address = models.TextField(blank=True, max_length=limits.ADDRESS)
    phone = PhoneField()
    # Counselors normally see their caseload and their groups' rosters; a small site
    # may choose to let every counselor see every patient of the site.
    counselors_see_whole_site = models.BooleanField(default=False)
    # Where the site is, for its public holidays (the ``holidays`` package's codes).
    country = models.CharField(max_length=2, default="US", help_text="ISO country code, e.g. US.")
    subdivision = models.CharField(
        max_length=10, blank=True, help_text="State or province code, e.g. NY (for holidays)."
    )
    # Opening hours bound what the clinic can ask of a patient the same day: a drug-test
    # notice and its deadline fall inside them, never at night.
    opens_at = models.TimeField(default=time(8, 0))
    closes_at = models.TimeField(default=time(18, 0))
    clock_24h = models.BooleanField(
        default=False, verbose_name="24-hour clock", help_text="Show times as 18:00, not 6:00 PM."
    )
    # What heads the site's letters and the records it prints (core.pdf.Letterhead).
    letterhead_name = models.CharField(
        max_length=200,
        default=NEUTRAL_LETTERHEAD,
        help_text="The name printed on letters. Keep it neutral: a letter may be opened by "
        "someone the patient has not told about their treatment.",
    )
    letterhead_names_treatment = models.BooleanField(
        default=False,
        verbose_name="letterhead may name our services",
        help_text="Tick to print a letterhead name that says what the clinic treats.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="site_code_unique"),
            models.UniqueConstraint(fields=["organization", "name"], name="site_name_unique"),
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="site_opens_before_it_closes",
            ),
            limits.length_constraint("address", limits.ADDRESS),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The admin's check; the director's letterhead page goes through the same rule in
        # its service (letters.services.site_letterhead_update).
        words = letterhead_reveals_treatment(self.letterhead_name)
        if words and not self.letterhead_names_treatment:
            raise ValidationError(
                {
                    "letterhead_name": f"This name says what the clinic treats ({', '.join(words)})"
                    ": choose a neutral one, or tick 'letterhead may name our services'."
                }
            )

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    DIRECTOR = "director", "Program director"
    COUNSELOR = "counselor", "Counselor"
    MEDICAL = "medical", "Medical staff"
    FRONT_DESK = "frontdesk", "Front desk"
    COLLECTOR = "collector", "Collection technician"


class User(AbstractUser):
    """Unique account for every person: staff have a StaffProfile, patients a Patient."""

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def staff(self) -> StaffProfile | None:
        try:
            return self.staff_profile
        except StaffProfile.DoesNotExist:
            return None

    @cached_property
    def role(self) -> str | None:
        return self.staff.role if self.staff else None

    @property
    def is_clinic_staff(self) -> bool:
        return self.staff is not None and self.is_active

    @property
    def patient_record(self) -> Patient | None:
        # Patient.user's reverse accessor, so core never imports patients. Filled once
        # with the patient's site in the same query (every portal page reads the site's
        # clock); the accessor then answers, a missing patient included.
        accessor = type(self).patient
        if not accessor.is_cached(self):
            model = cast("type[Patient]", accessor.related.related_model)
            patients = model._default_manager.select_related("site")
            prefetch_related_objects([self], Prefetch("patient", queryset=patients))
        try:
            return self.patient
        except ObjectDoesNotExist:
            return None

    @property
    def needs_second_factor(self) -> bool:
        # Everyone who reaches staff screens or the admin: a superuser made with
        # createsuperuser has no staff profile, and the admin shows every record.
        return self.is_active and (self.is_clinic_staff or self.is_superuser)

    @property
    def is_portal_patient(self) -> bool:
        return self.staff is None and self.patient_record is not None


class StaffProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="staff_profile")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    sites = models.ManyToManyField(Site, related_name="staff", blank=True)
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. LCSW, CADC, RN")
    # An unlicensed author's notes and plans need a licensed clinician's countersignature.
    licensed = models.BooleanField(
        default=False, help_text="A licensed clinician, who may countersign others' notes."
    )
    supervisor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervisees",
        help_text="Who countersigns this person's notes and plans (a licensed clinician).",
    )
    phone = PhoneField()
    # Coverage for urgent work (a PHQ-9 safety follow-up): while a counselor is away, their
    # patients' urgent alerts also go to the clinicians marked on duty.
    away_until = models.DateField(
        null=True,
        blank=True,
        help_text="Away (leave, sick) up to and including this day; empty when at work.",
    )
    on_duty = models.BooleanField(
        default=False,
        help_text="The on-duty clinician: also sees urgent alerts of away counselors' patients.",
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def sees_all_sites(self) -> bool:
        return self.role == Role.DIRECTOR

    @property
    def requires_cosign(self) -> bool:
        return not self.licensed

    def is_away(self, today: date) -> bool:
        return self.away_until is not None and self.away_until >= today


class AuditEvent(models.Model):
    """Append-only trail of who read or changed what.

    A row is written with ``row_mac``, an HMAC of its own fields under the keyring's
    current key (``key_id`` names it), and no lock. The sealer (``core.audit.seal``) then
    chains rows in id order: it sets ``seq``, ``prev_hash`` and ``hash`` (an HMAC of the
    row's MAC and the previous row's hash), once. ``verify_audit`` checks both, so an edit,
    a deletion or a reordering shows. Rows from before the keyring (``row_mac`` empty,
    key ``legacy``) were chained as they were written: their ``hash`` covers the fields.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "Allowed"
        DENIED = "denied", "Denied"
        FAILED = "failed", "Failed"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    # A plain id, not a foreign key: the trail must outlive and never constrain the data.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    site_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    key_id = models.CharField(max_length=32)
    row_mac = models.CharField(max_length=64, blank=True)
    # The seal: NULL until the sealer chains the row, then never changed (the trigger).
    seq = models.BigIntegerField(unique=True, null=True, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        # By id: the order rows were written in, known before a row is sealed.
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["patient_id", "-at"], name="audit_patient_at"),
            # Lockout counts recent failures per username and per IP.
            models.Index(fields=["action", "actor_label", "at"], name="audit_action_label_at"),
            models.Index(fields=["action", "ip", "at"], name="audit_action_ip_at"),
            # The sealer's work list stays small however long the trail grows.
            models.Index(fields=["id"], name="audit_unsealed", condition=models.Q(seq=None)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(seq=None, prev_hash=None, hash=None)
                    | models.Q(seq__gt=0, prev_hash__isnull=False, hash__isnull=False)
                ),
                name="audit_seal_all_or_nothing",
            ),
            models.CheckConstraint(condition=~models.Q(key_id=""), name="audit_key_id_set"),
            # Only rows from before the keyring may lack their own MAC, and they are sealed.
            models.CheckConstraint(
                condition=~models.Q(row_mac="") | models.Q(key_id="legacy", seq__isnull=False),
                name="audit_row_mac_set",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label or 'system'}"


class BeatHeartbeat(models.Model):
    """When Celery beat's heartbeat task last ran (``core.tasks.beat_heartbeat``), so that
    /healthz can say "beat: stale" when the scheduled jobs have stopped.

    One row in the database rather than a cache key: the cache is per process (Django's
    default local-memory cache, as configured), and the web must read what a worker wrote.
    The row proves the whole path ran: beat queued the task, the broker carried it, a
    worker executed it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    beat_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="beat_heartbeat_one_row")
        ]

    def __str__(self) -> str:
        return f"beat heartbeat at {self.beat_at.isoformat()}"
