from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("<int:pk>/", views.chart, name="chart"),
]
