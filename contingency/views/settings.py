"""The director's CM programs: the list, a new program, a program's settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from core.access import StaffRequest, get_or_deny, staff_required
from core.formviews import ServiceFormView
from core.models import Role, Site
from scheduling.selectors.access import site_choices

from ..forms.programs import ProgramForm
from ..models import Program
from ..selectors.screens import analytes_label, programs_for
from ..services.programs import program_save


@staff_required(Role.DIRECTOR)
def programs(request: StaffRequest) -> HttpResponse:
    rows = list(programs_for(request.user).order_by("site__name", "name", "pk"))
    return render(
        request,
        "contingency/programs.html",
        {"programs": [(p, analytes_label(p.target_analytes)) for p in rows]},
    )


class ProgramView(ServiceFormView):
    template_name = "contingency/program_form.html"
    form_class = ProgramForm
    error_status = 422
    program: Program | None = None
    sites: list[Site]

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.sites = site_choices(self.request.user)
        if "pk" in kwargs:
            self.program = get_or_deny(
                self.request.user,
                programs_for(self.request.user),
                action="contingency.program_view",
                message="No such program.",
                request=self.request,
                pk=kwargs["pk"],
            )
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": self.sites, "program": self.program}

    def perform(self, form: ProgramForm) -> Program:
        site = self.program.site if self.program is not None else form.cleaned_data["site"]
        return program_save(
            actor=self.request.user, site=site, program=self.program, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return f"Program {self.result.name} of {self.result.site.name} saved."

    def get_success_url(self) -> str:
        return reverse("contingency:programs")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(program=self.program, **kwargs)


program_edit = staff_required(Role.DIRECTOR)(ProgramView.as_view())
program_new = staff_required(Role.DIRECTOR)(ProgramView.as_view())
