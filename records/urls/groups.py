"""Routes for group notes and sign-in sheets (included by records.urls)."""

from django.urls import URLPattern, path

from ..views import groups

urlpatterns: list[URLPattern] = [
    path("sessions/<int:pk>/group-note/", groups.group_note, name="group_note"),
    path("sessions/<int:pk>/group-note/sign/", groups.group_sign, name="group_sign"),
    path("sessions/<int:pk>/sign-in-sheet/", groups.signin_sheet, name="signin_sheet"),
]
