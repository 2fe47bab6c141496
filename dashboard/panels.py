from django.utils import timezone

from core.models import Role
from core.panels import Panel
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES

from .models import AlertDismissal
from .rules import collect_alerts


def alerts_for(user, now=None):
    now = now or timezone.now()
    staff = user.staff
    site = staff.sites.first() if not staff.sees_all_sites else None
    tz = site.tz if site else timezone.get_default_timezone()
    today = timezone.localdate(now, tz)
    patients = patients_visible_to(user).filter(enrollments__status__in=OPEN_STATUSES)
    if user.role == Role.COUNSELOR:
        # A counselor's queue is their own caseload; the rest of what they may see is
        # other counselors' work.
        patients = patients.filter(primary_counselor=user)
    dismissed = set(AlertDismissal.objects.filter(user=user).values_list("key", flat=True))
    return [a for a in collect_alerts(patients, today) if a.key not in dismissed]


def staff_home(request, sites):
    if request.user.role == Role.COLLECTOR:
        return None
    return Panel("dashboard/_alerts.html", {"alerts": alerts_for(request.user)}, order=1)
