"""A staff member's sites are read once a request (core.access.staff_sites), and a change
made through the profile is seen at once."""

import pytest

from core.access import site_ids_for, staff_sites
from core.models import User
from patients.access import patients_visible_to

pytestmark = pytest.mark.django_db


def test_the_sites_are_read_once_per_profile(counselor, django_assert_num_queries):
    user = User.objects.select_related("staff_profile").get(pk=counselor.pk)
    with django_assert_num_queries(1):
        first = staff_sites(user.staff)
        site_ids_for(user)
        staff_sites(user.staff)
    assert [s.pk for s in first] == site_ids_for(user)


def test_the_access_rule_reads_the_sites_once_however_often_it_is_asked(
    counselor, make_patient, django_assert_num_queries
):
    make_patient()  # on the counselor's caseload (the fixture's default)
    user = User.objects.select_related("staff_profile").get(pk=counselor.pk)
    list(patients_visible_to(user))
    # Later calls run only the patients query: the sites are not read again.
    with django_assert_num_queries(2):
        list(patients_visible_to(user))
        list(patients_visible_to(user))


def test_a_site_added_through_the_profile_is_seen_at_once(counselor, site, other_site):
    user = User.objects.select_related("staff_profile").get(pk=counselor.pk)
    assert other_site.pk not in site_ids_for(user)
    user.staff.sites.add(other_site)
    assert other_site.pk in (site_ids_for(user) or [])
