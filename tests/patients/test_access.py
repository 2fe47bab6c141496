"""The access rule, branch by branch (patients/access.py): what a counselor sees is their
caseload, the open rosters of the groups they run at their sites, every patient of a
site that widened access, and break-glass grants; nothing else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from patients.access import patients_visible_to
from patients.services.enrollment import enrollment_discharge
from privacy.models import BreakGlassGrant
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


def visible(user) -> set[int]:
    return set(patients_visible_to(user).values_list("pk", flat=True))


def test_counselor_sees_own_caseload_not_a_colleagues(counselor, other_counselor, make_patient):
    mine = make_patient()
    theirs = make_patient(counselor_user=other_counselor)
    assert visible(counselor) == {mine.pk}
    assert visible(other_counselor) == {theirs.pk}


def test_counselor_sees_the_open_roster_of_a_group_they_run(
    counselor, other_counselor, make_patient, track
):
    on_my_group = make_patient(counselor_user=other_counselor, track=track)
    assert on_my_group.pk in visible(counselor)


def test_a_discharged_patient_leaves_the_facilitators_view(
    counselor, other_counselor, make_patient, track
):
    gone = make_patient(counselor_user=other_counselor, track=track)
    enrollment_discharge(
        actor=other_counselor,
        enrollment=gone.enrollments.get(),
        discharge_date=date(2026, 10, 1),
        discharge_type="completed",
        aftercare_plan="OP",
    )
    assert gone.pk not in visible(counselor)


def test_a_site_that_widens_access_shows_all_its_patients_and_no_other_sites(
    counselor, other_counselor, outside_counselor, make_patient, site, other_site
):
    theirs = make_patient(counselor_user=other_counselor)
    west = make_patient(counselor_user=outside_counselor, at_site=other_site)
    site.counselors_see_whole_site = True
    site.save(update_fields=["counselors_see_whole_site"])
    seen = visible(counselor)
    assert theirs.pk in seen and west.pk not in seen


def test_a_roster_at_another_site_is_not_enough(
    counselor, outside_counselor, make_patient, other_site
):
    from patients.models import Track

    west_group = Track.objects.create(
        site=other_site, name="West", kind="day", level="2.1", default_facilitator=counselor
    )
    west = make_patient(counselor_user=outside_counselor, at_site=other_site, track=west_group)
    assert west.pk not in visible(counselor)


def test_break_glass_opens_one_chart_until_it_expires(
    counselor, outside_counselor, make_patient, other_site
):
    west = make_patient(counselor_user=outside_counselor, at_site=other_site)
    now = timezone.now()
    BreakGlassGrant.objects.create(
        user=counselor,
        patient=west,
        reason="Crisis call",
        granted_at=now - timedelta(hours=5),
        expires_at=now - timedelta(hours=1),
    )
    assert west.pk not in visible(counselor)
    BreakGlassGrant.objects.create(
        user=counselor,
        patient=west,
        reason="Crisis call again",
        granted_at=now,
        expires_at=now + timedelta(hours=4),
    )
    assert west.pk in visible(counselor)


def test_front_desk_sees_its_site_only(frontdesk, make_patient, outside_counselor, other_site):
    here = make_patient()
    make_patient(counselor_user=outside_counselor, at_site=other_site)
    assert visible(frontdesk) == {here.pk}
