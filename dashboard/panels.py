from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from core import clock
from core.access import UserRequest
from core.alerts import SEVERITY_ORDER, Alert, collect_alerts
from core.models import Role, Site, User
from core.panels import Panel, register
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Patient

from .models import AlertDismissal

# Whose queue holds what. A counselor's queue is their caseload, every rule. Medical staff
# act on injections and drug-test findings at their sites. The director has no caseload:
# their home carries break-glass reviews, and the compliance grid and reports give the
# clinic-wide view (an org-wide queue was 16,000 alerts and 3 s at 5,000 patients).
MEDICAL_RULES = frozenset({"injection_due", "drug_test_findings"})
# Urgent work that cannot wait for an away counselor: an on-duty clinician's queue adds
# these rules' alerts for the patients they may see whose counselor is away or who have
# none (the counselor's own queue keeps them too).
COVERAGE_RULES = frozenset({"safety_followup_due"})


def alerts_for(user: User, now: datetime | None = None) -> list[Alert]:
    staff = user.staff
    if staff is None or staff.role not in (Role.COUNSELOR, Role.MEDICAL):
        return []
    now = clock.now(now)
    site = staff.sites.first() if not staff.sees_all_sites else None
    tz = site.tz if site else timezone.get_default_timezone()
    today = timezone.localdate(now, tz)
    visible = patients_visible_to(user).filter(enrollments__status__in=OPEN_STATUSES)
    patients = visible
    if user.role == Role.COUNSELOR:
        # A counselor's queue is their own caseload; the rest of what they may see is
        # other counselors' work.
        patients = patients.filter(primary_counselor=user)
    # Resolve the access rule once: every rule then filters by a plain id list instead of
    # re-planning the access query inside its own (measured: 39 ms -> 2 ms a rule).
    patients = Patient.objects.filter(pk__in=list(patients.values_list("pk", flat=True)))
    dismissed = set(AlertDismissal.objects.filter(user=user).values_list("key", flat=True))
    only = MEDICAL_RULES if user.role == Role.MEDICAL else None
    alerts = collect_alerts(patients, today, only=only)
    if staff.on_duty:
        seen = {(a.key, a.patient_id) for a in alerts}
        uncovered = visible.filter(
            Q(primary_counselor__isnull=True)
            | Q(primary_counselor__staff_profile__away_until__gte=today)
        ).exclude(primary_counselor=user)
        covered = Patient.objects.filter(pk__in=list(uncovered.values_list("pk", flat=True)))
        extra = collect_alerts(covered, today, only=COVERAGE_RULES)
        alerts = sorted(
            [*alerts, *(a for a in extra if (a.key, a.patient_id) not in seen)],
            key=lambda a: (SEVERITY_ORDER[a.severity], a.patient_name, a.kind),
        )
    # A dismissal never hides an alert that must stay until its work is done.
    return [a for a in alerts if not a.dismissible or a.key not in dismissed]


@register("staff_home", order=1)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in (Role.COUNSELOR, Role.MEDICAL):
        return None
    return Panel("dashboard/_alerts.html", {"alerts": alerts_for(request.user)})
