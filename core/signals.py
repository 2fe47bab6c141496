from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal
from django.http import HttpRequest

from . import audit
from .models import AuditEvent, User

# Domain events with no model save of their own to listen to (a conditional UPDATE),
# sent inside the writing transaction; receivers act on commit only. The alert queue
# resolves the alerts they settle.
test_alerts_resolved = Signal()  # kwargs: patient_ids (list[int]); drug-test findings
safety_followup_recorded = Signal()  # kwargs: patient_ids (list[int]); PHQ-9 item 9


def _logged_in(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit.record(action="auth.login", actor=user, request=request)
    if request is not None and hasattr(request, "session"):
        # Looked up once at login, so no page pays a query for the viewer's zone.
        from .middleware import remember_home_clock

        remember_home_clock(request.session, user)


def _logged_out(
    sender: object, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        audit.record(action="auth.logout", actor=user, request=request)


def _login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The username tried is kept (it is how brute force is spotted); never the password.
    audit.record(
        action="auth.login_failed",
        request=request,
        outcome=AuditEvent.Outcome.FAILED,
        actor_label=str(credentials.get("username", ""))[:150],
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
