from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .access import may_open
from .models import Role

D, C, M, F, X = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK, Role.COLLECTOR
EVERY_STAFF = (D, C, M, F, X)

# (label, url name, roles, in the main bar?). The rest sit under "More".
# Items whose view does not exist yet are skipped.
STAFF_NAV = [
    ("Home", "home", EVERY_STAFF, True),
    ("Caseload", "patients:caseload", (D, C, M, F), True),
    ("Calendar", "scheduling:calendar", (D, C, M, F), True),
    ("My sessions", "scheduling:my_sessions", (D, C, M), True),
    ("Notes owed", "records:queue", (D, C, M), True),
    ("Drug tests", "drugtests:today", (D, C, M, F, X), True),
    ("Lab results in", "labs:queue", (D, M), False),
    ("Review queue", "recovery:queue", (D, C), True),
    ("Rewards (CM)", "contingency:dashboard", (D, C, M, F), False),
    ("CM programs", "contingency:programs", (D,), False),
    ("Compliance grid", "dashboard:compliance", (D, C), True),
    ("Weekly hours", "scheduling:compliance", (D, C), False),
    ("Billing days", "scheduling:billing", (D, C, F), False),
    ("Meetings", "recovery:weekly", (D, C), False),
    ("Homework library", "recovery:library", (D, C), False),
    ("Court letters", "letters:batch_new", (D, C), False),
    ("Meeting requirements", "recovery:requirements", (D,), False),
    ("Notifications", "notifications:outbox", (D, C), False),
    ("Emergency access", "privacy:break_glass", (C, M, F, X), False),
    ("Reports", "reports:index", (D,), True),
    ("Audit trail", "privacy:audit", (D,), False),
    ("Staff accounts", "privacy:accounts", (D,), False),
    ("Backup codes", "privacy:backup_codes", EVERY_STAFF, False),
]
# Patient-facing: translated at render time into the patient's language.
PORTAL_NAV: list[tuple[str | Promise, str]] = [
    (_("Home"), "home"),
    (_("My schedule"), "scheduling:portal_schedule"),
    (_("Homework"), "recovery:portal_homework"),
    (_("Meetings"), "recovery:portal_meetings"),
    (_("My plan"), "records:portal_plan"),
    (_("My record"), "letters:my_record"),
    (_("Disclosures"), "letters:my_disclosures"),
    (_("Messages"), "notifications:inbox"),
]


def _resolve(items: Iterable[tuple[str | Promise, str]]) -> list[dict[str, str | Promise]]:
    out: list[dict[str, str | Promise]] = []
    for label, name in items:
        try:
            out.append({"label": label, "url": reverse(name), "name": name})
        except NoReverseMatch:
            continue
    return out


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if user.is_clinic_staff:
        # The roles listed say where an item belongs; may_open that its view lets the
        # role in (an item listing a role the view refuses would answer 403).
        mine = [item for item in STAFF_NAV if user.role in item[2] and may_open(user, item[1])]
        return {
            "nav_items": _resolve([(label, name) for label, name, _, main in mine if main]),
            "nav_more": _resolve([(label, name) for label, name, _, main in mine if not main]),
            "nav_kind": "staff",
        }
    if user.is_portal_patient:
        mine_portal = [(label, name) for label, name in PORTAL_NAV if may_open(user, name)]
        return {"nav_items": _resolve(mine_portal), "nav_kind": "portal"}
    return {"nav_items": []}
