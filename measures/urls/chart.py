from django.urls import path

from ..views import chart

urlpatterns = [
    path("patients/<int:patient_id>/", chart.patient_scores, name="patient_scores"),
    path("patients/<int:patient_id>/request/", chart.request_due, name="request"),
    path("administrations/<int:pk>/", chart.administration, name="administration"),
]
