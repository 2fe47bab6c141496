from django.urls import path

from . import views

app_name = "labs"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("inbound/<int:pk>/", views.inbound, name="inbound"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("messages/<int:pk>/match/", views.match, name="match"),
    path("messages/<int:pk>/retry/", views.retry, name="retry"),
    path("messages/<int:pk>/close/", views.close, name="close"),
    path("codes/", views.codes, name="codes"),
    path("codes/<int:pk>/", views.code_edit, name="code"),
    path("laboratories/", views.interfaces, name="interfaces"),
    path("laboratories/<int:pk>/", views.interface_edit, name="interface"),
    path("laboratories/<int:pk>/token/", views.interface_token, name="interface_token"),
]
