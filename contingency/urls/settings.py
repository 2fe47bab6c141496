"""Routes of the director's CM program settings (included by contingency.urls)."""

from django.urls import URLPattern, path

from ..views import settings

urlpatterns: list[URLPattern] = [
    path("programs/", settings.programs, name="programs"),
    path("programs/new/", settings.program_new, name="program_new"),
    path("programs/<int:pk>/", settings.program_edit, name="program_edit"),
]
