from django.urls import path

from . import views

app_name = "drugtests"

urlpatterns = [
    path("", views.today, name="today"),
    path("tests/<int:pk>/", views.selection_detail, name="selection"),
    path("tests/<int:pk>/collect/", views.collect, name="collect"),
    path("tests/<int:pk>/refuse/", views.refuse, name="refuse"),
    path("tests/<int:pk>/result/", views.enter_result, name="result"),
    path("tests/<int:pk>/excuse/", views.excuse, name="excuse"),
    path("tests/<int:pk>/label/", views.label, name="label"),
    path("labels/", views.labels, name="labels"),
    path("collect/", views.collect_unselected, name="collect_unselected"),
    path("patients/<int:patient_pk>/for-cause/", views.for_cause, name="for_cause"),
    path("alerts/<int:pk>/resolve/", views.resolve_alert, name="resolve_alert"),
    path("draws/", views.draw_list, name="draws"),
    path("draws/<int:pk>/", views.draw_detail, name="draw"),
    path("draws/verify/", views.verify, name="verify"),
    path("fairness/", views.fairness, name="fairness"),
    path("report/", views.site_report_view, name="report"),
]
