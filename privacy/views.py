from __future__ import annotations

import base64
import time
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic.base import ContextMixin
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit
from core.access import StaffRequest, UserRequest, staff_required
from core.formviews import ServiceFormView, safe_next_url
from core.lockout import login_unlock
from core.models import AuditEvent, Role, User
from patients.access import patient_get_for_user
from patients.models import Patient

from . import selectors, services, tasks
from .forms import AuditFilterForm, BreakGlassForm, DisclosureForm, TokenForm
from .middleware import session_renew, session_seconds_left


@require_POST
def session_keepalive(request: UserRequest) -> JsonResponse:
    """ "Stay signed in" on the warning before the idle log-off: renews the signed-in
    user's own session (LoginRequiredMiddleware refuses an ended one) and says how long
    it now has. It reads and changes no record, so it leaves no audit row."""
    now = time.time()
    session_renew(request.session, now)
    return JsonResponse({"seconds_left": session_seconds_left(request.session, now)})


@staff_required()
def mfa(request: StaffRequest) -> HttpResponse:
    """Enrol a TOTP device on first use, then verify a code once per session."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    form = TokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit.record(action="auth.mfa_enrolled", request=request, obj=device)
        otp_login(request, device)
        audit.record(action="auth.mfa_verified", request=request)
        return redirect(safe_next_url(request, "/"))
    if request.method == "POST":
        audit.record(action="auth.mfa_failed", request=request, outcome=AuditEvent.Outcome.FAILED)
    context = {"form": form, "enrolling": enrolling, "next": safe_next_url(request, "/")}
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        context["config_url"] = device.config_url
    return render(request, "privacy/mfa.html", context)


@staff_required(Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK, Role.COLLECTOR, Role.DIRECTOR)
def break_glass(request: StaffRequest) -> HttpResponse:
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = selectors.patient_by_mrn(request.user, form.cleaned_data["mrn"].strip())
        if patient is None:
            audit.record(
                action="patient.break_glass",
                request=request,
                outcome=AuditEvent.Outcome.FAILED,
                detail={"reason": "unknown MRN"},
            )
            form.add_error("mrn", "No patient has that MRN.")
        elif selectors.patient_is_visible(request.user, patient):
            messages.info(request, "This patient is already in your care team's records.")
            return redirect("patients:chart", pk=patient.pk)
        else:
            try:
                services.break_glass_grant(
                    user=request.user,
                    patient=patient,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.warning(
                    request,
                    "Emergency access granted and recorded. The program director has been told.",
                )
                return redirect("patients:chart", pk=patient.pk)
    return render(request, "privacy/break_glass.html", {"form": form})


@require_POST
@staff_required(Role.DIRECTOR)
def break_glass_review(request: StaffRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_for_review(request.user, pk)
    services.break_glass_review(grant=grant, reviewer=request.user)
    messages.success(request, "Marked as reviewed.")
    return redirect("home")


@staff_required(Role.DIRECTOR)
def audit_list(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_events(form.cleaned_data if form.is_valid() else None)
    # Recorded first: the page is read lazily, and a row written between its count and
    # its slice would push the oldest row of the page off it.
    audit.record(action="audit.viewed", request=request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "privacy/audit_list.html", {"form": form, "page": page})


@staff_required(Role.DIRECTOR)
def patient_access_log(request: StaffRequest, pk: int) -> HttpResponse:
    """Who viewed or changed this patient's record (the director's 'who viewed' list)."""
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.access_log")
    page = Paginator(selectors.patient_audit_events(patient), 50).get_page(request.GET.get("page"))
    audit.record(
        action="patient.access_log_viewed", request=request, patient_id=patient.pk, obj=patient
    )
    return render(request, "privacy/access_log.html", {"patient": patient, "page": page})


class DiscloseView(ServiceFormView):
    template_name = "privacy/disclose.html"
    form_class = DisclosureForm
    patient: Patient

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action="patient.disclose"
        )
        today = timezone.localdate(timezone.now(), self.patient.site.tz)
        self.consents, self.current = selectors.current_consents(self.patient, today)
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "consents": self.current}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            patient=self.patient, has_consent=bool(self.consents), **kwargs
        )

    def perform(self, form: DisclosureForm) -> Any:
        return services.disclosure_create(
            actor=self.request.user,
            patient=self.patient,
            consent=form.cleaned_data["consent"],
            recipient=form.cleaned_data["recipient"],
            purpose=form.cleaned_data["purpose"],
            request=self.request,
        )

    def get_success_url(self) -> str:
        return reverse("privacy:disclosure", kwargs={"pk": self.result.pk})


disclose = staff_required(Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)(DiscloseView.as_view())


@staff_required(Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)
def disclosure_detail(request: StaffRequest, pk: int) -> HttpResponse:
    disclosure, patient = selectors.disclosure_get_for_user(request.user, pk, request=request)
    audit.record(
        action="disclosure.printed", request=request, patient_id=patient.pk, obj=disclosure
    )
    enrollments = selectors.disclosure_enrollments(patient)
    return render(
        request,
        "privacy/disclosure.html",
        {
            "disclosure": disclosure,
            "patient": patient,
            "enrollments": enrollments,
            "notice": services.PART2_NOTICE,
        },
    )


# --- the director's staff accounts -------------------------------------------------


@staff_required(Role.DIRECTOR)
def staff_accounts(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "privacy/accounts.html",
        {
            "rows": selectors.staff_accounts(request.user),
            "locked_patients": selectors.locked_portal_accounts(request.user),
            "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
        },
    )


@require_POST
@staff_required(Role.DIRECTOR)
def account_unlock(request: StaffRequest, pk: int) -> HttpResponse:
    user = selectors.account_for_director(
        request.user, pk, action="account.unlock", request=request
    )
    login_unlock(user=user, actor=request.user, request=request)
    messages.success(request, f"{user} can log in again now.")
    return redirect("privacy:accounts")


# --- passwords: reset by email, change when signed in ---------------------------------
# Django's views (the reset ones are open to anonymous visitors: login_not_required),
# with the writes moved into services so each is audited and ends the right sessions.


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("privacy:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        user_ids = services.password_reset_request(
            email=form.cleaned_data["email"], request=self.request
        )
        # Queued for every address, known or not (privacy/tasks.py says why).
        transaction.on_commit(partial(tasks.queue_password_reset, user_ids), robust=True)
        return HttpResponseRedirect(self.get_success_url())


class _SaysLinkLifetime(ContextMixin):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(lifetime=services.password_reset_lifetime(), **kwargs)


class PasswordResetDoneView(_SaysLinkLifetime, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(_SaysLinkLifetime, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("privacy:password_reset_complete")

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        services.password_reset_complete(
            user=form.user, password=form.cleaned_data["new_password1"], request=self.request
        )
        # The service ended every session of the account, perhaps this browser's own (a
        # reset made while signed in): a fresh anonymous session, not a save of a deleted
        # one (Django answers that with a 400). The reset token goes with it.
        self.request.session.flush()
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("privacy:password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        services.password_change(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            request=self.request,
        )
        return HttpResponseRedirect(self.get_success_url())


password_reset = PasswordResetView.as_view()
password_reset_done = PasswordResetDoneView.as_view()
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)
password_change = PasswordChangeView.as_view()
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="registration/password_change_done.html"
)
