"""Staff screens of contingency management: the CM dashboard, an episode's ledger with
its reward and reconcile forms, enrolment and the end of an episode. Rewards are
computed from results by the ledger service; nothing here types an earning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import audit, clock
from core.access import StaffRequest, get_or_deny, staff_required
from core.formviews import ServiceFormView
from patients.access import patient_get_for_user
from patients.models import Patient

from ..forms.episodes import EndForm, EnrollForm, IssueForm, ReconcileForm
from ..models import CMEnrollment, LedgerEntry, Program
from ..selectors.ledger import episode_state, ledger_for
from ..selectors.screens import (
    CM_ROLES,
    active_programs,
    analytes_label,
    describe,
    entries_visible_to,
    episodes_visible_to,
)
from ..selectors.screens import (
    dashboard as dashboard_data,
)
from ..services.ledger import cm_end, cm_enroll, reward_issue, reward_reconcile


@staff_required(*CM_ROLES)
def dashboard(request: StaffRequest) -> HttpResponse:
    data = dashboard_data(request.user)
    return render(request, "contingency/dashboard.html", {"data": data})


def _episode_get(request: StaffRequest, pk: int, action: str) -> CMEnrollment:
    return get_or_deny(
        request.user,
        episodes_visible_to(request.user),
        action=action,
        message="No such episode.",
        request=request,
        pk=pk,
    )


def episode_context(
    request: StaffRequest, episode: CMEnrollment, *, issue_form: IssueForm | None = None
) -> dict[str, Any]:
    """What the episode page shows: the ledger in words, the state, the forms."""
    state = episode_state(episode)
    entries = list(ledger_for(episode))
    analytes = analytes_label(episode.program.target_analytes)
    reconciled = {e.related_id for e in entries if e.kind == LedgerEntry.Kind.RECONCILED}
    rows = [
        {
            "entry": e,
            "words": describe(e, analytes=analytes),
            "reconciled": e.pk in reconciled,
        }
        for e in entries
    ]
    active = episode.status == CMEnrollment.Status.ACTIVE
    return {
        "episode": episode,
        "patient": episode.patient,
        "state": state,
        "rows": rows,
        "issue_form": issue_form
        if issue_form is not None
        else (IssueForm(balance=state.balance, prefix="issue") if state.balance > 0 else None),
        "reconcile_form": ReconcileForm(prefix="reconcile"),
        "active": active,
    }


@staff_required(*CM_ROLES)
def episode(request: StaffRequest, pk: int) -> HttpResponse:
    found = _episode_get(request, pk, "contingency.episode_view")
    audit.record(
        action="contingency.episode_view",
        request=request,
        patient_id=found.patient_id,
        site_id=found.patient.site_id,
        obj=found,
    )
    return render(request, "contingency/episode.html", episode_context(request, found))


class IssueView(ServiceFormView):
    """Hand out a reward from the balance (a voucher or card id is required)."""

    template_name = "contingency/episode.html"
    form_class = IssueForm
    error_status = 422
    request: StaffRequest
    episode: CMEnrollment
    balance: Decimal

    def get_prefix(self) -> str:
        return "issue"

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.episode = _episode_get(self.request, kwargs["pk"], "contingency.reward_issue")
        if self.request.method != "POST":
            return HttpResponseRedirect(reverse("contingency:episode", args=[self.episode.pk]))
        self.balance = episode_state(self.episode).balance
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "balance": self.balance}

    def perform(self, form: IssueForm) -> LedgerEntry:
        return reward_issue(
            actor=self.request.user,
            cm_enrollment=self.episode,
            amount=form.cleaned_data["amount"],
            reward_ref=form.cleaned_data["reward_ref"],
            note=form.cleaned_data["note"],
        )

    def get_success_message(self) -> str:
        return f"Reward of ${-self.result.amount:,.2f} handed out ({self.result.reward_ref})."

    def get_success_url(self) -> str:
        return reverse("contingency:episode", args=[self.episode.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.pop("form", None)
        return super().get_context_data(
            **episode_context(self.request, self.episode, issue_form=form), **kwargs
        )


issue = staff_required(*CM_ROLES)(IssueView.as_view())


@staff_required(*CM_ROLES)
@require_POST
def reconcile(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark a reward handed out as reconciled (card activation confirmed, voucher
    redeemed); an error comes back as a message on the episode page."""
    entry = get_or_deny(
        request.user,
        entries_visible_to(request.user).filter(kind=LedgerEntry.Kind.ISSUED),
        action="contingency.reward_reconcile",
        message="No such reward.",
        request=request,
        pk=pk,
    )
    form = ReconcileForm(request.POST, prefix="reconcile")
    target = reverse("contingency:episode", args=[entry.enrollment_id])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Not reconciled: {error}")
        return HttpResponseRedirect(target)
    try:
        reward_reconcile(actor=request.user, entry=entry, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, f"Not reconciled: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"Reward {entry.reward_ref} reconciled.")
    return HttpResponseRedirect(target)


class EnrollView(ServiceFormView):
    template_name = "contingency/enroll.html"
    form_class = EnrollForm
    error_status = 422
    request: StaffRequest
    patient: Patient
    programs: list[Program]

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user,
            kwargs["patient_id"],
            request=self.request,
            action="contingency.enroll",
        )
        self.programs = active_programs(self.patient.site)
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "programs": self.programs,
            "today": clock.site_today(self.patient.site),
        }

    def perform(self, form: EnrollForm) -> CMEnrollment:
        return cm_enroll(
            actor=self.request.user,
            program=form.cleaned_data["program"],
            patient=self.patient,
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
        )

    def get_success_message(self) -> str:
        return f"{self.patient.display_name} enrolled in {self.result.program.name}."

    def get_success_url(self) -> str:
        return reverse("contingency:episode", args=[self.result.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            patient=self.patient,
            programs=self.programs,
            current=episodes_visible_to(self.request.user)
            .filter(patient=self.patient, status=CMEnrollment.Status.ACTIVE)
            .first(),
            **kwargs,
        )


enroll = staff_required(*CM_ROLES)(EnrollView.as_view())


class EndView(ServiceFormView):
    template_name = "contingency/end.html"
    form_class = EndForm
    error_status = 422
    request: StaffRequest
    episode: CMEnrollment

    def get_prefix(self) -> str:
        return "end"

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.episode = _episode_get(self.request, kwargs["pk"], "contingency.end")
        return None

    def perform(self, form: EndForm) -> CMEnrollment:
        return cm_end(
            actor=self.request.user,
            cm_enrollment=self.episode,
            reason=form.cleaned_data["reason"],
        )

    def get_success_message(self) -> str:
        return f"Episode of {self.episode.patient.display_name} ended."

    def get_success_url(self) -> str:
        return reverse("contingency:episode", args=[self.episode.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(episode=self.episode, **kwargs)


end = staff_required(*CM_ROLES)(EndView.as_view())
