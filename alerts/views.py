"""Staff setting an alert aside from the home's queue: thin views over the services."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from core import clock
from core.access import get_or_deny, staff_required
from core.formviews import ServiceFormView, safe_next_url
from core.models import Role

from .forms import AcknowledgeForm, SnoozeForm
from .models import Alert
from .selectors import alert_for_user
from .services import alert_acknowledge, alert_snooze


class _AlertFormView(ServiceFormView):
    template_name = "alerts/set_aside.html"
    error_status = 422
    alert: Alert
    verb = ""

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.alert = get_or_deny(
            self.request.user,
            alert_for_user(self.request.user),
            action="alerts.denied",
            message="No such alert.",
            request=self.request,
            pk=kwargs["pk"],
        )
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            alert=self.alert,
            verb=self.verb,
            next=safe_next_url(self.request, reverse("home")),
            **kwargs,
        )

    def get_success_url(self) -> str:
        return safe_next_url(self.request, reverse("home"))


class AcknowledgeView(_AlertFormView):
    form_class = AcknowledgeForm
    verb = "Acknowledge"
    success_message = "Alert acknowledged: it leaves the queue until its cause is resolved."

    def perform(self, form: AcknowledgeForm) -> Any:
        return alert_acknowledge(
            actor=self.request.user, alert=self.alert, reason=form.cleaned_data["reason"]
        )


class SnoozeView(_AlertFormView):
    form_class = SnoozeForm
    verb = "Snooze"
    success_message = "Alert snoozed."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "today": clock.site_today(self.alert.patient.site)}

    def perform(self, form: SnoozeForm) -> Any:
        tz = self.alert.patient.site.tz
        return alert_snooze(
            actor=self.request.user,
            alert=self.alert,
            until=clock.local_datetime(form.cleaned_data["until"], time(0), tz),
            reason=form.cleaned_data["reason"],
        )


_ROLES = (Role.COUNSELOR, Role.MEDICAL, Role.DIRECTOR)
acknowledge = staff_required(*_ROLES)(AcknowledgeView.as_view())
snooze = staff_required(*_ROLES)(SnoozeView.as_view())
