"""Routes for what clinicians owe and co-signing (included by records.urls)."""

from django.urls import URLPattern, path

from ..views import queue

urlpatterns: list[URLPattern] = [
    path("queue/", queue.queue, name="queue"),
    path("notes/<int:pk>/cosign/", queue.note_cosign, name="note_cosign"),
    path("plans/versions/<int:pk>/cosign/", queue.plan_cosign, name="plan_cosign"),
    path("groups/<int:pk>/cosign/", queue.group_cosign, name="group_cosign"),
]
