"""The director's record rules of one site: note formats and the documentation clocks."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from core.access import get_or_deny, staff_required
from core.formviews import ServiceFormView
from core.models import Role, Site
from scheduling.selectors.access import site_choices, sites_for

from ..forms.settings import RecordSettingsForm
from ..models import RecordSettings
from ..services.settings import record_settings_update


class RecordSettingsView(ServiceFormView):
    template_name = "records/settings.html"
    form_class = RecordSettingsForm
    error_status = 422
    site: Site
    rules: RecordSettings

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.site = get_or_deny(
            self.request.user,
            sites_for(self.request.user),
            action="records.settings_view",
            message="No such site.",
            request=self.request,
            pk=kwargs["site_pk"],
        )
        self.rules = RecordSettings.for_site(self.site)
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "rules": self.rules}

    def perform(self, form: RecordSettingsForm) -> RecordSettings:
        return record_settings_update(
            actor=self.request.user, site=self.site, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return f"Record rules of {self.site.name} saved."

    def get_success_url(self) -> str:
        return reverse("records:settings", args=[self.site.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            site=self.site,
            sites=site_choices(self.request.user),
            saved=self.rules.pk is not None,
            **kwargs,
        )


record_settings = staff_required(Role.DIRECTOR)(RecordSettingsView.as_view())
