"""Route of the patient's rewards page (included by contingency.urls)."""

from django.urls import URLPattern, path

from ..views import portal

urlpatterns: list[URLPattern] = [
    path("mine/", portal.mine, name="mine"),
]
