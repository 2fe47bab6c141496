"""When instruments fall due: each site's schedules per level of care (defaults from
CLINICAL.md, edited by the director), and the daily sweep that makes sittings due and
expires the ones left unanswered past their period.

The sweep is idempotent: ``administration_create`` refuses a second open sitting and a
second one for the same day, and the rule (``measures.schedule``) only asks for a slot
no sitting covers yet, so running it hourly, twice, or on two workers makes nothing
extra."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q

from core import audit, clock
from core.models import Site, User
from patients.models import (
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    ProgramLevel,
)

from .. import schedule
from ..models import Administration, Instrument, MeasureSchedule
from .administrations import administration_create

# (instrument, level, every_days, at_admission, at_discharge): CLINICAL.md's defaults.
DEFAULT_SCHEDULES: list[tuple[str, str, int, bool, bool]] = [
    ("bam", ProgramLevel.PHP, 7, False, False),
    ("bam", ProgramLevel.IOP, 7, False, False),
    ("bam", ProgramLevel.OP, 30, False, False),
    *[
        (code, level, 30, True, True)
        for code in ("phq9", "gad7")
        for level in (ProgramLevel.PHP, ProgramLevel.IOP, ProgramLevel.OP)
    ],
]
# Check-ins appear from this hour of the site's morning (the beat ticks hourly).
SWEEP_LOCAL_HOUR = 6
# A discharge sitting is still made when the sweep first sees the discharge this late
# (a discharge recorded after the day's sweep, or on a day the sweep was down).
DISCHARGE_LOOKBACK_DAYS = 3
OPEN = (Administration.Status.DUE, Administration.Status.IN_PROGRESS)
LEVEL_BY_LABEL = {level.label: level.value for level in ProgramLevel}


def schedules_seed(*, site: Site) -> int:
    """Give a site the default schedules it lacks; a row the director changed stays."""
    made = MeasureSchedule.objects.bulk_create(
        [
            MeasureSchedule(
                site=site,
                instrument_code=code,
                level=level,
                every_days=every,
                at_admission=admission,
                at_discharge=discharge,
            )
            for code, level, every, admission, discharge in DEFAULT_SCHEDULES
        ],
        ignore_conflicts=True,
    )
    return len(made)


@transaction.atomic
def schedule_update(
    *,
    actor: User,
    schedule_row: MeasureSchedule,
    every_days: int,
    at_admission: bool,
    at_discharge: bool,
    is_active: bool,
    now: datetime | None = None,
) -> MeasureSchedule:
    now = clock.now(now)
    if not 0 <= every_days <= 366:
        raise ValidationError({"every_days": "Choose from 0 (no repeat) to 366 days."})
    if is_active and not (every_days or at_admission or at_discharge):
        raise ValidationError(
            {"every_days": "Repeat it, or ask at admission or discharge, or turn it off."}
        )
    locked = MeasureSchedule.objects.select_for_update().get(pk=schedule_row.pk)
    before = {
        "every_days": locked.every_days,
        "at_admission": locked.at_admission,
        "at_discharge": locked.at_discharge,
        "is_active": locked.is_active,
    }
    after = {
        "every_days": every_days,
        "at_admission": at_admission,
        "at_discharge": at_discharge,
        "is_active": is_active,
    }
    if before == after:
        return locked
    for name, value in after.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(after))
    audit.record(
        action="measures.schedule_updated",
        actor=actor,
        site_id=locked.site_id,
        obj=locked,
        detail={
            "instrument": locked.instrument_code,
            "level": locked.level,
            "before": before,
            "after": after,
        },
        at=now,
    )
    return locked


def _current_instruments(codes: set[str]) -> dict[str, Instrument]:
    current: dict[str, Instrument] = {}
    for instrument in Instrument.objects.filter(code__in=codes, is_active=True).order_by("-pk"):
        current.setdefault(instrument.code, instrument)
    return current


def _expire(administration: Administration, now: datetime, why: str) -> bool:
    changed = Administration.objects.filter(pk=administration.pk, status__in=OPEN).update(
        status=Administration.Status.EXPIRED
    )
    if changed:
        audit.record(
            action="measures.administration_expired",
            patient_id=administration.patient_id,
            site_id=administration.patient.site_id,
            obj=administration,
            detail={"instrument": administration.instrument.code, "why": why},
            at=now,
        )
    return bool(changed)


def _changes(enrollment: Enrollment) -> list[schedule.LevelChange]:
    return [
        schedule.LevelChange(
            effective_date=event.effective_date,
            from_level=LEVEL_BY_LABEL.get(event.from_value, enrollment.level),
            to_level=LEVEL_BY_LABEL.get(event.to_value, enrollment.level),
        )
        for event in enrollment.events.all()
    ]


@transaction.atomic
def _sweep_site(site: Site, now: datetime) -> int:
    today = clock.site_today(site, now)
    rules: dict[str, list[schedule.Rule]] = defaultdict(list)
    every: dict[tuple[str, str], int] = {}
    for row in MeasureSchedule.objects.filter(site=site, is_active=True):
        rules[row.level].append(
            schedule.Rule(row.instrument_code, row.every_days, row.at_admission, row.at_discharge)
        )
        every[(row.level, row.instrument_code)] = row.every_days
    if not rules:
        return 0
    instruments = _current_instruments({r.instrument_code for rs in rules.values() for r in rs})
    enrollments = list(
        Enrollment.objects.filter(site=site)
        .filter(
            Q(status=EnrollmentStatus.ACTIVE)
            | Q(
                status=EnrollmentStatus.DISCHARGED,
                discharge_date__gte=today - timedelta(days=DISCHARGE_LOOKBACK_DAYS),
                discharge_date__lte=today,
            )
        )
        .select_related("patient")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=EnrollmentEvent.objects.filter(kind=EnrollmentEvent.Kind.LEVEL),
            )
        )
    )
    by_enrollment: dict[int, list[Administration]] = defaultdict(list)
    for administration in Administration.objects.filter(
        enrollment__in=[e.pk for e in enrollments]
    ).select_related("instrument", "patient"):
        if administration.enrollment_id is not None:
            by_enrollment[administration.enrollment_id].append(administration)
    made = 0
    for enrollment in enrollments:
        discharged = enrollment.status == EnrollmentStatus.DISCHARGED
        day = enrollment.discharge_date if discharged and enrollment.discharge_date else today
        level = schedule.level_on(day, enrollment.level, _changes(enrollment))
        sittings = by_enrollment[enrollment.pk]
        for administration in sittings:
            if administration.status not in OPEN:
                continue
            if discharged and administration.reason != Administration.Reason.DISCHARGE:
                _expire(administration, now, "discharged")
                continue
            period = schedule.open_days(
                administration.reason, every.get((level, administration.instrument.code), 0)
            )
            if (today - administration.due_on).days >= period:
                _expire(administration, now, "not answered in its period")
        due = schedule.due_on_day(
            day=today,
            admission_date=enrollment.admission_date,
            discharge_date=enrollment.discharge_date if discharged else None,
            level=level,
            rules=rules,
            sittings=[schedule.Sitting(a.instrument.code, a.reason, a.due_on) for a in sittings],
        )
        for item in due:
            instrument = instruments.get(item.instrument_code)
            if instrument is None:
                continue
            created = administration_create(
                actor=None,
                patient=enrollment.patient,
                instrument=instrument,
                reason=item.reason,
                due_on=item.due_on,
                enrollment=enrollment,
                now=now,
            )
            made += created is not None
    return made


def administrations_make_due(*, now: datetime | None = None, site: Site | None = None) -> int:
    """Make every due sitting at ``site`` (default: every active site whose local clock
    has reached ``SWEEP_LOCAL_HOUR``); returns how many were made."""
    now = clock.now(now)
    if site is not None:
        return _sweep_site(site, now)
    made = 0
    for each in Site.objects.filter(is_active=True):
        if clock.site_now(each, now).hour >= SWEEP_LOCAL_HOUR:
            made += _sweep_site(each, now)
    return made
