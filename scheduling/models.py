"""The tracks' weekly session series (``patients.Track``), materialized sessions and attendance.

Times: a series is a local wall-clock rule (RFC 5545 ``RRULE`` + local start/end) in the
SITE's time zone; each materialized ``Session`` stores aware datetimes and its site-local
date, so a session at 18:00 stays at 18:00 local on both sides of a DST change.
Nothing here is hard-deleted: sessions are cancelled or removed from the schedule,
attendance changes are kept in ``AttendanceChange``.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time

from dateutil.rrule import rrulestr
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core import limits
from core.models import Site
from patients.models import Patient, Track

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def validate_open_days(value: str) -> None:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    bad = [c for c in codes if c not in WEEKDAY_CODES]
    if not codes or bad:
        raise ValidationError(
            "List the open days as two-letter codes separated by commas, e.g. MO,TU,WE,TH,FR."
        )


class SiteSchedule(models.Model):
    """Per-site scheduling rules. A site without a row uses the defaults below."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="schedule")
    # Comma-separated RFC 5545 day codes the site is open, e.g. "MO,TU,WE,TH,FR".
    open_days = models.CharField(
        max_length=30, default="MO,TU,WE,TH,FR", validators=[validate_open_days]
    )
    weeks_ahead = models.PositiveSmallIntegerField(
        default=6, help_text="Sessions are materialized this many weeks ahead."
    )
    # Attendance of a session more than this many days old is a late entry or a
    # correction: it needs a written reason, kept in the attendance history.
    attendance_edit_days = models.PositiveSmallIntegerField(default=3)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weeks_ahead__gte=1) & Q(weeks_ahead__lte=26),
                name="site_schedule_weeks_ahead_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule rules of {self.site}"

    @property
    def open_weekdays(self) -> set[int]:
        codes = {c.strip().upper() for c in self.open_days.split(",") if c.strip()}
        return {i for i, c in enumerate(WEEKDAY_CODES) if c in codes}

    @classmethod
    def for_site(cls, site: Site) -> SiteSchedule:
        found = cls.objects.filter(site=site).first()
        return found or cls(site=site)


class HolidayStatus(models.TextChoices):
    CLOSED = "closed", "Closed"
    # Removed by the director (the clinic opens that day). The row stays so the yearly
    # top-up from the public calendar does not bring the day back.
    OPEN = "open", "Open (removed)"


class HolidaySource(models.TextChoices):
    PUBLIC = "public", "Public holiday"
    SITE = "site", "Added by the site"


