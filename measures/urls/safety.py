from django.urls import URLPattern, path

from ..views import safety as views

urlpatterns: list[URLPattern] = [
    path("safety/<int:pk>/", views.safety_followup, name="safety_followup"),
]
