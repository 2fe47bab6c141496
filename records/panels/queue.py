"""The staff home's "You owe" panel: a clinician's drafts, overdue notes, plans due and
co-signatures waiting, with a link to the queue (the queue's fixed number of queries)."""

from __future__ import annotations

from django.urls import reverse

from core.access import UserRequest
from core.models import Site
from core.panels import Panel, register

from ..selectors.queue import owed_summary
from ..services._common import CLINICAL_ROLES


@register("staff_home", order=6)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in CLINICAL_ROLES:
        return None
    owed = owed_summary(request.user, viewer=request.user)
    return Panel(
        template="records/queue/_panel_staff_home.html",
        context={"owed": owed, "queue_url": reverse("records:queue")},
    )
