"""The staff's safety follow-up of an answer that needs one (PHQ-9 item 9 above 0): the
sitting's answers, how to reach the patient, their safety notes, and the record of what
was done. Recording it clears the urgent alert."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from core.access import staff_required
from core.formviews import ServiceFormView, safe_next_url
from core.models import Role

from ..forms.safety import SafetyFollowupForm
from ..models import SafetyEvent
from ..selectors.safety import safety_event_get_for_user, sitting_answers
from ..services.safety import safety_followup_record

SAFETY_ROLES = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL)


class SafetyFollowupView(ServiceFormView):
    form_class = SafetyFollowupForm
    template_name = "measures/safety_followup.html"
    error_status = 422
    success_message = "Safety follow-up recorded."
    event: SafetyEvent

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.event = safety_event_get_for_user(
            self.request.user, kwargs["pk"], request=self.request
        )
        return None

    def get_form(self, form_class: Any = None) -> Any:
        if self.event.followup_at is not None:
            # Recorded already: the page shows the record, and a stale form posts nothing.
            return SafetyFollowupForm()
        return super().get_form(form_class)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.event.followup_at is not None:
            context = self.get_context_data(form=SafetyFollowupForm(), already=True)
            return self.render_to_response(context, status=self.error_status)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def perform(self, form: Any) -> SafetyEvent:
        return safety_followup_record(
            actor=self.request.user,
            event=self.event,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
        )

    def get_success_url(self) -> str:
        return safe_next_url(self.request, reverse("home"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            event=self.event,
            patient=self.event.patient,
            answers=[(a, a.item.option(a.value)) for a in sitting_answers(self.event)],
            tz=self.event.patient.site.tz,
        )
        return context


safety_followup = staff_required(*SAFETY_ROLES)(SafetyFollowupView.as_view())
