"""Rows for the timeline's tests, written straight to the tables: the timeline reads
what the apps' services wrote, and these tests are about the reading."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

_serial = count(1)


def make_attendance(patient, *, at: datetime, status="present", minutes=180, topic=""):
    from patients.models import Track
    from scheduling.models import Attendance, Session

    track = Track.objects.filter(site=patient.site).first()
    if track is None:
        track = Track.objects.create(
            site=patient.site, name="IOP Evening", kind="evening", level="2.1"
        )
    session = Session.objects.create(
        site=patient.site,
        track=track,
        local_date=at.astimezone(patient.site.tz).date(),
        starts_at=at,
        ends_at=at + timedelta(hours=3),
        kind="group",
        topic=topic,
        created_at=timezone.now(),
    )
    credited = minutes if status in ("present", "late", "left_early") else 0
    return Attendance.objects.create(
        session=session,
        patient=patient,
        status=status,
        minutes_credited=credited,
        recorded_at=timezone.now(),
        updated_at=timezone.now(),
    )


def make_test(patient, *, at: datetime, collector, outcome="negative", positive=()):
    """A for-cause test collected at ``at`` with a point-of-care result entered then."""
    from drugtests.models import (
        AnalyteResult,
        Selection,
        Specimen,
        TestingPolicy,
        TestResult,
    )

    policy = TestingPolicy.objects.filter(site=patient.site).first()
    if policy is None:
        policy = TestingPolicy.objects.create(site=patient.site, name="Phase 1", frequency=2)
    selection = Selection.objects.create(
        patient=patient,
        site=patient.site,
        date=at.astimezone(patient.site.tz).date(),
        kind="for_cause",
        reason="Observed behaviour",
        policy=policy,
        deadline=at + timedelta(hours=2),
        status="collected",
        outcome=outcome,
        created_at=at - timedelta(hours=1),
    )
    specimen = Specimen.objects.create(
        selection=selection,
        patient=patient,
        collected_by=collector,
        collected_at=at,
        specimen_type="urine",
        observed=True,
        temperature_in_range=True,
        validity="valid",
        chain_of_custody_id=f"TL{next(_serial)}",
        method="poc",
    )
    result = TestResult.objects.create(
        specimen=specimen, source="poc", entered_by=collector, entered_at=at + timedelta(minutes=5)
    )
    for analyte in ("opiates", "cocaine"):
        AnalyteResult.objects.create(
            result=result,
            analyte=analyte,
            outcome="positive" if analyte in positive else "negative",
            ng_ml=Decimal("350") if analyte in positive else None,
            interpretation="unexpected_positive" if analyte in positive else "expected_negative",
        )
    return selection


def make_meeting(patient, *, at: datetime, logged_by, status="verified", name="Hope group"):
    from recovery.models import Meeting

    reviewed = status != "pending"
    return Meeting.objects.create(
        patient=patient,
        site=patient.site,
        held_at=at,
        fellowship="na",
        name=name,
        mode="online",
        status=status,
        logged_by=logged_by,
        logged_at=at + timedelta(hours=2),
        reviewed_by=logged_by if reviewed else None,
        reviewed_at=at + timedelta(hours=3) if reviewed else None,
    )


def make_note(
    patient,
    *,
    at: datetime,
    author,
    kind="individual",
    status="signed",
    late=False,
    data="",
    requires_cosign=False,
):
    from records.models import ProgressNote

    signed = status != "draft"
    service = {
        "individual": "individual_counseling",
        "family": "family_counseling",
        "mat": "medication_management",
    }[kind]
    return ProgressNote.objects.create(
        patient=patient,
        site=patient.site,
        kind=kind,
        format="DAP",
        service_type=service,
        service_date=at.astimezone(patient.site.tz).date(),
        starts_at=at,
        ends_at=at + timedelta(minutes=50),
        data=data,
        author=author,
        author_credentials="CADC-T",
        created_at=at,
        updated_at=at,
        due_on=at.astimezone(patient.site.tz).date() + timedelta(days=3),
        status=status,
        signed_at=at + timedelta(days=5 if late else 0, hours=1) if signed else None,
        is_late=late,
        requires_cosign=requires_cosign,
        content_hash="0" * 64 if signed else "",
    )


def make_group_note(patient, *, attendance, author, topic="Coping with cravings", minutes=170):
    """The attendee's copy of a signed group note for the session of ``attendance``."""
    from records.models import GroupNote, ProgressNote

    session = attendance.session
    group = GroupNote.objects.create(
        session=session,
        author=author,
        topic=topic,
        service_type="group_counseling",
        shared_text="Shared part",
        status="signed",
        created_at=session.ends_at,
        updated_at=session.ends_at,
        signed_at=session.ends_at,
        content_hash="0" * 64,
    )
    return ProgressNote.objects.create(
        patient=patient,
        site=patient.site,
        kind="group",
        service_type="group_counseling",
        session=session,
        group_note=group,
        attendance=attendance,
        attendance_status=attendance.status,
        minutes=minutes,
        service_date=session.local_date,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        shared_text="Shared part",
        topic=topic,
        author=author,
        created_at=session.ends_at,
        updated_at=session.ends_at,
        due_on=session.local_date + timedelta(days=3),
        status="signed",
        signed_at=session.ends_at,
        content_hash="0" * 64,
    )


def make_plan_version(patient, *, signed_at: datetime, author, number=1):
    from records.models import PlanVersion, TreatmentPlan

    enrollment = patient.enrollments.order_by("-admission_date").first()
    plan, _ = TreatmentPlan.objects.get_or_create(
        enrollment=enrollment, defaults={"patient": patient, "created_at": signed_at}
    )
    return PlanVersion.objects.create(
        plan=plan,
        number=number,
        kind="initial" if number == 1 else "review",
        level=enrollment.level,
        author=author,
        created_at=signed_at - timedelta(hours=1),
        updated_at=signed_at,
        status="signed",
        signed_at=signed_at,
        author_credentials="LCSW",
        content_hash="0" * 64,
    )


def build_history(patient, size: int, *, before: datetime, counselor, collector) -> None:
    """``size`` of each kind of entry, a day apart, going back from ``before``."""
    for i in range(size):
        at = before - timedelta(days=i, hours=1)
        make_attendance(patient, at=at, status=["present", "late", "unexcused"][i % 3])
        make_test(patient, at=at + timedelta(minutes=10), collector=collector)
        make_meeting(patient, at=at - timedelta(hours=3), logged_by=counselor)
        make_note(patient, at=at + timedelta(minutes=20), author=counselor, late=i % 2 == 1)
    make_plan_version(patient, signed_at=before - timedelta(days=size), author=counselor)
