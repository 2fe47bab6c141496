from django.urls import URLPattern, path

from ..views import checkin as views

urlpatterns: list[URLPattern] = [
    path("checkins/", views.checkins, name="checkins"),
    path("checkins/<int:pk>/q/<int:number>/", views.checkin_item, name="checkin_item"),
    path("checkins/<int:pk>/language/", views.checkin_language, name="checkin_language"),
    path("checkins/<int:pk>/review/", views.checkin_review, name="checkin_review"),
    path("checkins/<int:pk>/done/", views.checkin_done, name="checkin_done"),
]
