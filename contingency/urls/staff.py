"""Routes of the staff CM screens (included by contingency.urls)."""

from django.urls import URLPattern, path

from ..views import staff

urlpatterns: list[URLPattern] = [
    path("", staff.dashboard, name="dashboard"),
    path("episodes/<int:pk>/", staff.episode, name="episode"),
    path("episodes/<int:pk>/issue/", staff.issue, name="issue"),
    path("episodes/<int:pk>/end/", staff.end, name="end"),
    path("entries/<int:pk>/reconcile/", staff.reconcile, name="reconcile"),
    path("patients/<int:patient_id>/enroll/", staff.enroll, name="enroll"),
]
