from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("mfa/", views.mfa, name="mfa"),
    path("session/renew/", views.session_keepalive, name="session_renew"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("emergency-access/<int:pk>/review/", views.break_glass_review, name="break_glass_review"),
    path("audit/", views.audit_list, name="audit"),
    path("patients/<int:pk>/access-log/", views.patient_access_log, name="patient_access_log"),
    path("patients/<int:pk>/disclose/", views.disclose, name="disclose"),
    path("disclosures/<int:pk>/", views.disclosure_detail, name="disclosure"),
]
