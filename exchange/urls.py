from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("my-record/fhir/", views.my_bundle, name="my_bundle"),
    path("patients/<int:pk>/fhir/", views.patient_bundle, name="patient_bundle"),
]
