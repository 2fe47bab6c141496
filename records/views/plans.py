"""Treatment-plan pages: thin views over ``services.plans`` and ``selectors.plans``.

Who: the clinicians (director, counselor, medical) read and write plans of the patients
they may see; front desk and collectors do not see plans at all (a plan is clinical
content, like notes: CLINICAL.md, "Roles"); a patient reads and signs their own plan in
the portal. Every look at a plan or a version is an audit row; an object the user may not
see is a 404 with a denied row (``selectors.plans``).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from core import audit, clock
from core.access import PortalRequest, StaffRequest, patient_required, staff_required
from core.forms import add_service_errors
from core.formviews import ServiceFormView
from core.models import User
from measures.selectors.chart import Trend, trends_for
from patients.access import patient_get_for_user

from ..forms.plans import (
    PART_FORMS,
    InterventionForm,
    PatientSignForm,
    PlanSignForm,
    PlanVersionForm,
    PortalSignForm,
)
from ..models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    SignatureMethod,
)
from ..selectors.common import EpisodePlanDue
from ..selectors.plans import (
    ProblemRow,
    current_enrollment,
    episode_due,
    plan_get_for_user,
    plan_page,
    portal_versions,
    staff_for_site,
    version_get_for_user,
    version_tree,
    version_with_signatures,
)
from ..services._common import CLINICAL_ROLES
from ..services.plans import (
    PlanPartModel,
    plan_goal_add,
    plan_goal_update,
    plan_intervention_add,
    plan_intervention_update,
    plan_objective_add,
    plan_objective_update,
    plan_part_remove,
    plan_patient_sign,
    plan_patient_sign_portal,
    plan_problem_add,
    plan_problem_update,
    plan_review_start,
    plan_sign,
    plan_start,
    plan_version_update,
    signing_code_issue,
)

CLINICIANS = tuple(sorted(CLINICAL_ROLES))
PART_MODELS: dict[str, type[Model]] = {
    "problem": PlanProblem,
    "goal": PlanGoal,
    "objective": PlanObjective,
    "intervention": PlanIntervention,
}
PART_LABELS = {
    "problem": "problem",
    "goal": "goal",
    "objective": "objective",
    "intervention": "intervention",
}


def _audit_view(request: StaffRequest | PortalRequest, version: PlanVersion, page: str) -> None:
    audit.record(
        action="records.plan.view",
        request=request,
        patient_id=version.plan.patient_id,
        site_id=version.plan.enrollment.site_id,
        obj=version,
        detail={"page": page},
    )


def _version_url(version: PlanVersion) -> str:
    return reverse("records:plan_version", args=[version.pk])


def _edit_url(version: PlanVersion) -> str:
    return reverse("records:plan_edit", args=[version.pk])


# --- the plan page -------------------------------------------------------------------------


@staff_required(*CLINICIANS)
@require_http_methods(["GET"])
def plan(request: StaffRequest, pk: int) -> HttpResponse:
    """The plan in force, when the next review is due, and every version with who signed."""
    patient = patient_get_for_user(request.user, pk, request=request, action="records.plan.view")
    today = clock.site_today(patient.site)
    page = plan_page(patient, today)
    audit.record(
        action="records.plan.view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=page.in_force or patient,
        detail={"page": "plan"},
    )
    with timezone.override(patient.site.tz):
        return render(request, "records/plans/plan.html", {"page": page, "patient": patient})


@staff_required(*CLINICIANS)
@require_POST
def plan_start_view(request: StaffRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="records.plan.view")
    enrollment = current_enrollment(patient)
    back = reverse("records:plan", args=[patient.pk])
    if enrollment is None:
        messages.error(request, "This patient has no episode of care.")
        return redirect(back)
    try:
        version = plan_start(actor=request.user, enrollment=enrollment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, "Draft plan started.")
    return redirect(_edit_url(version))


@staff_required(*CLINICIANS)
@require_POST
def plan_review(request: StaffRequest, pk: int) -> HttpResponse:
    treatment_plan = plan_get_for_user(request.user, pk, request=request)
    back = reverse("records:plan", args=[treatment_plan.patient_id])
    try:
        version = plan_review_start(actor=request.user, plan=treatment_plan)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, f"Review started: version {version.number}, a draft.")
    return redirect(_edit_url(version))


# --- one version ---------------------------------------------------------------------------


def _version_context(version: PlanVersion) -> dict[str, Any]:
    return {
        "version": version,
        "patient": version.plan.patient,
        "tree": version_tree(version),
        "signatures": list(version.signatures.all()),
        "addenda": list(version.addenda.all()),
    }


@staff_required(*CLINICIANS)
@require_http_methods(["GET"])
def plan_version(request: StaffRequest, pk: int) -> HttpResponse:
    found = version_get_for_user(request.user, pk, request=request)
    version = version_with_signatures(found)
    _audit_view(request, version, "version")
    context = _version_context(version)
    context["can_edit"] = version.signed_at is None and version.author_id == request.user.pk
    context["due"] = _due_for(version)
    context["review_scores"] = review_scores(version)
    with timezone.override(version.plan.enrollment.site.tz):
        return render(request, "records/plans/version.html", context)


def review_scores(version: PlanVersion) -> tuple[datetime, list[Trend]] | None:
    """The standard measures since the last signed version (since admission for the
    first plan), for a draft: the clinician revises the plan from them (Joint Commission
    CTS.03.01.09). Two queries: the last signature, the sittings."""
    if version.signed_at is not None:
        return None
    last_signed = (
        PlanVersion.objects.filter(plan_id=version.plan_id, signed_at__isnull=False)
        .exclude(pk=version.pk)
        .order_by("-signed_at")
        .values_list("signed_at", flat=True)
        .first()
    )
    enrollment = version.plan.enrollment
    since = last_signed or clock.local_datetime(
        enrollment.admission_date, time.min, enrollment.site.tz
    )
    return since, trends_for(version.plan.patient, since=since)


def _due_for(version: PlanVersion) -> EpisodePlanDue | None:
    return episode_due(version.plan.enrollment)


class _VersionFormView(ServiceFormView):
    """A form about one version the user may see (its view is an audit row)."""

    version: PlanVersion
    page_name = ""

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.version = version_get_for_user(self.request.user, kwargs["pk"], request=self.request)
        if self.request.method == "GET":
            _audit_view(self.request, self.version, self.page_name)
        return None

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        # Rendered here, inside the site's zone: dates read on the patient's site clock.
        response = super().render_to_response(context, **kwargs)
        if isinstance(response, TemplateResponse):
            with timezone.override(self.version.plan.enrollment.site.tz):
                response.render()
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            version=self.version, patient=self.version.plan.patient, **kwargs
        )


class PlanEditView(_VersionFormView):
    """The draft editor: strengths and preferences here, and the parts' small forms
    (each posting to its own route) under them. A signed version sends the reader to its
    read-only page."""

    template_name = "records/plans/edit.html"
    form_class = PlanVersionForm
    page_name = "edit"
    success_message = "Draft saved."
    error_status = 422

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        if self.version.signed_at is not None and self.request.method == "GET":
            messages.info(self.request, "This version is signed and can no longer be changed.")
            return HttpResponseRedirect(_version_url(self.version))
        return None

    def get_initial(self) -> dict[str, Any]:
        return {"strengths": self.version.strengths, "preferences": self.version.preferences}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        tree = version_tree(self.version)
        staff = staff_for_site(
            self.version.plan.enrollment.site_id, self.version.plan.patient.organization_id
        )
        return super().get_context_data(
            tree=tree,
            add_forms=_add_forms(tree, staff),
            review_scores=review_scores(self.version),
            is_author=self.version.author_id == self.request.user.pk,
            **kwargs,
        )

    def perform(self, form: PlanVersionForm) -> PlanVersion:
        return plan_version_update(
            actor=self.request.user,
            version=self.version,
            strengths=form.cleaned_data["strengths"],
            preferences=form.cleaned_data["preferences"],
        )

    def get_success_url(self) -> str:
        return _edit_url(self.version)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


def _parents_from_tree(tree: list[ProblemRow]) -> dict[str, list[tuple[int, str]]]:
    goals = [g for p in tree for g in p.goals]
    objectives = [o for g in goals for o in g.objectives]
    return {
        "goal": [(p.problem.pk, _clip(p.problem.description)) for p in tree],
        "objective": [(g.goal.pk, _clip(g.goal.text)) for g in goals],
        "intervention": [(o.objective.pk, _clip(o.objective.text)) for o in objectives],
    }


ADD_HEADINGS = {
    "problem": ("Add a problem", "Add problem"),
    "goal": ("Add a goal, in the patient's words", "Add goal"),
    "objective": ("Add a measurable objective", "Add objective"),
    "intervention": ("Add an intervention", "Add intervention"),
}


def _add_forms(tree: list[ProblemRow], staff: QuerySet[User]) -> list[tuple[str, str, str, Any]]:
    """The editor's "add" forms, one per kind; a kind shows once it has a parent."""
    parents = _parents_from_tree(tree)
    found: list[tuple[str, str, str, Any]] = []
    for kind, (heading, button) in ADD_HEADINGS.items():
        if kind == "problem":
            form = PART_FORMS[kind](prefix=kind)
        elif not parents[kind]:
            continue
        elif kind == "intervention":
            form = InterventionForm(prefix=kind, parents=parents[kind], staff=staff)
        else:
            form = PART_FORMS[kind](prefix=kind, parents=parents[kind])
        found.append((kind, heading, button, form))
    return found


