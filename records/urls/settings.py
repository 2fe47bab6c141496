"""Routes for the director's record rules (included by records.urls)."""

from django.urls import URLPattern, path

from ..views import settings

urlpatterns: list[URLPattern] = [
    path("sites/<int:site_pk>/settings/", settings.record_settings, name="settings"),
]
