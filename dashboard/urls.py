from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("alerts/dismiss/", views.dismiss, name="dismiss"),
    path("compliance/", views.compliance, name="compliance"),
]
