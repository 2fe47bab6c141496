from django.urls import NoReverseMatch, reverse

from .models import Role

D, C, M, F, X = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK, Role.COLLECTOR
EVERY_STAFF = (D, C, M, F, X)

# (label, url name, roles). Items whose view does not exist yet are skipped.
STAFF_NAV = [
    ("Home", "home", EVERY_STAFF),
    ("Caseload", "patients:caseload", (D, C, M, F)),
    ("Calendar", "scheduling:calendar", (D, C, M, F)),
    ("My sessions", "scheduling:my_sessions", (D, C, M)),
    ("Compliance", "scheduling:compliance", (D, C)),
    ("Drug tests", "drugtests:today", (D, C, M, F, X)),
    ("Review queue", "recovery:queue", (D, C)),
    ("Meetings", "recovery:weekly", (D, C)),
    ("Homework library", "recovery:library", (D, C)),
    ("Meeting requirements", "recovery:requirements", (D,)),
    ("Emergency access", "privacy:break_glass", (C, M, F)),
    ("Reports", "reports:index", (D,)),
    ("Audit trail", "privacy:audit", (D,)),
]
PORTAL_NAV = [
    ("Home", "home"),
    ("My schedule", "scheduling:portal_schedule"),
    ("Homework", "recovery:portal_homework"),
    ("Meetings", "recovery:portal_meetings"),
]


def _resolve(items):
    out = []
    for label, name in items:
        try:
            out.append({"label": label, "url": reverse(name), "name": name})
        except NoReverseMatch:
            continue
    return out


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if user.is_clinic_staff:
        items = [(label, name) for label, name, roles in STAFF_NAV if user.role in roles]
        return {"nav_items": _resolve(items), "nav_kind": "staff"}
    if user.is_portal_patient:
        return {"nav_items": _resolve(PORTAL_NAV), "nav_kind": "portal"}
    return {"nav_items": []}
