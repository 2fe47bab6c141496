"""Reads of the alert queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.models import User
from patients.access import patients_visible_to

from .models import Alert, AlertState


def showing(now: datetime) -> Q:
    """Alerts that belong in a queue now: open, or snoozed until a time now past."""
    return Q(state=AlertState.OPEN) | Q(state=AlertState.SNOOZED, snoozed_until__lte=now)


def queue(
    *,
    now: datetime,
    patient_ids: Iterable[int],
    rules: frozenset[str] | None = None,
    covered_ids: Iterable[int] = (),
    covered_rules: frozenset[str] = frozenset(),
    owner: User | None = None,
    visible: QuerySet[Any] | None = None,
) -> list[Alert]:
    """The alerts of a queue in one query, most severe first, then by patient: those of
    ``patient_ids`` (of ``rules`` only, if given), those of ``covered_rules`` for the
    patients another clinician covers, and those the ``owner`` was given to act on."""
    scope = Q(patient_id__in=list(patient_ids))
    if rules is not None:
        scope &= Q(rule__in=rules)
    covered = list(covered_ids)
    if covered and covered_rules:
        scope |= Q(patient_id__in=covered, rule__in=covered_rules)
    if owner is not None:
        # What the owner was given to act on, of the patients they may see (``visible``).
        mine = Q(owner=owner)
        if visible is not None:
            mine &= Q(patient__in=visible.order_by().values("pk"))
        scope |= mine
    rows = list(
        Alert.objects.filter(showing(now) & scope)
        .select_related("patient__site")
        .order_by("raised_at", "pk")
    )
    return sorted(rows, key=lambda a: (a.severity_rank, a.patient_name, a.patient_id, a.kind))


def alert_for_user(user: User) -> QuerySet[Alert]:
    """Alerts ``user`` may act on: those of patients they may see (the patients app's
    access rule)."""
    return Alert.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "patient__site"
    )
