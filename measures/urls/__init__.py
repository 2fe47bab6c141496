"""Measurement-based care's routes, one module per area (the patient's check-in,
safety follow-up, the chart's scores, staff entry with the patient, the director's
schedules), joined under one namespace."""

from . import chart, checkin, entry, safety, settings

app_name = "measures"

urlpatterns = [
    *checkin.urlpatterns,
    *safety.urlpatterns,
    *chart.urlpatterns,
    *entry.urlpatterns,
    *settings.urlpatterns,
]
