from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from alerts.models import Alert
from alerts.selectors import queue
from core import clock
from core.access import UserRequest, staff_sites
from core.models import Role, Site, User
from core.panels import Panel, register
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES

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
    """The open alerts of ``user``'s queue (and those snoozed until a time now past), most
    severe first, in a fixed number of queries whatever the caseload. The rows are kept
    by ``alerts.services.alerts_reconcile``; this only reads them."""
    staff = user.staff
    if staff is None or staff.role not in (Role.COUNSELOR, Role.MEDICAL):
        return []
    now = clock.now(now)
    # The lowest-numbered of the user's sites, as ``first()`` picks, from the sites the
    # request has read already.
    sites = [] if staff.sees_all_sites else staff_sites(staff)
    site = min(sites, key=lambda s: s.pk) if sites else None
    tz = site.tz if site else timezone.get_default_timezone()
    today = timezone.localdate(now, tz)
    may_see = patients_visible_to(user)
    visible = may_see.filter(enrollments__status__in=OPEN_STATUSES)
    patients = visible
    if user.role == Role.COUNSELOR:
        # A counselor's queue is their own caseload; the rest of what they may see is
        # other counselors' work.
        patients = patients.filter(primary_counselor=user)
    ids = list(patients.values_list("pk", flat=True).distinct())
    covered: list[int] = []
    if staff.on_duty:
        uncovered = visible.filter(
            Q(primary_counselor__isnull=True)
            | Q(primary_counselor__staff_profile__away_until__gte=today)
        ).exclude(primary_counselor=user)
        covered = list(uncovered.values_list("pk", flat=True).distinct())
    return queue(
        now=now,
        patient_ids=ids,
        rules=MEDICAL_RULES if user.role == Role.MEDICAL else None,
        covered_ids=covered,
        covered_rules=COVERAGE_RULES,
        # A counselor also acts on what they were made the owner of (a group they ran
        # whose attendance is not taken); medical staff's queue is their rules only.
        owner=user if user.role == Role.COUNSELOR else None,
        visible=may_see,
    )


@dataclass
class PatientAlerts:
    patient_id: int
    patient_name: str
    alerts: list[Alert]


def by_patient(alerts: list[Alert]) -> list[PatientAlerts]:
    """The queue grouped by patient, the patient with the most severe alert first."""
    groups: dict[int, PatientAlerts] = {}
    for a in alerts:  # already most severe first
        group = groups.get(a.patient_id)
        if group is None:
            group = groups[a.patient_id] = PatientAlerts(a.patient_id, a.patient_name, [])
        group.alerts.append(a)
    return list(groups.values())


@register("staff_home", order=1)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in (Role.COUNSELOR, Role.MEDICAL):
        return None
    alerts = alerts_for(request.user)
    return Panel(
        "dashboard/_alerts.html",
        {"alerts": alerts, "groups": by_patient(alerts), "next": request.get_full_path()},
    )
