from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .middleware import session_seconds_left


def session_timer(request: HttpRequest) -> dict[str, Any]:
    """What the page's countdown to the idle log-off needs (templates/base.html)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_seconds_left": session_seconds_left(request.session),
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
