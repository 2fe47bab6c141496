from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("mfa/", views.mfa, name="mfa"),
    path("session/renew/", views.session_keepalive, name="session_renew"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
    path("backup-codes/saved/", views.backup_codes_saved, name="backup_codes_saved"),
    path("staff/<int:pk>/mfa-reset/", views.mfa_reset, name="mfa_reset"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("emergency-access/<int:pk>/review/", views.break_glass_review, name="break_glass_review"),
    path("audit/", views.audit_list, name="audit"),
    path("patients/<int:pk>/access-log/", views.patient_access_log, name="patient_access_log"),
    path("patients/<int:pk>/disclose/", views.disclose, name="disclose"),
    path("disclosures/<int:pk>/", views.disclosure_detail, name="disclosure"),
    path("accounts/", views.staff_accounts, name="accounts"),
    path("accounts/<int:pk>/unlock/", views.account_unlock, name="account_unlock"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("password/change/", views.password_change, name="password_change"),
    path("password/change/done/", views.password_change_done, name="password_change_done"),
]