plan_edit = staff_required(*CLINICIANS)(PlanEditView.as_view())


class PlanPartView(_VersionFormView):
    """Add a part to a draft (``part_pk`` absent) or change one. Works without JavaScript:
    the editor's inline forms post here, and errors come back on this page."""

    template_name = "records/plans/part.html"
    page_name = "part"
    error_status = 422
    kind: str
    part: Any = None

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        self.kind = kwargs["kind"]
        if self.kind not in PART_FORMS:
            raise Http404("No such part.")
        if self.version.signed_at is not None and self.request.method == "GET":
            messages.info(self.request, "This version is signed and can no longer be changed.")
            return HttpResponseRedirect(_version_url(self.version))
        part_pk = kwargs.get("part_pk")
        if part_pk is not None:
            model = PART_MODELS[self.kind]
            self.part = model._default_manager.filter(version=self.version, pk=part_pk).first()
            if self.part is None:
                raise Http404("No such part.")
        return None

    def get_prefix(self) -> str | None:
        return self.kind

    def get_form_class(self) -> Any:
        return PART_FORMS[self.kind]

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if self.part is None and self.kind != "problem":
            kwargs["parents"] = _parents_from_tree(version_tree(self.version))[self.kind]
        if self.kind == "intervention":
            kwargs["staff"] = staff_for_site(
                self.version.plan.enrollment.site_id, self.version.plan.patient.organization_id
            )
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        part = self.part
        if part is None:
            return {"parent": self.request.GET.get("parent") or None}
        if isinstance(part, PlanProblem):
            return {"dimension": part.dimension, "description": part.description}
        if isinstance(part, PlanGoal):
            return {"text": part.text}
        if isinstance(part, PlanObjective):
            return {"text": part.text, "target_date": part.target_date, "status": part.status}
        return {
            "service_type": part.service_type,
            "frequency": part.frequency,
            "responsible": part.responsible_id,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(kind=self.kind, part=self.part, **kwargs)

    def perform(self, form: Any) -> Any:
        actor, version, data = self.request.user, self.version, form.service_kwargs()
        parent = form.cleaned_data.get("parent")
        part = self.part
        if part is None:
            if self.kind == "problem":
                return plan_problem_add(actor=actor, version=version, **data)
            if self.kind == "goal":
                return plan_goal_add(actor=actor, version=version, problem_id=parent, **data)
            if self.kind == "objective":
                return plan_objective_add(actor=actor, version=version, goal_id=parent, **data)
            return plan_intervention_add(actor=actor, version=version, objective_id=parent, **data)
        if isinstance(part, PlanProblem):
            return plan_problem_update(actor=actor, problem=part, **data)
        if isinstance(part, PlanGoal):
            return plan_goal_update(actor=actor, goal=part, **data)
        if isinstance(part, PlanObjective):
            return plan_objective_update(actor=actor, objective=part, **data)
        return plan_intervention_update(actor=actor, intervention=part, **data)

    def get_success_message(self) -> str:
        done = "added" if self.part is None else "saved"
        return f"{PART_LABELS[self.kind].capitalize()} {done}."

    def get_success_url(self) -> str:
        return _edit_url(self.version)


plan_part = staff_required(*CLINICIANS)(PlanPartView.as_view())


@staff_required(*CLINICIANS)
@require_POST
def plan_part_remove_view(request: StaffRequest, pk: int, kind: str, part_pk: int) -> HttpResponse:
    version = version_get_for_user(request.user, pk, request=request)
    model = PART_MODELS.get(kind)
    part = model._default_manager.filter(version=version, pk=part_pk).first() if model else None
    if part is None:
        raise Http404("No such part.")
    try:
        plan_part_remove(actor=request.user, part=cast(PlanPartModel, part))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_version_url(version))
    messages.success(request, f"{PART_LABELS[kind].capitalize()} removed.")
    return redirect(_edit_url(version))


