from __future__ import annotations

from django.utils import timezone

from core.access import UserRequest
from core.models import Role, Site
from core.panels import Panel, register
from patients.models import Patient

from .models import BreakGlassGrant, Disclosure


@register("staff_home", order=5)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    staff = request.user.staff
    if staff is None or staff.role != Role.DIRECTOR:
        return None
    grants = list(
        BreakGlassGrant.objects.filter(
            reviewed_at__isnull=True, patient__organization_id=staff.organization_id
        ).select_related("user", "patient")[:20]
    )
    if not grants:
        return None
    return Panel("privacy/_home_break_glass.html", {"grants": grants})


@register("chart", order=90)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    user = request.user
    grant = (
        BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )
    return Panel(
        "privacy/_chart_privacy.html",
        {
            "patient_id": patient.pk,
            "disclosures": list(Disclosure.objects.filter(patient=patient)[:10]),
            "break_glass": grant,
            "can_disclose": user.role in (Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK),
            "is_director": user.role == Role.DIRECTOR,
        },
    )
