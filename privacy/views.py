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
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit
from core.access import StaffRequest, UserRequest, second_factor_required, staff_required
from core.forms import add_service_errors
from core.formviews import ServiceFormView, safe_next_url
from core.lockout import login_unlock
from core.models import AuditEvent, Role, User
from patients.access import patient_get_for_user
from patients.models import Patient

from . import selectors, services, tasks
from .forms import AuditFilterForm, BreakGlassForm, DisclosureForm, MFAResetForm, TokenForm
from .mfa import qr_svg
from .middleware import session_renew, session_seconds_left


@require_POST
def session_keepalive(request: UserRequest) -> JsonResponse:
    """ "Stay signed in" on the warning before the idle log-off: renews the signed-in
    user's own session (LoginRequiredMiddleware refuses an ended one) and says how long
    it now has. It reads and changes no record, so it leaves no audit row."""
    now = time.time()
    session_renew(request.session, now)
    return JsonResponse({"seconds_left": session_seconds_left(request.session, now)})


@second_factor_required
def mfa(request: StaffRequest) -> HttpResponse:
    """Enrol a TOTP device on first use (then show the backup codes), else verify a code
    or a backup code once per session."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    form = TokenForm(request.POST or None, backup_codes=not enrolling)
    next_url = safe_next_url(request, "/")
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if enrolling:
            try:
                codes = services.mfa_enrol_confirm(device=device, token=token, request=request)
            except ValidationError as exc:
                audit.record(
                    action="auth.mfa_failed", request=request, outcome=AuditEvent.Outcome.FAILED
                )
                add_service_errors(form, exc)
            else:
                otp_login(request, device)
                return _backup_codes_page(request, codes, next_url, enrolled=True)
        else:
            verified = services.mfa_verify(user=user, token=token, request=request)
            if verified is not None:
                otp_login(request, verified)
                if isinstance(verified, StaticDevice):
                    left = verified.token_set.count()
                    messages.warning(
                        request,
                        f"Backup code used: {left} left. Make new ones under "
                        "More, Backup codes, once you have your authenticator back.",
                    )
                return redirect(next_url)
            form.add_error("token", services.TOKEN_REFUSED)
    elif request.method == "POST":
        audit.record(action="auth.mfa_failed", request=request, outcome=AuditEvent.Outcome.FAILED)
    context: dict[str, Any] = {"form": form, "enrolling": enrolling, "next": next_url}
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        context["qr_svg"] = qr_svg(
            device.config_url, label="QR code to add Stepwise to an authenticator app"
        )
    return render(request, "privacy/mfa.html", context)


def _backup_codes_page(
    request: StaffRequest, codes: list[str], next_url: str, *, enrolled: bool
) -> HttpResponse:
    # Shown once: rendered from the POST, never stored, and (as every page here) sent
    # no-store by core.middleware.SecurityHeadersMiddleware, so no cache keeps them.
    return render(
        request,
        "privacy/backup_codes_issued.html",
        {"codes": codes, "next": next_url, "enrolled": enrolled},
    )


@second_factor_required
def backup_codes(request: StaffRequest) -> HttpResponse:
    """How many backup codes are left; POST makes ten new ones (the old ones stop working)."""
    user = request.user
    here = reverse("privacy:backup_codes")
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.info(request, "Set up two-step verification first; backup codes come with it.")
        return redirect(f"{reverse('privacy:mfa')}?next={here}")
    # With MFA off site-wide a password alone opens this page: new codes are a second
    # factor, so they need the second step in this session whatever the setting.
    if not user.is_verified():  # type: ignore[attr-defined]
        return redirect(f"{reverse('privacy:mfa')}?next={here}")
    if request.method == "POST":
        codes = services.mfa_backup_codes_issue(user=user, request=request)
        return _backup_codes_page(request, codes, safe_next_url(request, "/"), enrolled=False)
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return render(request, "privacy/backup_codes.html", {"left": left})


@require_POST
@second_factor_required
def backup_codes_saved(request: StaffRequest) -> HttpResponse:
    """The 'I have saved them' step after the codes are shown: on to where the user was going."""
    return redirect(safe_next_url(request, "/"))


class MFAResetView(ServiceFormView):
    """A director resets a colleague's two-step verification (a lost phone)."""

    template_name = "privacy/mfa_reset.html"
    form_class = MFAResetForm
    target: User

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.target = selectors.staff_account_for_director(
            self.request.user, kwargs["pk"], action="auth.mfa_reset", request=self.request
        )
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            target=self.target,
            own_account=self.target.pk == self.request.user.pk,
            has_authenticator=TOTPDevice.objects.filter(user=self.target, confirmed=True).exists(),
            **kwargs,
        )

    def perform(self, form: MFAResetForm) -> Any:
        return services.mfa_reset(
            actor=self.request.user,
            user=self.target,
            reason=form.cleaned_data["reason"],
            request=self.request,
        )

    def get_success_message(self) -> str:
        return (
            f"Two-step verification reset for {self.target}: they set it up again at their "
            "next login."
        )

    def get_success_url(self) -> str:
        return reverse("privacy:mfa_reset", kwargs={"pk": self.target.pk})


mfa_reset = staff_required(Role.DIRECTOR)(MFAResetView.as_view())


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
