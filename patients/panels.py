"""Contributions of the patients app to pages several apps share."""

from __future__ import annotations

from core.panels import Panel

from .selectors import site_census


def staff_home(request, sites) -> Panel | None:
    """Census of the user's sites: open enrollments by status, level, track and phase.

    Counts only (no names), in one query whatever the number of patients.
    """
    if not sites:
        return None
    census = site_census([s.pk for s in sites])
    return Panel(template="patients/_census_panel.html", context={"sites": census}, order=10)
