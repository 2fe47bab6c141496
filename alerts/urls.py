from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/snooze/", views.snooze, name="snooze"),
]
