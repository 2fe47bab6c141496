from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("core.urls")),
    path("patients/", include("patients.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("drugtests/", include("drugtests.urls")),
    path("recovery/", include("recovery.urls")),
    path("records/", include("records.urls")),
    path("measures/", include("measures.urls")),
    path("contingency/", include("contingency.urls")),
    path("labs/", include("labs.urls")),
    path("notifications/", include("notifications.urls")),
    path("alerts/", include("alerts.urls")),
    path("privacy/", include("privacy.urls")),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("letters/", include("letters.urls")),
    path("exchange/", include("exchange.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
handler403 = "core.views.permission_denied"
