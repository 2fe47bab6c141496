from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("preferences/", views.preferences, name="preferences"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/resend/", views.resend, name="resend"),
    path("read/", views.staff_mark_read, name="staff_mark_read"),
    path("sms/inbound/", views.sms_inbound, name="sms_inbound"),
]
