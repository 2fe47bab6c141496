from django import template

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
    "pending": "Waiting for staff to check",
    "verified": "Counted",
    "rejected": "Not counted",
    "assigned": "To do",
    "submitted": "Sent, waiting for review",
    "returned": "Returned: see the comment",
    "accepted": "Done",
    "overdue": "Late: please send it soon",
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
    return _PORTAL_WORDS.get(str(status), str(status))
