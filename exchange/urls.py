from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("my-record.json", views.my_bundle, name="my_bundle"),
    path("patients/<int:pk>/record.json", views.patient_bundle, name="patient_bundle"),
]
