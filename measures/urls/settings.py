from django.urls import URLPattern, path

from ..views import settings

urlpatterns: list[URLPattern] = [
    path("settings/", settings.schedule_settings, name="settings"),
]