# --- signatures ----------------------------------------------------------------------------


class PlanSignView(_VersionFormView):
    template_name = "records/plans/sign.html"
    form_class = PlanSignForm
    page_name = "sign"
    error_status = 422

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tree=version_tree(self.version), **kwargs)

    def perform(self, form: PlanSignForm) -> PlanVersion:
        return plan_sign(actor=self.request.user, version=self.version)

    def get_success_message(self) -> str:
        if self.result.requires_cosign:
            return "Plan signed. It waits for a licensed clinician's countersignature."
        return "Plan signed."

    def get_success_url(self) -> str:
        return _version_url(self.version)


plan_sign_view = staff_required(*CLINICIANS)(PlanSignView.as_view())


class PlanPatientSignView(_VersionFormView):
    """The patient signs on the staff screen: with their portal password, or with a code
    texted to them (the "Send a code" button posts ``send_code``)."""

    template_name = "records/plans/patient_sign.html"
    form_class = PatientSignForm
    page_name = "patient_sign"
    error_status = 422

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if "send_code" in request.POST:
            try:
                signing_code_issue(actor=self.request.user, version=self.version)
            except ValidationError as exc:
                form = PatientSignForm(initial={"method": SignatureMethod.ONE_TIME_CODE})
                add_service_errors(form, exc)
                return self.render_to_response(self.get_context_data(form=form), status=422)
            messages.success(self.request, "Code sent to the patient's phone; valid 10 minutes.")
            url = reverse("records:plan_patient_sign", args=[self.version.pk])
            return HttpResponseRedirect(f"{url}?method={SignatureMethod.ONE_TIME_CODE}")
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        method = self.request.GET.get("method")
        if method == SignatureMethod.ONE_TIME_CODE:
            return {"method": method}
        return {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tree=version_tree(self.version), **kwargs)

    def perform(self, form: PatientSignForm) -> PlanVersion:
        return plan_patient_sign(
            actor=self.request.user, version=self.version, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return "The patient has signed the plan."

    def get_success_url(self) -> str:
        return _version_url(self.version)


plan_patient_sign_view = staff_required(*CLINICIANS)(PlanPatientSignView.as_view())


# --- the portal ----------------------------------------------------------------------------


@patient_required
@require_http_methods(["GET", "POST"])
def portal_plan(request: PortalRequest) -> HttpResponse:
    """The patient's own signed plan (newest version first, earlier ones below), and the
    signature it waits for."""
    patient = request.patient
    versions = portal_versions(patient)
    current = versions[0] if versions else None
    form = PortalSignForm(request.POST or None, prefix="sign")
    if request.method == "POST":
        if current is None:
            raise Http404("No plan to sign.")
        if form.is_valid():
            try:
                plan_patient_sign_portal(patient_user=request.user, version=current)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, gettext("Thank you: you have signed your treatment plan.")
                )
                return redirect("records:portal_plan")
    if current is not None:
        _audit_view(request, current, "portal")
    else:
        audit.record(
            action="records.plan.view",
            request=request,
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=patient,
            detail={"page": "portal"},
        )
    context = {
        "patient": patient,
        "current": current,
        "earlier": versions[1:],
        "tree": version_tree(current) if current is not None else [],
        "form": form,
    }
    status = 422 if form.errors else 200
    with timezone.override(patient.site.tz):
        return render(request, "records/plans/portal.html", context, status=status)
