"""Contributions of the patients app to pages several apps share."""

from __future__ import annotations

from core.access import UserRequest
from core.models import Site
from core.panels import Panel, register

from .models import Patient
from .selectors import site_census


@register("staff_home", order=10)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    """Census of the user's sites: open enrollments by status, level, track and phase.

    Counts only (no names), in one query whatever the number of patients.
    """
    if not sites:
        return None
    census = site_census([s.pk for s in sites])
    return Panel(template="patients/_census_panel.html", context={"sites": census})


@register("portal_home", order=5)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    """Days in the program: a plain count, from the current episode's admission."""
    from django.utils import timezone

    from .selectors import patient_enrollments

    # Read through the patient (the meeting-compliance card below reads them too).
    enrollment = next((e for e in patient_enrollments(patient) if e.is_open), None)
    if enrollment is None:
        return None
    today = timezone.localdate(timezone.now(), patient.site.tz)
    days = (today - enrollment.admission_date).days + 1
    return Panel(
        template="patients/_portal_days.html",
        context={"days": max(days, 1), "since": enrollment.admission_date},
    )
