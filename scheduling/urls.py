from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("my-sessions/", views.my_sessions, name="my_sessions"),
    path("compliance/", views.compliance, name="compliance"),
    path("billing/", views.billing, name="billing"),
    path("holidays/", views.holidays, name="holidays"),
    path("holidays/change/", views.holiday_change, name="holiday_change"),
    path("sessions/<int:pk>/", views.attendance, name="attendance"),
    path(
        "sessions/<int:pk>/attendance/<int:patient_pk>/",
        views.attendance_mark,
        name="attendance_mark",
    ),
    path("sessions/<int:pk>/all-present/", views.attendance_all_present, name="all_present"),
    path("sessions/<int:pk>/make-up/", views.attendance_make_up, name="make_up"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/move/", views.session_move, name="session_move"),
    path("tracks/<int:pk>/", views.track_detail, name="track"),
    path("tracks/<int:pk>/series/new/", views.series_create, name="series_create"),
    path("series/<int:pk>/edit/", views.series_edit, name="series_edit"),
    path("patients/<int:patient_pk>/book/", views.book_individual, name="book"),
    path("portal/schedule/", views.portal_schedule, name="portal_schedule"),
    path("portal/calendar-link/", views.portal_feed, name="portal_feed"),
    path("feed/<str:token>.ics", views.ical_feed, name="ical_feed"),
]
