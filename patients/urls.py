from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("intake/", views.intake, name="intake"),
    path("language/", views.language_set, name="language"),
    path("<int:pk>/", views.chart, name="chart"),
    path("<int:pk>/timeline/", views.timeline, name="timeline"),
    path("<int:pk>/demographics/", views.demographics, name="demographics"),
    path("<int:pk>/phase/", views.change_phase, name="change_phase"),
    path("<int:pk>/track/", views.change_track, name="change_track"),
    path("<int:pk>/level/", views.change_level, name="change_level"),
    path("<int:pk>/counselor/", views.change_counselor, name="change_counselor"),
    path("<int:pk>/hold/", views.hold, name="hold"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/discharge/", views.discharge, name="discharge"),
    path("<int:pk>/readmit/", views.readmit, name="readmit"),
    path(
        "<int:pk>/scheduled/<int:change_pk>/cancel/",
        views.scheduled_change_cancel,
        name="scheduled_change_cancel",
    ),
    path("<int:pk>/medications/add/", views.medication_add, name="medication_add"),
    path(
        "<int:pk>/medications/<int:order_pk>/stop/",
        views.medication_stop,
        name="medication_stop",
    ),
    path(
        "<int:pk>/medications/<int:order_pk>/injection/",
        views.medication_injection_due,
        name="medication_injection_due",
    ),
    path("<int:pk>/consents/add/", views.consent_add, name="consent_add"),
    path(
        "<int:pk>/consents/<int:consent_pk>/revoke/",
        views.consent_revoke,
        name="consent_revoke",
    ),
]
