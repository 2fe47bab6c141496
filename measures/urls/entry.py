from django.urls import path

from ..views import entry

urlpatterns = [
    path("patients/<int:patient_id>/enter/<slug:code>/", entry.staff_entry, name="staff_entry"),
]
