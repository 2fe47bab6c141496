"""Shared fixtures of the progress-note tests: the clinicians' credentials and licences
(as the demo has them), a note factory, a signed plan with one objective, and an
organisation of its own whose director must see nothing here.

Import the fixtures a module uses: ``from tests.records._notes_fixtures import *``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from core.clock import local_datetime

__all__ = [
    "clinicians",
    "make_note",
    "make_plan",
    "other_org_director",
    "service_day",
    "signed_note",
    "write_all",
]


def service_day(today: date, days_ago: int = 1) -> date:
    return today - timedelta(days=days_ago)


@pytest.fixture
def clinicians(director, counselor, other_counselor, nurse):
    """Credentials and licence as in the demo: the counselor is unlicensed, supervised by
    the director; the colleague and the nurse are licensed."""
    from core.models import StaffProfile

    for user, credentials, licensed, supervisor in (
        (director, "LCSW", True, None),
        (counselor, "CADC-T", False, director),
        (other_counselor, "LMHC", True, None),
        (nurse, "RN", True, None),
    ):
        StaffProfile.objects.filter(user=user).update(
            credentials=credentials, licensed=licensed, supervisor=supervisor
        )
        user.refresh_from_db()
    return {"director": director, "counselor": counselor, "nurse": nurse}


@pytest.fixture
def make_note(clinicians, test_now, today):
    """Start a note through the service (a day before today, 10:00-10:50 site time)."""
    from records.services.notes import note_start

    def make(patient, author, *, day: date | None = None, now: datetime | None = None, **kw):
        day = day or service_day(today)
        tz = patient.site.tz
        values = {
            "kind": "individual",
            "format": "DAP",
            "service_type": "individual_counseling",
            "service_date": day,
            "starts_at": local_datetime(day, time(10, 0), tz),
            "ends_at": local_datetime(day, time(10, 50), tz),
        }
        values.update(kw)
        return note_start(actor=author, patient=patient, now=now or test_now, **values)

    return make


def write_all(note, author, *, now=None, objective_ids=()):
    """Fill every section of the note's format (what signing needs)."""
    from records.models import FORMAT_SECTIONS
    from records.services.notes import note_update

    return note_update(
        actor=author,
        note=note,
        sections={n: f"{n} text" for n in FORMAT_SECTIONS[note.format]},
        objective_ids=objective_ids,
        now=now,
    )


@pytest.fixture
def signed_note(make_note, patient, counselor, test_now):
    from records.services.notes import note_sign

    note = write_all(make_note(patient, counselor), counselor)
    return note_sign(actor=counselor, note=note, now=test_now)


@pytest.fixture
def make_plan(test_now, today):
    """A signed plan version with one problem, goal and active objective (built directly:
    the plans area has its own services and tests)."""
    from records.models import (
        PlanGoal,
        PlanObjective,
        PlanProblem,
        PlanVersion,
        RecordStatus,
        TreatmentPlan,
    )
    from records.signing import digest, plan_version_payload

    def make(patient, author):
        enrollment = patient.enrollments.order_by("-admission_date").first()
        plan = TreatmentPlan.objects.create(
            enrollment=enrollment, patient=patient, created_at=test_now
        )
        version = PlanVersion.objects.create(
            plan=plan,
            number=1,
            kind="initial",
            level=enrollment.level,
            author=author,
            created_at=test_now,
            updated_at=test_now,
        )
        problem = PlanProblem.objects.create(
            version=version, dimension=5, description="Cravings after work"
        )
        goal = PlanGoal.objects.create(
            version=version, problem=problem, text="I want to stay clean"
        )
        objective = PlanObjective.objects.create(
            version=version,
            goal=goal,
            text="Name three triggers and a plan for each",
            target_date=today + timedelta(days=30),
        )
        version.content_hash = digest(plan_version_payload(version))
        version.signed_at = test_now
        version.status = RecordStatus.SIGNED
        version.save()
        return version, objective

    return make


@pytest.fixture
def other_org_director(db):
    """The director of another organisation (sees every site of their own)."""
    from django.contrib.auth.models import Group

    from core.models import Organization, Site, StaffProfile, User
    from core.roles import ensure_role_groups, role_group_name

    ensure_role_groups()
    org = Organization.objects.create(name="Elsewhere Health", mrn_prefix="EH")
    site = Site.objects.create(
        organization=org, name="Elsewhere", code="else", time_zone="America/Chicago"
    )
    user = User.objects.create_user(username="eh_director", password="x-unused-x")
    profile = StaffProfile.objects.create(user=user, organization=org, role="director")
    profile.sites.set([site])
    user.groups.add(Group.objects.get(name=role_group_name("director")))
    return user
