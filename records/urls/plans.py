"""Routes for plans (included by records.urls)."""

from django.urls import URLPattern, path

from ..views import plans as views

urlpatterns: list[URLPattern] = [
    path("patients/<int:pk>/plan/", views.plan, name="plan"),
    path("patients/<int:pk>/plan/new/", views.plan_start_view, name="plan_start"),
    path("plans/versions/<int:pk>/", views.plan_version, name="plan_version"),
    path("plans/versions/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/versions/<int:pk>/sign/", views.plan_sign_view, name="plan_sign"),
    path(
        "plans/versions/<int:pk>/patient-sign/",
        views.plan_patient_sign_view,
        name="plan_patient_sign",
    ),
    path("plans/versions/<int:pk>/<str:kind>/add/", views.plan_part, name="plan_part_add"),
    path(
        "plans/versions/<int:pk>/<str:kind>/<int:part_pk>/edit/",
        views.plan_part,
        name="plan_part_edit",
    ),
    path(
        "plans/versions/<int:pk>/<str:kind>/<int:part_pk>/remove/",
        views.plan_part_remove_view,
        name="plan_part_remove",
    ),
    path("plans/<int:pk>/review/", views.plan_review, name="plan_review"),
    path("my/plan/", views.portal_plan, name="portal_plan"),
]
