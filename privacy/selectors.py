"""Reads of the privacy app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from core.models import User

from .models import BreakGlassGrant


def break_glass_patient_ids(user: User) -> QuerySet[Any]:
    """Patients the user holds a live break-glass grant for (a time-limited, audited grant
    outside the care team), as a ``values("patient_id")`` subquery for the access rule."""
    return BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values(
        "patient_id"
    )
