from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import audit
from .models import AuditEvent


def add_service_errors(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form, by field where the form has it.

    ``field_map`` renames a service argument to the form field that carries it (e.g. a
    service's ``arrived_at`` shown on the form's ``arrived``).
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = (field_map or {}).get(name, name)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _recent_failures(**filters) -> int:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    return AuditEvent.objects.filter(action="auth.login_failed", at__gte=since, **filters).count()


class LoginForm(AuthenticationForm):
    error_messages = {
        # Says neither which part was wrong nor whether the account exists.
        "invalid_login": "That username and password do not match. Please try again.",
        "inactive": "That username and password do not match. Please try again.",
        "locked": "Too many failed attempts. Wait {minutes} minutes, or call the front desk.",
    }

    def clean(self):
        # Checked before the password, so a locked account cannot be probed further. The
        # count comes from the audit trail's failed-login rows, per username and per IP.
        username = (self.cleaned_data.get("username") or "")[:150]
        ip = audit.client_ip(self.request)
        locked = _recent_failures(actor_label=username) >= settings.LOGIN_LOCKOUT_ATTEMPTS or (
            ip is not None and _recent_failures(ip=ip) >= settings.LOGIN_LOCKOUT_IP_ATTEMPTS
        )
        if locked and username:
            audit.record(
                action="auth.login_locked",
                request=self.request,
                outcome=AuditEvent.Outcome.DENIED,
                actor_label=username,
            )
            raise ValidationError(
                self.error_messages["locked"].format(minutes=settings.LOGIN_LOCKOUT_MINUTES),
                code="locked",
            )
        return super().clean()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in", css_class="w-100"))
