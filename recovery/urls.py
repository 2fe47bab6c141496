from django.urls import path

from . import views

app_name = "recovery"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("weekly/", views.weekly, name="weekly"),
    path("meetings/<int:pk>/review/", views.meeting_review, name="meeting_review"),
    path("submissions/<int:pk>/review/", views.homework_review, name="homework_review"),
    path("patients/<int:pk>/", views.patient_recovery, name="patient"),
    path("library/", views.library, name="library"),
    path("requirements/", views.requirements, name="requirements"),
    path("files/<int:pk>/", views.staff_file, name="file"),
    path("my/meetings/", views.portal_meetings, name="portal_meetings"),
    path("my/homework/", views.portal_homework, name="portal_homework"),
    path(
        "my/homework/<int:pk>/submit/", views.portal_homework_submit, name="portal_homework_submit"
    ),
    path("my/files/<int:pk>/", views.portal_file, name="portal_file"),
]