class Holiday(models.Model):
    """A day the site is closed: no session is held (each is shown as cancelled).

    A site starts with its country's and state's public holidays
    (``services.holidays_seed``); the director adds closures and removes the public
    days the clinic keeps open (``status`` open), never by deleting the row.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=80)
    status = models.CharField(
        max_length=6, choices=HolidayStatus.choices, default=HolidayStatus.CLOSED
    )
    source = models.CharField(
        max_length=6, choices=HolidaySource.choices, default=HolidaySource.SITE
    )
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site", "date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "date"], name="holiday_unique_per_site_day"),
            models.CheckConstraint(
                condition=Q(status__in=["closed", "open"]), name="holiday_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["public", "site"]), name="holiday_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"

    @property
    def is_closed(self) -> bool:
        return self.status == HolidayStatus.CLOSED


class SessionKind(models.TextChoices):
    GROUP = "group", _("Group therapy")
    CBT = "cbt", _("CBT group")
    DBT = "dbt", _("DBT skills group")
    RELAPSE_PREVENTION = "relapse_prevention", _("Relapse prevention")
    PSYCHOEDUCATION = "psychoeducation", _("Psychoeducation")
    TWELVE_STEP = "twelve_step", _("12-step facilitation")
    FAMILY_GROUP = "family_group", _("Family group")
    INDIVIDUAL = "individual", _("Individual counseling")
    FAMILY = "family", _("Family session")
    MEDICATION = "medication", _("Medication management")
    CASE_MANAGEMENT = "case_management", _("Case management")


INDIVIDUAL_KINDS = frozenset(
    {
        SessionKind.INDIVIDUAL,
        SessionKind.FAMILY,
        SessionKind.MEDICATION,
        SessionKind.CASE_MANAGEMENT,
    }
)
GROUP_KINDS = tuple(k for k in SessionKind if k not in INDIVIDUAL_KINDS)
# The neutral label the portal and the iCal feed show: no diagnosis or program name.
NEUTRAL_TITLES = {True: "Appointment", False: "Group session"}


class SessionSeries(models.Model):
    """A weekly series of a track, as an RFC 5545 rule on site-local wall-clock times.

    Editing a series (``services.series_update``) changes sessions from an effective
    date on; sessions already held keep the times they were held at.
    """

    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="series")
    kind = models.CharField(max_length=20, choices=SessionKind.choices, default=SessionKind.GROUP)
    topic = models.CharField(max_length=120, blank=True)
    # e.g. "FREQ=WEEKLY;BYDAY=MO,WE,FR" (no DTSTART: it is built from starts_on + start_time).
    rrule = models.CharField("recurrence rule", max_length=200)
    start_time = models.TimeField(help_text="Local time at the site.")
    end_time = models.TimeField(help_text="Local time at the site.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    room = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["track", "start_time", "pk"]
        verbose_name_plural = "session series"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="series_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="series_ends_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track}: {self.days_label} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def weekday_codes(self) -> list[str]:
        for part in self.rrule.upper().split(";"):
            key, _, value = part.partition("=")
            if key == "BYDAY":
                return [c.strip()[-2:] for c in value.split(",") if c.strip()]
        return []

    @property
    def days_label(self) -> str:
        return "/".join(WEEKDAY_NAMES[WEEKDAY_CODES.index(c)] for c in self.weekday_codes)

    def occurrence_dates(self, first: date, last: date) -> list[date]:
        """Local dates of the rule between ``first`` and ``last`` (inclusive)."""
        if self.ends_on is not None:
            last = min(last, self.ends_on)
        first = max(first, self.starts_on)
        if last < first:
            return []
        # Evaluated on naive local dates: DST never shifts a wall-clock rule.
        rule = rrulestr(self.rrule, dtstart=datetime.combine(self.starts_on, time()))
        return [
            d.date()
            for d in rule.between(
                datetime.combine(first, time()), datetime.combine(last, time()), inc=True
            )
        ]


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    # Taken off the schedule by a series edit before it was held (not shown anywhere).
    REMOVED = "removed", "Removed from the schedule"


class Session(models.Model):
    """One meeting: a materialized occurrence of a series, or a one-off/individual session."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sessions")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    series = models.ForeignKey(
        SessionSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    # The rule's date for this occurrence (the idempotency key with ``series``); a
    # moved session keeps it while ``local_date``/``starts_at`` change.
    occurrence_date = models.DateField(null=True, blank=True)
    local_date = models.DateField(help_text="Site-local date of the start.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    topic = models.CharField(max_length=120, blank=True)
    # Individual sessions (1:1, family, medication management) are for one patient.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    room = models.CharField(max_length=80, blank=True)
    video_link = models.URLField(blank=True)
    capacity = models.PositiveSmallIntegerField(default=12)
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    status_reason = models.CharField(max_length=200, blank=True)
    is_moved = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "occurrence_date"],
                condition=Q(series__isnull=False),
                name="session_once_per_series_date",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(patient__isnull=True, track__isnull=False)
                | Q(patient__isnull=False, track__isnull=True),
                name="session_group_xor_individual",
            ),
            models.CheckConstraint(
                condition=Q(series__isnull=True) | Q(occurrence_date__isnull=False),
                name="series_session_has_occurrence_date",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
        ]
        indexes = [
            models.Index(fields=["site", "local_date"], name="session_site_day"),
            # Hours, compliance and the alert rules read a caseload's week by date alone
            # (the patients span sites); without it every page read all sessions ever.
            models.Index(fields=["local_date"], name="session_day"),
            models.Index(fields=["track", "local_date"], name="session_track_day"),
            models.Index(fields=["facilitator", "starts_at"], name="session_facilitator_start"),
            models.Index(fields=["patient", "starts_at"], name="session_patient_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.local_date}"

    @property
    def is_individual(self) -> bool:
        return self.patient_id is not None

    @property
    def is_cancelled(self) -> bool:
        return self.status != SessionStatus.SCHEDULED

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @cached_property
    def title(self) -> str:
        label = self.get_kind_display()
        if not self.topic or self.topic.lower() == label.lower():
            return label
        return f"{label}: {self.topic}"

    @property
    def neutral_title(self) -> str:
        return NEUTRAL_TITLES[self.is_individual]

    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.site.tz)

    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.site.tz)


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    LEFT_EARLY = "left_early", "Left early"
    EXCUSED = "excused", "Excused absence"
    UNEXCUSED = "unexcused", "Unexcused absence"


