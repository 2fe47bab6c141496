"""Reads of the safety follow-up: one event the staff member may see, with the sitting's
answers; the open events a director's home lists."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from core.access import get_or_deny
from core.models import User
from patients.access import patients_visible_to

from ..models import Answer, SafetyEvent

OPEN_SHOWN = 20


def safety_event_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None
) -> SafetyEvent:
    """An event of a patient the user may see, or 404 with an audit row."""
    return get_or_deny(
        user,
        SafetyEvent.objects.filter(patient__in=patients_visible_to(user)).select_related(
            "patient__site",
            "patient__primary_counselor",
            "administration__instrument",
            "followup_by",
            "owner",
        ),
        action="measures.safety_event_view",
        message="No such safety follow-up.",
        request=request,
        pk=pk,
    )


def sitting_answers(event: SafetyEvent) -> QuerySet[Answer]:
    return event.administration.answers.select_related("item").order_by("item__number")


def open_safety_events(user: User) -> list[SafetyEvent]:
    """The oldest open events of the patients the user may see (one query, capped)."""
    return list(
        SafetyEvent.objects.filter(patient__in=patients_visible_to(user), followup_at__isnull=True)
        .select_related("patient__site", "administration__instrument", "owner")
        .order_by("raised_at", "pk")[:OPEN_SHOWN]
    )
