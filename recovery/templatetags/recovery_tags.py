from django import template
from django.utils.translation import gettext, gettext_lazy

from patients.compliance import ComplianceStatus

register = template.Library()

_BADGES = {
    "pending": "text-bg-warning",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
    "assigned": "text-bg-secondary",
    "submitted": "text-bg-info",
    "returned": "text-bg-warning",
    "accepted": "text-bg-success",
    "overdue": "text-bg-danger",
}

_PORTAL_WORDS = {
    "pending": gettext_lazy("Waiting for staff to check"),
    "verified": gettext_lazy("Counted"),
    "rejected": gettext_lazy("Not counted"),
    "assigned": gettext_lazy("To do"),
    "submitted": gettext_lazy("Sent, waiting for review"),
    "returned": gettext_lazy("Returned: see the comment"),
    "accepted": gettext_lazy("Done"),
    "overdue": gettext_lazy("Late: please send it soon"),
}


@register.filter
def badge(status: str) -> str:
    """Bootstrap classes for a status badge (meetings, homework or a week's compliance)."""
    if str(status) in ComplianceStatus.values:
        return f"text-bg-{ComplianceStatus(str(status)).colour}"
    return _BADGES.get(str(status), "text-bg-secondary")


@register.filter
def plain(status: str) -> str:
    """Plain-language words for a status, for the portal."""
    word = _PORTAL_WORDS.get(str(status))
    return gettext(str(word)) if word is not None else str(status)
