"""Routes for progress notes and addenda (included by records.urls)."""

from django.urls import URLPattern, path

from ..views import notes

urlpatterns: list[URLPattern] = [
    path("patients/<int:pk>/notes/", notes.patient_notes, name="patient_notes"),
    path("patients/<int:pk>/notes/new/", notes.note_new, name="note_new"),
    path("notes/<int:pk>/", notes.note_detail, name="note"),
    path("notes/<int:pk>/edit/", notes.note_edit, name="note_edit"),
    path("notes/<int:pk>/sign/", notes.note_sign_view, name="note_sign"),
    path("notes/<int:pk>/addendum/", notes.note_addendum, name="note_addendum"),
    path("plans/versions/<int:pk>/addendum/", notes.plan_addendum, name="plan_addendum"),
]