ATTENDED_STATUSES = frozenset(
    {AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY}
)


class Attendance(models.Model):
    """One patient at one session. Corrections are recorded in ``AttendanceChange``."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendance")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=12, choices=AttendanceStatus.choices)
    arrived_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    minutes_credited = models.PositiveIntegerField(default=0)
    note = models.TextField("participation note", blank=True, max_length=limits.NOTE)
    # A make-up attendee who is not on the session's roster.
    is_guest = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "patient"]
        constraints = [
            models.UniqueConstraint(fields=["session", "patient"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True)
                | Q(left_at__isnull=True)
                | Q(left_at__gt=F("arrived_at")),
                name="attendance_left_after_arrival",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["present", "late", "left_early"]) | Q(minutes_credited=0),
                name="absence_credits_nothing",
            ),
            limits.length_constraint("note", limits.NOTE),
        ]
        indexes = [models.Index(fields=["patient", "session"], name="attendance_patient")]

    def __str__(self) -> str:
        return f"{self.patient_id} at {self.session_id}: {self.status}"


class AttendanceChange(models.Model):
    """Append-only history of every attendance write (who, when, what, and why)."""

    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    from_minutes = models.PositiveIntegerField(null=True, blank=True)
    to_minutes = models.PositiveIntegerField()
    reason = models.TextField(blank=True, max_length=limits.REASON)

    class Meta:
        ordering = ["changed_at", "pk"]
        constraints = [
            limits.length_constraint("reason", limits.REASON),
        ]

    def __str__(self) -> str:
        return f"{self.attendance_id}: {self.from_status or '-'} -> {self.to_status}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A patient's personal iCal URL. Regenerating revokes the old token."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="calendar_feeds")
    # A capability URL for session times only (no diagnosis, no program name), so it is
    # stored as issued: the patient must be able to copy it again from the portal.
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_feed_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.patient_id}"


class WeeklyHours(models.Model):
    """Minutes a patient attended in one site-local week (Monday to Sunday), precomputed.

    Read by every page that shows hours; written only by ``services.weekly_hours``, which
    recomputes the whole week from the attendance rows in the transaction of each
    attendance write (never an increment, so it cannot drift) and rebuilds date ranges
    for bulk writers (the demo, the bench seeder, the backfill). Scheduled and remaining
    minutes are not kept: they follow rosters (``patients``' memberships) and the clock.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weekly_hours")
    week_start = models.DateField(help_text="Site-local Monday of the week.")
    attended_minutes = models.PositiveIntegerField(default=0)
    # Attended minutes per day of the week, Monday first (seven integers).
    day_minutes = models.JSONField(default=list)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "week_start"]
        verbose_name_plural = "weekly hours"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "week_start"], name="weekly_hours_once_per_week"
            ),
        ]
        indexes = [models.Index(fields=["week_start"], name="weekly_hours_week")]

    def __str__(self) -> str:
        return f"{self.patient_id} week of {self.week_start}: {self.attended_minutes} min"
