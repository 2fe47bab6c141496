"""The director's check-in schedules of one site (``?site=``): per instrument and level
of care, how often it falls due and whether at admission and discharge."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse

from core.access import site_ids_for, staff_required
from core.formviews import ServiceFormView
from core.models import Role, Site, User

from ..forms.settings import ScheduleSettingsForm
from ..models import MeasureSchedule
from ..services.settings import site_schedules_update

INSTRUMENT_ORDER = {"bam": 0, "phq9": 1, "gad7": 2}
LEVEL_ORDER = {"2.5": 0, "2.1": 1, "1.0": 2}


def _sites(user: User) -> list[Site]:
    staff = user.staff
    if staff is None:
        return []
    qs = Site.objects.filter(organization_id=staff.organization_id, is_active=True)
    ids = site_ids_for(user)
    return list((qs if ids is None else qs.filter(pk__in=ids)).order_by("name"))


class ScheduleSettingsView(ServiceFormView):
    template_name = "measures/settings.html"
    form_class = ScheduleSettingsForm
    error_status = 422
    site: Site
    sites: list[Site]

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.sites = _sites(self.request.user)
        if not self.sites:
            raise Http404("No site.")
        wanted = self.request.GET.get("site")
        chosen = next((s for s in self.sites if str(s.pk) == wanted), None) if wanted else None
        if wanted and chosen is None:
            raise Http404("No such site.")
        self.site = chosen or self.sites[0]
        self.schedules = sorted(
            MeasureSchedule.objects.filter(site=self.site),
            key=lambda r: (
                INSTRUMENT_ORDER.get(r.instrument_code, 9),
                r.instrument_code,
                LEVEL_ORDER.get(r.level, 9),
            ),
        )
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "schedules": self.schedules}

    def perform(self, form: ScheduleSettingsForm) -> Any:
        return site_schedules_update(
            actor=self.request.user, site=self.site, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return f"Check-in schedules of {self.site.name} saved."

    def get_success_url(self) -> str:
        return f"{reverse('measures:settings')}?site={self.site.pk}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(site=self.site, sites=self.sites, **kwargs)


schedule_settings = staff_required(Role.DIRECTOR)(ScheduleSettingsView.as_view())
