"""Contingency management's routes, one module per area (staff: enrolment, rewards,
the CM dashboard; the patient's portal page; the director's program settings), joined
under one namespace."""

from . import portal, settings, staff

app_name = "contingency"

urlpatterns = [
    *staff.urlpatterns,
    *portal.urlpatterns,
    *settings.urlpatterns,
]
